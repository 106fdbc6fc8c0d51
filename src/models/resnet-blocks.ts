import * as T from '../tensor/index.js';
import { Module, Conv2d, BatchNorm2d, Sequential } from '../nn/index.js';

/**
 * torchvision 0.14's residual blocks (torchvision/models/resnet.py), with the same child
 * names and registration order, so state dict keys and order match torchvision's.
 */

export const conv3x3 = (inPlanes: number, outPlanes: number, stride = 1): Conv2d =>
  new Conv2d(inPlanes, outPlanes, 3, { stride, padding: 1, bias: false });

export const conv1x1 = (inPlanes: number, outPlanes: number, stride = 1): Conv2d =>
  new Conv2d(inPlanes, outPlanes, 1, { stride, bias: false });

/** torchvision's ReLU(inplace=True): overwrites x and returns it (one activation buffer fewer, as in PyTorch). */
export function reluInPlace(x: T.Tensor): T.Tensor {
  T.reluInPlace(x);
  return x;
}

/**
 * Applies `f` to an intermediate result and frees that intermediate's handle at once.
 * In PyTorch an activation that backward does not need is freed as soon as the next op has
 * run; a handle held by a tidy scope would keep it alive until the whole step ends (the
 * training loop's peak memory). Autograd keeps its own references to what it saved.
 */
export function consume(x: T.Tensor, f: (t: T.Tensor) => T.Tensor): T.Tensor {
  const y = f(x);
  if (y !== x) x.dispose();
  return y;
}

/** Sequential.forward, freeing each inner result once the next layer has used it (x is the caller's). */
export function runSequential(seq: Sequential, x: T.Tensor): T.Tensor {
  let out = x;
  for (const m of seq.layers) out = out === x ? m.forward(out) : consume(out, (t) => m.forward(t));
  return out;
}

/** conv3x3-bn-relu-conv3x3-bn, plus the shortcut, then relu (ResNet-18/34). */
export class BasicBlock extends Module {
  static readonly expansion = 1;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;

  constructor(inPlanes: number, planes: number, stride = 1, downsample: Sequential | null = null) {
    super();
    this.conv1 = this.registerModule('conv1', conv3x3(inPlanes, planes, stride));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', conv3x3(planes, planes));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.downsample = downsample === null ? null : this.registerModule('downsample', downsample);
  }

  forward(x: T.Tensor): T.Tensor {
    let out = this.conv1.forward(x);
    out = consume(out, (t) => this.bn1.forward(t));
    out = reluInPlace(out);
    out = consume(out, (t) => this.conv2.forward(t));
    out = consume(out, (t) => this.bn2.forward(t));
    return addShortcutAndRelu(out, x, this.downsample);
  }
}

/**
 * conv1x1-bn-relu-conv3x3-bn-relu-conv1x1-bn, plus the shortcut, then relu (ResNet-50,
 * Wide ResNet). As torchvision (ResNet v1.5), the stride sits on the 3×3 convolution; the
 * inner width is planes × widthPerGroup/64 (128 for Wide ResNet-50-2, which doubles it).
 */
export class Bottleneck extends Module {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly downsample: Sequential | null;

  constructor(inPlanes: number, planes: number, stride = 1, downsample: Sequential | null = null, widthPerGroup = 64) {
    super();
    const width = Math.trunc(planes * (widthPerGroup / 64));
    this.conv1 = this.registerModule('conv1', conv1x1(inPlanes, width));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(width));
    this.conv2 = this.registerModule('conv2', conv3x3(width, width, stride));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(width));
    this.conv3 = this.registerModule('conv3', conv1x1(width, planes * Bottleneck.expansion));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(planes * Bottleneck.expansion));
    this.downsample = downsample === null ? null : this.registerModule('downsample', downsample);
  }

  forward(x: T.Tensor): T.Tensor {
    let out = this.conv1.forward(x);
    out = consume(out, (t) => this.bn1.forward(t));
    out = reluInPlace(out);
    out = consume(out, (t) => this.conv2.forward(t));
    out = consume(out, (t) => this.bn2.forward(t));
    out = reluInPlace(out);
    out = consume(out, (t) => this.conv3.forward(t));
    out = consume(out, (t) => this.bn3.forward(t));
    return addShortcutAndRelu(out, x, this.downsample);
  }
}

export type BlockKind = 'basic' | 'bottleneck';
export type ResidualBlock = BasicBlock | Bottleneck;

/** out += shortcut(x); relu_(out), in place as torchvision (out is the block's own bn output). */
function addShortcutAndRelu(out: T.Tensor, x: T.Tensor, downsample: Sequential | null): T.Tensor {
  const identity = downsample === null ? x : runSequential(downsample, x);
  T.addInPlace(out, identity);
  if (identity !== x) identity.dispose();
  return reluInPlace(out);
}
