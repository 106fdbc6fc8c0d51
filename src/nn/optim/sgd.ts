import * as T from '../../tensor/index.js';
import { SpotdiffError } from '../../util/errors.js';
import { Optimizer, checkNumber, withGradient, type ParamGroup, type ParamGroupSpec } from './optimizer.js';

export interface SgdHyperparameters {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

export type SgdOptions = Partial<SgdHyperparameters> & { lr: number };

/**
 * torch.optim.SGD (torch 1.13, single-tensor): d = g + weight_decay·p; with momentum the
 * buffer starts as a copy of d and then becomes momentum·buf + (1 − dampening)·d; nesterov
 * uses d + momentum·buf; p −= lr·d. One fused native call per group (sgd_step).
 */
export class SGD extends Optimizer<SgdHyperparameters> {
  constructor(params: readonly T.Tensor[] | readonly ParamGroupSpec<SgdHyperparameters>[], options: SgdOptions) {
    super('SGD', params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...options }, ['momentum_buffer'], []);
  }

  protected override checkHyperparameters(h: SgdHyperparameters, where: string): void {
    super.checkHyperparameters(h, where);
    checkNumber(this.name, where, 'momentum', h.momentum, (v) => v >= 0, '≥ 0');
    checkNumber(this.name, where, 'dampening', h.dampening, () => true, 'a number');
    if (typeof h.nesterov !== 'boolean') throw new SpotdiffError('ERR_BAD_INPUT', `${this.name}: nesterov must be true or false (${where})`);
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) {
      throw new SpotdiffError('ERR_BAD_INPUT', `${this.name}: nesterov momentum needs momentum > 0 and dampening 0 (${where})`);
    }
  }

  protected updateGroup(g: ParamGroup<SgdHyperparameters>, first: number): void {
    const { params, indices } = withGradient(g, first);
    if (params.length === 0) return;
    const args = { lr: g.lr, momentum: g.momentum, dampening: g.dampening, weightDecay: g.weightDecay, nesterov: g.nesterov };
    if (g.momentum === 0) {
      T.sgdStep(params, [], { ...args, firstStep: false });
      return;
    }
    // A parameter's buffer is born at its first update (a copy of d), so new and old buffers go in separate calls.
    const fresh: [T.Tensor[], T.Tensor[]] = [[], []];
    const old: [T.Tensor[], T.Tensor[]] = [[], []];
    params.forEach((p, k) => {
      const state = this.tensorState[indices[k]!]!;
      let buf = state.get('momentum_buffer');
      const target = buf === undefined ? fresh : old;
      if (buf === undefined) {
        buf = T.keep(T.zerosLike(p));
        state.set('momentum_buffer', buf);
      }
      target[0].push(p);
      target[1].push(buf);
    });
    if (fresh[0].length > 0) T.sgdStep(fresh[0], fresh[1], { ...args, firstStep: true });
    if (old[0].length > 0) T.sgdStep(old[0], old[1], { ...args, firstStep: false });
  }
}
