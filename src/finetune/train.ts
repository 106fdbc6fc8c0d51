import * as T from '../tensor/index.js';
import { Adam, GradScaler, SGD, type Optimizer, type BaseHyperparameters } from '../nn/index.js';
import type { ResNet } from '../models/resnet.js';
import { Random, hashSeed } from '../util/random.js';
import { SpotdiffError } from '../util/errors.js';
import { ProjectionHead } from './head.js';
import { DEFAULT_LOSS_WEIGHTS, type LossWeights } from './losses.js';
import { finetuneLoss } from './step.js';
import { makeViews, type FinetuneViews, type NegativeKind, type ViewKind } from './views.js';

export const OPTIMIZERS = ['adam', 'sgd'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export interface FinetuneOptions {
  steps: number;
  /** View pairs per step (default 8). */
  batch?: number;
  views: ViewKind;
  negatives: NegativeKind;
  /** Default 'adam'. SGD uses momentum 0.9. */
  optimizer?: OptimizerName;
  /** Backbone learning rate (default 1e-4); the new head learns at headLrFactor × this. */
  lr?: number;
  /** Default 10: the head starts from random weights, the backbone from trained ones. */
  headLrFactor?: number;
  weightDecay?: number;
  loss?: Partial<LossWeights>;
  /** Seeds the head's initialisation (T.manualSeed) and every step's views (Random.derive). */
  seed: number;
  /** Hidden and output widths of the projection head (default 256, 128). */
  headHidden?: number;
  headOut?: number;
  /** fp32 (default), bf16 (forward and loss under autocast) or fp16 (autocast with loss scaling; CUDA only). */
  precision?: T.Precision;
  /** The backbone's and head's weights and the views in channels_last memory format (same values). */
  channelsLast?: boolean;
}

/** One step's loss values. */
export interface StepLosses {
  total: number;
  contrastive: number;
  cross: number | null;
  negative: number | null;
}

/**
 * Fine-tunes a backbone in place on k normal images. BatchNorm statistics stay frozen (the
 * backbone is in eval mode; its affine weights still learn): batch statistics of a handful of
 * views of one to ten images are a poor replacement for the pretrained ones, and scoring runs
 * in eval mode anyway. fc is not used and not updated.
 */
export class Finetuner {
  readonly head: ProjectionHead;
  readonly optimizer: Optimizer<BaseHyperparameters>;
  readonly weights: LossWeights;
  readonly batch: number;
  readonly #autocast: T.AutocastDType | null;
  readonly #scaler: GradScaler;
  #done = 0;

  constructor(readonly backbone: ResNet, readonly options: FinetuneOptions) {
    const batch = options.batch ?? 8;
    if (!Number.isInteger(options.steps) || options.steps < 0) throw new SpotdiffError('ERR_BAD_INPUT', `steps must be an integer ≥ 0, got ${options.steps}`);
    if (!Number.isInteger(batch) || batch < 2) throw new SpotdiffError('ERR_BAD_INPUT', `batch must be an integer ≥ 2, got ${batch}`);
    this.batch = batch;
    T.checkPrecision(options.precision ?? 'fp32', T.getDefaultDevice());
    this.#autocast = T.autocastDtypeOf(options.precision ?? 'fp32');
    this.#scaler = new GradScaler({ enabled: options.precision === 'fp16' });
    this.weights = { ...DEFAULT_LOSS_WEIGHTS, ...options.loss };
    for (const [k, v] of Object.entries(this.weights)) {
      if (!(v >= 0) || !Number.isFinite(v) || (k === 'temperature' && v === 0)) throw new SpotdiffError('ERR_BAD_INPUT', `loss ${k} must be a finite number ${k === 'temperature' ? '> 0' : '≥ 0'}, got ${v}`);
    }
    backbone.eval();
    T.manualSeed(hashSeed(options.seed, ['finetune-head']));
    this.head = new ProjectionHead(backbone.stageChannels[3], options.headHidden ?? 256, options.headOut ?? 128);
    const lr = options.lr ?? 1e-4;
    const headLr = lr * (options.headLrFactor ?? 10);
    const backboneParams = backbone.namedParameters().filter(([name]) => !name.startsWith('fc.')).map(([, p]) => p);
    const groups = [
      { params: backboneParams, lr },
      { params: this.head.parameters(), lr: headLr },
    ];
    const weightDecay = options.weightDecay ?? 0;
    this.optimizer = (options.optimizer ?? 'adam') === 'sgd' ? new SGD(groups, { lr, momentum: 0.9, weightDecay }) : new Adam(groups, { lr, weightDecay });
    if (options.channelsLast === true) T.channelsLastInPlace([...backboneParams, ...this.head.parameters()]);
  }

  /** The loss on the views: channels_last when asked, forward under autocast when asked. */
  #loss(views: FinetuneViews): ReturnType<typeof finetuneLoss> {
    const cl = (t: T.Tensor): T.Tensor => T.toMemoryFormat(t, 'channels_last');
    const input = this.options.channelsLast === true ? { ...views, first: cl(views.first), second: cl(views.second), anomalies: views.anomalies === null ? null : cl(views.anomalies) } : views;
    const run = (): ReturnType<typeof finetuneLoss> => finetuneLoss(this.backbone, this.head, input, this.weights);
    return this.#autocast === null ? run() : T.withAutocast(this.#autocast, run);
  }

  /** Steps taken so far. */
  get stepsDone(): number {
    return this.#done;
  }

  /** The views of step `step`, from their own seeded stream. */
  views(shots: T.Tensor, step: number): FinetuneViews {
    return makeViews(shots, Random.derive(this.options.seed, 'finetune-views', step), { batch: this.batch, views: this.options.views, negatives: this.options.negatives });
  }

  /** One optimisation step on given views; gradients stay on the parameters until the next step. */
  step(views: FinetuneViews): StepLosses {
    return T.tidy(() => {
      this.optimizer.zeroGrad();
      this.backbone.eval();
      const parts = this.#loss(views);
      this.#scaler.scale(parts.total).backward();
      this.#scaler.step(this.optimizer);
      this.#scaler.update();
      this.#done++;
      return { total: parts.total.item(), contrastive: parts.contrastive, cross: parts.cross, negative: parts.negative };
    });
  }

  /** The loss on given views without updating anything. */
  evaluate(views: FinetuneViews): StepLosses {
    return T.noGrad(() =>
      T.tidy(() => {
        const parts = this.#loss(views);
        return { total: parts.total.item(), contrastive: parts.contrastive, cross: parts.cross, negative: parts.negative };
      }),
    );
  }

  /** Runs the remaining steps on the shots [k, 3, H, W] (values in [0, 1]); returns each step's losses. */
  run(shots: T.Tensor, onStep?: (step: number, losses: StepLosses) => void): StepLosses[] {
    const out: StepLosses[] = [];
    while (this.#done < this.options.steps) {
      const step = this.#done;
      const losses = T.tidy(() => this.step(this.views(shots, step)));
      out.push(losses);
      onStep?.(step, losses);
    }
    return out;
  }

  /** Frees the head and the optimiser state and clears the backbone's gradients (the backbone stays). */
  dispose(): void {
    this.optimizer.dispose();
    this.head.dispose();
    this.backbone.zeroGrad();
  }
}
