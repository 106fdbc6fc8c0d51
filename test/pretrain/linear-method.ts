import * as T from '../../src/tensor/index.js';
import { Linear, Module } from '../../src/nn/index.js';
import { resnet18, type ResNet } from '../../src/models/resnet.js';
import type { MethodFactory } from '../../src/pretrain/trainer.js';
import type { PretrainLoss, PretrainMethod, PretrainViews } from '../../src/pretrain/method.js';

/** The backbone (exported, untouched by the loss) and a linear head on the images' mean colours. */
class LinearModule extends Module {
  constructor(readonly backbone: ResNet, readonly head: Linear) {
    super();
    this.registerModule('backbone', backbone);
    this.registerModule('head', head);
  }
  forward(images: T.Tensor): T.Tensor {
    return this.head.forward(T.mean(images, [2, 3]));
  }
}

/**
 * A pre-training "method" whose loss is a mean over the batch of per-image terms, with no
 * BatchNorm and no augmentation: data-parallel steps equal one-process steps on the global batch,
 * so the trainer's splitting, averaging and agreeing can be checked against one process.
 */
export const linearMethod: MethodFactory = (r) => {
  const module = new LinearModule(resnet18(), new Linear(3, 2));
  const target = T.keep(T.tensor([0.5, -0.25], [1, 2]));
  const method: PretrainMethod = {
    name: r.method,
    arch: r.arch,
    backbone: module.backbone,
    module,
    parameterGroups: () => [{ params: module.head.parameters(), fixedLr: false }],
    makeViews: (images): PretrainViews => ({ first: images, second: null, labels: null, spd: null }),
    loss: (views): PretrainLoss => {
      const total = T.mean(T.square(T.sub(module.forward(views.first), target)));
      return { total, parts: T.detach(T.stack([total, T.zerosLike(total)])) };
    },
    afterStep: () => {},
  };
  return method;
};
