import * as T from '../../tensor/index.js';
import { Module } from '../module.js';
import { batchNormForward } from './batch-norm-forward.js';

/** torch.nn.BatchNorm2d: affine weight/bias, running mean/var and num_batches_tracked buffers. */
export class BatchNorm2d extends Module {
  readonly weight: T.Tensor;
  readonly bias: T.Tensor;
  readonly runningMean: T.Tensor;
  readonly runningVar: T.Tensor;
  readonly numBatchesTracked: T.Tensor;
  constructor(readonly numFeatures: number, readonly eps = 1e-5, readonly momentum = 0.1) {
    super();
    this.weight = this.registerParameter('weight', T.ones([numFeatures]));
    this.bias = this.registerParameter('bias', T.zeros([numFeatures]));
    this.runningMean = this.registerBuffer('running_mean', T.zeros([numFeatures]));
    this.runningVar = this.registerBuffer('running_var', T.ones([numFeatures]));
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', T.zeros([], { dtype: 'int64' }));
  }
  forward(x: T.Tensor): T.Tensor {
    return batchNormForward(this, x, this.eps, this.momentum);
  }
}
