import * as T from '../tensor/index.js';
import { Module, crossEntropy, type Linear } from '../nn/index.js';
import { ResNet, type ResNetArch } from '../models/resnet.js';
import type { Random } from '../util/random.js';
import { SpotdiffError } from '../util/errors.js';
import type { PretrainLoss, PretrainMethod, PretrainViews, SpdConfig } from './method.js';
import { featureDim, pooledFeatures, zeroInitResidual } from './encoder.js';
import { spdClassifier } from './heads.js';
import { composeLoss, spdTerm } from './spd-term.js';
import { checkPretrainImages, makePretrainViews } from './views.js';

export interface SupervisedConfig {
  arch: ResNetArch;
  spd: SpdConfig;
  viewSize: number;
  /** Classes of the folder dataset (the ResNet's fc outputs). */
  numClasses: number;
  zeroInitResidual: boolean;
}

/** The classifier: "backbone" (a ResNet whose fc has numClasses outputs) and "spd_head" (perturbed or not). */
export class SupervisedNetwork extends Module {
  readonly backbone: ResNet;
  readonly spdHead: Linear | null;
  constructor(c: SupervisedConfig) {
    super();
    this.backbone = this.registerModule('backbone', new ResNet(c.arch, { numClasses: c.numClasses }));
    if (c.zeroInitResidual) zeroInitResidual(this.backbone);
    this.spdHead = c.spd.eta > 0 ? this.registerModule('spd_head', spdClassifier(featureDim(this.backbone))) : null;
  }
  /** Class logits. */
  forward(x: T.Tensor): T.Tensor {
    return this.backbone.forward(x);
  }
}

/**
 * Supervised pre-training: cross-entropy of the ResNet's class logits on a crop-and-flip view.
 * SPD here is an auxiliary head on the pooled features that tells the weak view (class 0)
 * from the same view with a SmoothBlend patch (class 1), trained with cross-entropy and
 * weighted by η.
 */
export class Supervised implements PretrainMethod {
  readonly name = 'supervised' as const;
  readonly arch: ResNetArch;
  readonly module: SupervisedNetwork;
  constructor(readonly config: SupervisedConfig) {
    if (config.spd.eta > 0 && config.spd.objective !== 'cross-entropy') {
      throw new SpotdiffError('ERR_BAD_INPUT', 'supervised pre-training uses SPD in its cross-entropy form (objective "cross-entropy")');
    }
    this.arch = config.arch;
    this.module = new SupervisedNetwork(config);
  }

  get backbone(): ResNet {
    return this.module.backbone;
  }

  parameterGroups(): { params: T.Tensor[]; fixedLr: boolean }[] {
    return [{ params: this.module.parameters(), fixedLr: false }];
  }

  makeViews(images: T.Tensor, labels: T.Tensor | null, rng: Random): PretrainViews {
    this.#checkLabels(images, labels);
    return makePretrainViews(this.name, { kind: 'supervised', size: this.config.viewSize, spd: this.config.spd }, images, labels, rng);
  }

  loss(views: PretrainViews): PretrainLoss {
    const labels = views.labels;
    if (labels === null) throw new SpotdiffError('ERR_BAD_INPUT', 'supervised.loss: the views carry no class labels');
    const m = this.module;
    return T.tidy(() => {
      const base = crossEntropy(m.backbone.forward(views.first), labels);
      const spd = spdTerm(this.name, views, this.config.spd, {
        embed: () => {
          throw new SpotdiffError('ERR_BAD_INPUT', 'supervised SPD has no cosine form');
        },
        features: (x) => pooledFeatures(m.backbone, x),
        classifier: m.spdHead,
      });
      return composeLoss(base, spd, this.config.spd.eta);
    });
  }

  afterStep(): void {}

  #checkLabels(images: T.Tensor, labels: T.Tensor | null): void {
    checkPretrainImages(this.name, images);
    if (labels === null) {
      throw new SpotdiffError('ERR_BAD_INPUT', 'supervised pre-training needs a class label per image (a folder dataset with one sub-folder per class); got none');
    }
    if (labels.dtype !== 'int64' && labels.dtype !== 'int32') throw new SpotdiffError('ERR_DTYPE', `supervised: labels must be integer class indices (int64), got ${labels.dtype}`);
    if (labels.rank !== 1 || labels.shape[0] !== images.shape[0]) {
      throw new SpotdiffError('ERR_SHAPE', `supervised: labels must be [N] with one class per image, got [${labels.shape.join(', ')}] for ${images.shape[0]} images`);
    }
    // Checked on the host: an out-of-range class is a device-side assert on CUDA.
    const bad = Array.from(labels.data() as ArrayLike<number | bigint>, Number).find((c) => !(c >= 0 && c < this.config.numClasses));
    if (bad !== undefined) throw new SpotdiffError('ERR_BAD_INPUT', `supervised: class ${bad} is outside 0..${this.config.numClasses - 1}`);
  }
}
