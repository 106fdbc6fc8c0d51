import * as T from '../tensor/index.js';
import { Module, ntXent, type Linear } from '../nn/index.js';
import { ResNet, type ResNetArch } from '../models/resnet.js';
import type { Random } from '../util/random.js';
import type { ProcessGroup } from '../distributed/process-group.js';
import { withOtherRanks } from './global-batch.js';
import type { PretrainLoss, PretrainMethod, PretrainViews, SpdConfig } from './method.js';
import { Encoder, featureDim, zeroInitResidual } from './encoder.js';
import { mlpHead, spdClassifier } from './heads.js';
import { composeLoss, encoderSpdNetworks, secondView, spdTerm } from './spd-term.js';
import { makePretrainViews } from './views.js';

export interface SimClrConfig {
  arch: ResNetArch;
  spd: SpdConfig;
  viewSize: number;
  /** Projection size (128). */
  dim: number;
  /** NT-Xent temperature τ (0.1, see METHOD_DEFAULTS). */
  temperature: number;
  zeroInitResidual: boolean;
}

/** SimCLR's modules: "encoder" (backbone + projection head g) and "spd_head" for SPD's cross-entropy form. */
export class SimClrNetwork extends Module {
  readonly encoder: Encoder;
  readonly spdHead: Linear | null;
  constructor(c: SimClrConfig) {
    super();
    const backbone = new ResNet(c.arch);
    if (c.zeroInitResidual) zeroInitResidual(backbone);
    this.encoder = this.registerModule('encoder', new Encoder(backbone, mlpHead(featureDim(backbone), c.dim)));
    this.spdHead = c.spd.eta > 0 && c.spd.objective === 'cross-entropy' ? this.registerModule('spd_head', spdClassifier(featureDim(backbone))) : null;
  }
  /** The projection z = g(h). */
  forward(x: T.Tensor): T.Tensor {
    return this.encoder.forward(x);
  }
}

/**
 * SimCLR (Chen, Kornblith, Norouzi & Hinton, ICML 2020): two strong views through the encoder
 * and projection head, NT-Xent over the 2N projections (each one's positive is its other
 * view, the other 2N − 2 are negatives). The views go through the network one at a time, as
 * SimSiam and MoCo do here; SimCLR's TF code concatenates them into one batch of 2N, which
 * differs only in BatchNorm's statistics. With SPD, the regulariser's embeddings are the
 * projection head's outputs.
 *
 * Data-parallel (useGroup): every rank computes NT-Xent over the global batch, its own
 * projections with their gradient and the other ranks' gathered without one; the gradient
 * through its own rows is scaled by the world size (global-batch.ts), so the averaged step equals
 * one process's on the global batch (BatchNorm apart: its statistics stay per rank).
 */
export class SimClr implements PretrainMethod {
  readonly name = 'simclr' as const;
  readonly arch: ResNetArch;
  readonly module: SimClrNetwork;
  #group: ProcessGroup | null = null;
  constructor(readonly config: SimClrConfig) {
    this.arch = config.arch;
    this.module = new SimClrNetwork(config);
  }

  get backbone(): ResNet {
    return this.module.encoder.backbone;
  }

  parameterGroups(): { params: T.Tensor[]; fixedLr: boolean }[] {
    const m = this.module;
    return [{ params: [...m.encoder.trainableParameters(), ...(m.spdHead?.parameters() ?? [])], fixedLr: false }];
  }

  makeViews(images: T.Tensor, _labels: T.Tensor | null, rng: Random): PretrainViews {
    return makePretrainViews(this.name, { kind: 'two-strong', size: this.config.viewSize, spd: this.config.spd }, images, null, rng);
  }

  useGroup(group: ProcessGroup): void {
    this.#group = group.worldSize > 1 ? group : null;
  }

  loss(views: PretrainViews): PretrainLoss {
    const second = secondView(this.name, views);
    const m = this.module;
    const g = this.#group;
    return T.tidy(() => {
      const [z1, z2] = [m.encoder.forward(views.first), m.encoder.forward(second)];
      const temperature = this.config.temperature;
      const base = g === null ? ntXent(z1, z2, { temperature }) : ntXent(withOtherRanks(g, z1), withOtherRanks(g, z2), { temperature });
      const spd = spdTerm(this.name, views, this.config.spd, encoderSpdNetworks(m.encoder, m.spdHead));
      return composeLoss(base, spd, this.config.spd.eta);
    });
  }

  afterStep(): void {}
}
