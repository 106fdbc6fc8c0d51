import * as T from '../tensor/index.js';
import { Module } from '../nn/index.js';
import { ResNet } from '../models/resnet.js';
import { BasicBlock, Bottleneck, consume } from '../models/resnet-blocks.js';

/**
 * The encoder every pre-training method trains: a ResNet up to its global average pool (its
 * fc left out of the computation, as the methods replace it: SimSiam and MoCo put their heads
 * where fc was) followed by a head. The ResNet keeps torchvision's names and its own fc, so
 * the backbone exports as a torchvision checkpoint.
 */

/** The ResNet's pooled features [N, C] (C = 512 for ResNet-18, 2048 for ResNet-50). */
export function pooledFeatures(backbone: ResNet, x: T.Tensor): T.Tensor {
  return T.tidy(() => {
    let out = backbone.stem(x);
    for (const i of [0, 1, 2, 3] as const) out = consume(out, (t) => backbone.runStage(i, t));
    return consume(out, (t) => backbone.pool(t));
  });
}

/** Width of the pooled features. */
export const featureDim = (backbone: ResNet): number => backbone.stageChannels[3];

/**
 * Sets the last BatchNorm weight of every residual block to 0 (torchvision's
 * zero_init_residual=True, which SimSiam's official code builds its ResNet with): each block
 * starts as the identity.
 */
export function zeroInitResidual(backbone: ResNet): void {
  T.noGrad(() => {
    for (const stage of backbone.stages) {
      for (const block of stage.layers) {
        if (block instanceof Bottleneck) T.fillInPlace(block.bn3.weight, 0);
        else if (block instanceof BasicBlock) T.fillInPlace(block.bn2.weight, 0);
      }
    }
  });
}

/** Backbone then head: children named "backbone" and "head". */
export class Encoder extends Module {
  readonly backbone: ResNet;
  readonly head: Module;
  constructor(backbone: ResNet, head: Module) {
    super();
    this.backbone = this.registerModule('backbone', backbone);
    this.head = this.registerModule('head', head);
  }

  /** The head's output for images [N, 3, H, W]. */
  forward(x: T.Tensor): T.Tensor {
    return T.tidy(() => this.head.forward(pooledFeatures(this.backbone, x)));
  }

  /** Parameters the optimiser updates: the backbone without its unused fc, and the head. */
  trainableParameters(): T.Tensor[] {
    const fc = new Set(this.backbone.fc.parameters());
    return [...this.backbone.parameters().filter((p) => !fc.has(p)), ...this.head.parameters()];
  }
}
