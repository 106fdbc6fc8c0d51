import * as T from '../tensor/index.js';
import { Module, type BatchNorm2d, type Conv2d, type MaxPool2d, type Sequential } from '../nn/index.js';
import { consume, reluInPlace } from './resnet-blocks.js';
import { ResNet, type ResNetArch } from './resnet.js';

/**
 * A torchvision ResNet without its classifier, handing out the maps a U-Net skips from: the
 * stem (conv1-bn1-relu, stride 2, before the max pool) and layer1..layer4 (strides 4..32).
 * Its children are the ResNet's own layers under torchvision's names (conv1, bn1, layer1..4),
 * so its state dict is a torchvision state dict less fc.*, as segmentation_models_pytorch's
 * ResNetEncoder (which deletes fc and avgpool). Built as a whole ResNet so that a seed draws the
 * same numbers as torchvision's resnet*() (the dropped fc's draws included); the fc is freed at once.
 */
export class ResNetEncoder extends Module {
  readonly arch: ResNetArch;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly maxpool: MaxPool2d;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly layer4: Sequential;
  /** Channels of the five maps features() returns: stem, layer1..layer4. */
  readonly channels: readonly [number, number, number, number, number];
  readonly #net: ResNet;

  constructor(arch: ResNetArch) {
    super();
    const net = new ResNet(arch);
    net.fc.dispose();
    this.#net = net;
    this.arch = arch;
    this.conv1 = this.registerModule('conv1', net.conv1);
    this.bn1 = this.registerModule('bn1', net.bn1);
    this.maxpool = this.registerModule('maxpool', net.maxpool);
    this.layer1 = this.registerModule('layer1', net.layer1);
    this.layer2 = this.registerModule('layer2', net.layer2);
    this.layer3 = this.registerModule('layer3', net.layer3);
    this.layer4 = this.registerModule('layer4', net.layer4);
    this.channels = [64, ...net.stageChannels];
  }

  /**
   * [stem, layer1, layer2, layer3, layer4] of x [N, 3, H, W]: sizes ceil(H/2), then each stage
   * halves (rounding up) as the strided convolutions and the max pool do. Only the five maps
   * survive, even outside a tidy scope.
   */
  features(x: T.Tensor): [T.Tensor, T.Tensor, T.Tensor, T.Tensor, T.Tensor] {
    this.#net.checkInput(x);
    return T.tidy(() => {
      const stem = reluInPlace(consume(this.conv1.forward(x), (t) => this.bn1.forward(t)));
      const l1 = consume(this.maxpool.forward(stem), (t) => this.#net.runStage(0, t));
      const l2 = this.#net.runStage(1, l1);
      const l3 = this.#net.runStage(2, l2);
      const l4 = this.#net.runStage(3, l3);
      return [stem, l1, l2, l3, l4];
    });
  }

  /** The deepest map (layer4), [N, C, H/32, W/32]. */
  forward(x: T.Tensor): T.Tensor {
    const maps = this.features(x);
    for (const m of maps.slice(0, 4)) m.dispose();
    return maps[4];
  }
}
