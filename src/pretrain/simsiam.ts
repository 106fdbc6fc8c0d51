import * as T from '../tensor/index.js';
import { Module, negativeCosineSimilarity, type Linear, type Sequential } from '../nn/index.js';
import { ResNet, type ResNetArch } from '../models/resnet.js';
import type { Random } from '../util/random.js';
import type { PretrainLoss, PretrainMethod, PretrainViews, SpdConfig } from './method.js';
import { Encoder, featureDim, zeroInitResidual } from './encoder.js';
import { simsiamPredictor, simsiamProjector, spdClassifier } from './heads.js';
import { composeLoss, encoderSpdNetworks, secondView, spdTerm } from './spd-term.js';
import { makePretrainViews } from './views.js';

export interface SimSiamConfig {
  arch: ResNetArch;
  spd: SpdConfig;
  /** Side of the square views. */
  viewSize: number;
  /** Projector output (2048 in the paper). */
  dim: number;
  /** Predictor bottleneck (512). */
  predDim: number;
  zeroInitResidual: boolean;
}

/** SimSiam's modules: "encoder" (backbone + projector), "predictor", and "spd_head" for SPD's cross-entropy form. */
export class SimSiamNetwork extends Module {
  readonly encoder: Encoder;
  readonly predictor: Sequential;
  readonly spdHead: Linear | null;
  constructor(c: SimSiamConfig) {
    super();
    const backbone = new ResNet(c.arch);
    if (c.zeroInitResidual) zeroInitResidual(backbone);
    this.encoder = this.registerModule('encoder', new Encoder(backbone, simsiamProjector(featureDim(backbone), c.dim)));
    this.predictor = this.registerModule('predictor', simsiamPredictor(c.dim, c.predDim));
    this.spdHead = c.spd.eta > 0 && c.spd.objective === 'cross-entropy' ? this.registerModule('spd_head', spdClassifier(featureDim(backbone))) : null;
  }
  /** The projector output z. */
  forward(x: T.Tensor): T.Tensor {
    return this.encoder.forward(x);
  }
}

/**
 * SimSiam (Chen & He, CVPR 2021) as its official code trains it: two strong views through
 * the encoder (z1, z2) and the predictor (p1, p2), loss ½·D(p1, sg(z2)) + ½·D(p2, sg(z1))
 * with D = −cos and sg the stop-gradient; the predictor at a fixed learning rate. With SPD,
 * the regulariser's embeddings are the projector outputs z of the same encoder.
 */
export class SimSiam implements PretrainMethod {
  readonly name = 'simsiam' as const;
  readonly arch: ResNetArch;
  readonly module: SimSiamNetwork;
  constructor(readonly config: SimSiamConfig) {
    this.arch = config.arch;
    this.module = new SimSiamNetwork(config);
  }

  get backbone(): ResNet {
    return this.module.encoder.backbone;
  }

  /** The encoder (and SPD head) follow the schedule; the predictor keeps its initial lr (official fix_pred_lr). */
  parameterGroups(): { params: T.Tensor[]; fixedLr: boolean }[] {
    const m = this.module;
    return [
      { params: [...m.encoder.trainableParameters(), ...(m.spdHead?.parameters() ?? [])], fixedLr: false },
      { params: m.predictor.parameters(), fixedLr: true },
    ];
  }

  makeViews(images: T.Tensor, _labels: T.Tensor | null, rng: Random): PretrainViews {
    return makePretrainViews(this.name, { kind: 'two-strong', size: this.config.viewSize, spd: this.config.spd }, images, null, rng);
  }

  loss(views: PretrainViews): PretrainLoss {
    const second = secondView(this.name, views);
    const m = this.module;
    return T.tidy(() => {
      const z1 = m.encoder.forward(views.first);
      const z2 = m.encoder.forward(second);
      const p1 = m.predictor.forward(z1);
      const p2 = m.predictor.forward(z2);
      const base = T.mul(T.add(negativeCosineSimilarity(p1, T.detach(z2)), negativeCosineSimilarity(p2, T.detach(z1))), 0.5);
      const spd = spdTerm(this.name, views, this.config.spd, encoderSpdNetworks(m.encoder, m.spdHead));
      return composeLoss(base, spd, this.config.spd.eta);
    });
  }

  afterStep(): void {}
}
