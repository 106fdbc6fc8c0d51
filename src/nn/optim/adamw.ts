import type * as T from '../../tensor/index.js';
import { Adam, type AdamHyperparameters, type AdamOptions } from './adam.js';
import type { ParamGroupSpec } from './optimizer.js';

/**
 * torch.optim.AdamW (torch 1.13, single-tensor): Adam with decoupled weight decay,
 * p *= 1 − lr·weight_decay before the Adam update, and weight_decay 1e-2 by default.
 */
export class AdamW extends Adam {
  protected override readonly decoupled: boolean = true;

  constructor(params: readonly T.Tensor[] | readonly ParamGroupSpec<AdamHyperparameters>[], options: AdamOptions = {}) {
    super(params, options, 'AdamW', 1e-2);
  }
}
