import * as T from '../../tensor/index.js';
import { Module } from '../module.js';
import { batchNormForward } from './batch-norm-forward.js';
import { SpotdiffError } from '../../util/errors.js';

/**
 * torch.nn.BatchNorm1d on [N, C] features (e.g. inside the pre-training methods' projection
 * and prediction heads). With affine=false it has no weight and bias (SimSiam's last
 * projector layer): only running_mean, running_var and num_batches_tracked, as torch's state
 * dict. Inputs [N, C, L] are not taken: nothing in spotdiff normalises sequences.
 */
export class BatchNorm1d extends Module {
  readonly weight: T.Tensor | null;
  readonly bias: T.Tensor | null;
  readonly runningMean: T.Tensor;
  readonly runningVar: T.Tensor;
  readonly numBatchesTracked: T.Tensor;
  constructor(readonly numFeatures: number, readonly opts: { affine?: boolean; eps?: number; momentum?: number } = {}) {
    super();
    const affine = opts.affine ?? true;
    this.weight = affine ? this.registerParameter('weight', T.ones([numFeatures])) : null;
    this.bias = affine ? this.registerParameter('bias', T.zeros([numFeatures])) : null;
    this.runningMean = this.registerBuffer('running_mean', T.zeros([numFeatures]));
    this.runningVar = this.registerBuffer('running_var', T.ones([numFeatures]));
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', T.zeros([], { dtype: 'int64' }));
  }

  forward(x: T.Tensor): T.Tensor {
    if (x.rank !== 2 || x.shape[1] !== this.numFeatures) {
      throw new SpotdiffError('ERR_SHAPE', `BatchNorm1d(${this.numFeatures}) takes features [N, ${this.numFeatures}], got [${x.shape.join(', ')}]`);
    }
    return batchNormForward(this, x, this.opts.eps ?? 1e-5, this.opts.momentum ?? 0.1);
  }
}
