import * as T from '../tensor/index.js';
import { Module, Conv2d, BatchNorm2d, Linear, MaxPool2d, AdaptiveAvgPool2d, Sequential } from '../nn/index.js';
import { SpotdiffError } from '../util/errors.js';
import { BasicBlock, Bottleneck, conv1x1, consume, reluInPlace, runSequential, type BlockKind, type ResidualBlock } from './resnet-blocks.js';
import { RESNET_ARCHS, type ResNetArch } from './backbone-names.js';

export { RESNET_ARCHS, isResNetArch, type ResNetArch } from './backbone-names.js';

interface ResNetSpec {
  block: BlockKind;
  layers: readonly [number, number, number, number];
  widthPerGroup: number;
}

const SPECS: Record<ResNetArch, ResNetSpec> = {
  resnet18: { block: 'basic', layers: [2, 2, 2, 2], widthPerGroup: 64 },
  resnet50: { block: 'bottleneck', layers: [3, 4, 6, 3], widthPerGroup: 64 },
  wide_resnet50_2: { block: 'bottleneck', layers: [3, 4, 6, 3], widthPerGroup: 128 },
};

export interface ResNetOptions {
  /** Outputs of the final fully connected layer (torchvision's default: 1000, ImageNet). */
  numClasses?: number;
}

/**
 * torchvision 0.14's ResNet (v1.5: stride on the 3×3 conv of bottlenecks), with its parameter
 * names (conv1, bn1, layer1..layer4 with downsample.0/.1, fc), its registration order and its
 * initialisation (kaiming_normal_ fan_out/relu for convolutions, BatchNorm weight 1 / bias 0,
 * Linear's default; zero_init_residual off). Seeded with T.manualSeed, it draws the same
 * random numbers in the same order as torchvision, so the initial weights are the same.
 */
export class ResNet extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly maxpool: MaxPool2d;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly layer4: Sequential;
  readonly avgpool: AdaptiveAvgPool2d;
  readonly fc: Linear;
  /** Channels out of layer1..layer4. */
  readonly stageChannels: readonly [number, number, number, number];

  constructor(readonly arch: ResNetArch, opts: ResNetOptions = {}) {
    super();
    const spec = SPECS[arch];
    if (spec === undefined) throw new SpotdiffError('ERR_BAD_INPUT', `unknown backbone "${String(arch)}"; choose one of ${RESNET_ARCHS.join(', ')}`);
    const expansion = spec.block === 'basic' ? BasicBlock.expansion : Bottleneck.expansion;
    let inPlanes = 64;
    const makeLayer = (planes: number, blocks: number, stride: number): Sequential => {
      // torchvision builds the shortcut before the first block (it is an argument to it).
      const downsample =
        stride !== 1 || inPlanes !== planes * expansion ? new Sequential(conv1x1(inPlanes, planes * expansion, stride), new BatchNorm2d(planes * expansion)) : null;
      const list: ResidualBlock[] = [makeBlock(spec, inPlanes, planes, stride, downsample)];
      inPlanes = planes * expansion;
      for (let i = 1; i < blocks; i++) list.push(makeBlock(spec, inPlanes, planes, 1, null));
      return new Sequential(...list);
    };
    this.conv1 = this.registerModule('conv1', new Conv2d(3, 64, 7, { stride: 2, padding: 3, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(64));
    this.maxpool = this.registerModule('maxpool', new MaxPool2d(3, 2, 1));
    this.layer1 = this.registerModule('layer1', makeLayer(64, spec.layers[0], 1));
    this.layer2 = this.registerModule('layer2', makeLayer(128, spec.layers[1], 2));
    this.layer3 = this.registerModule('layer3', makeLayer(256, spec.layers[2], 2));
    this.layer4 = this.registerModule('layer4', makeLayer(512, spec.layers[3], 2));
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.fc = this.registerModule('fc', new Linear(512 * expansion, opts.numClasses ?? 1000));
    this.stageChannels = [64 * expansion, 128 * expansion, 256 * expansion, 512 * expansion];
    initLikeTorchvision(this);
  }

  /** The four residual stages, in order. */
  get stages(): readonly [Sequential, Sequential, Sequential, Sequential] {
    return [this.layer1, this.layer2, this.layer3, this.layer4];
  }

  /** Checks the input is a float [N, 3, H, W] batch, with a message that names the model. */
  checkInput(x: T.Tensor): void {
    if (x.rank !== 4 || x.shape[1] !== 3) {
      throw new SpotdiffError('ERR_SHAPE', `${this.arch} takes a batch of RGB images [N, 3, H, W], got shape [${x.shape.join(', ')}]`);
    }
    if (x.dtype !== 'float32' && x.dtype !== 'float64' && x.dtype !== 'float16' && x.dtype !== 'bfloat16') {
      throw new SpotdiffError('ERR_DTYPE', `${this.arch} takes floating-point input, got ${x.dtype}`);
    }
  }

  /** conv1-bn1-relu-maxpool: [N,3,H,W] -> [N,64,H/4,W/4]. */
  stem(x: T.Tensor): T.Tensor {
    this.checkInput(x);
    let out = this.conv1.forward(x);
    out = consume(out, (t) => this.bn1.forward(t));
    out = reluInPlace(out);
    return consume(out, (t) => this.maxpool.forward(t));
  }

  /** Residual stage i (0..3) on x; its inner results are freed as soon as they are used. */
  runStage(i: 0 | 1 | 2 | 3, x: T.Tensor): T.Tensor {
    return runSequential(this.stages[i], x);
  }

  /** Global average pool and flatten: [N,C,h,w] -> [N,C]. */
  pool(x: T.Tensor): T.Tensor {
    return consume(this.avgpool.forward(x), (t) => T.flatten(t, 1));
  }

  /** Logits [N, numClasses]. Only the result survives, even outside a tidy scope. */
  forward(x: T.Tensor): T.Tensor {
    return T.tidy(() => {
      let out = this.stem(x);
      for (const i of [0, 1, 2, 3] as const) out = consume(out, (t) => this.runStage(i, t));
      out = consume(out, (t) => this.pool(t));
      return consume(out, (t) => this.fc.forward(t));
    });
  }
}

function makeBlock(spec: ResNetSpec, inPlanes: number, planes: number, stride: number, downsample: Sequential | null): ResidualBlock {
  return spec.block === 'basic' ? new BasicBlock(inPlanes, planes, stride, downsample) : new Bottleneck(inPlanes, planes, stride, downsample, spec.widthPerGroup);
}

/** Every module under m, depth first in registration order (torch's Module.modules()). */
function* modulesOf(m: Module): Generator<Module> {
  yield m;
  for (const [, c] of m.children()) yield* modulesOf(c);
}

/** torchvision's ResNet.__init__ loop: it runs after every layer drew its default init. */
function initLikeTorchvision(model: ResNet): void {
  T.noGrad(() => {
    for (const m of modulesOf(model)) {
      if (m instanceof Conv2d) T.kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
      else if (m instanceof BatchNorm2d) {
        T.fillInPlace(m.weight, 1);
        T.fillInPlace(m.bias, 0);
      }
    }
  });
}

export const resnet18 = (opts: ResNetOptions = {}): ResNet => new ResNet('resnet18', opts);
export const resnet50 = (opts: ResNetOptions = {}): ResNet => new ResNet('resnet50', opts);
export const wideResnet50_2 = (opts: ResNetOptions = {}): ResNet => new ResNet('wide_resnet50_2', opts);
