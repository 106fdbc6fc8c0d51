import * as T from '../../tensor/index.js';
import { Optimizer, checkNumber, withGradient, type ParamGroup, type ParamGroupSpec } from './optimizer.js';

export interface AdamHyperparameters {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export type AdamOptions = Partial<AdamHyperparameters>;

/**
 * torch.optim.Adam (torch 1.13, single-tensor, no amsgrad): g += weight_decay·p;
 * m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²; p −= lr/(1 − β1^t) · m / (√v/√(1 − β2^t) + eps).
 * Each parameter keeps its own step count t. One fused native call (adam_step) per group and step count.
 */
export class Adam extends Optimizer<AdamHyperparameters> {
  protected readonly decoupled: boolean = false;

  /** `name` and `defaultWeightDecay` are for AdamW; callers pass params and options only. */
  constructor(params: readonly T.Tensor[] | readonly ParamGroupSpec<AdamHyperparameters>[], options: AdamOptions = {}, name = 'Adam', defaultWeightDecay = 0) {
    super(name, params, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: defaultWeightDecay, ...options }, ['exp_avg', 'exp_avg_sq'], ['step']);
  }

  protected override checkHyperparameters(h: AdamHyperparameters, where: string): void {
    super.checkHyperparameters(h, where);
    checkNumber(this.name, where, 'beta1', h.beta1, (v) => v >= 0 && v < 1, 'in [0, 1)');
    checkNumber(this.name, where, 'beta2', h.beta2, (v) => v >= 0 && v < 1, 'in [0, 1)');
    checkNumber(this.name, where, 'eps', h.eps, (v) => v >= 0, '≥ 0');
  }

  protected updateGroup(g: ParamGroup<AdamHyperparameters>, first: number): void {
    const { params, indices } = withGradient(g, first);
    // Parameters that missed updates have smaller step counts: one native call per count.
    const byStep = new Map<number, { p: T.Tensor[]; m: T.Tensor[]; v: T.Tensor[] }>();
    params.forEach((p, k) => {
      const i = indices[k]!;
      const tensors = this.tensorState[i]!;
      const numbers = this.numberState[i]!;
      if (!tensors.has('exp_avg')) {
        tensors.set('exp_avg', T.keep(T.zerosLike(p)));
        tensors.set('exp_avg_sq', T.keep(T.zerosLike(p)));
        numbers.set('step', 0);
      }
      const step = numbers.get('step')! + 1;
      numbers.set('step', step);
      let batch = byStep.get(step);
      if (batch === undefined) byStep.set(step, (batch = { p: [], m: [], v: [] }));
      batch.p.push(p);
      batch.m.push(tensors.get('exp_avg')!);
      batch.v.push(tensors.get('exp_avg_sq')!);
    });
    for (const [step, b] of byStep) {
      T.adamStep(b.p, b.m, b.v, { step, lr: g.lr, beta1: g.beta1, beta2: g.beta2, eps: g.eps, weightDecay: g.weightDecay, decoupled: this.decoupled });
    }
  }
}
