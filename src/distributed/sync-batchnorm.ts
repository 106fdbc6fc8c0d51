import * as T from '../tensor/index.js';
import { callOp, type NativeHandle } from '../tensor/native.js';
import { Tensor } from '../tensor/tensor.js';
import { BatchNorm1d, BatchNorm2d, Module } from '../nn/index.js';
import { SpotdiffError } from '../util/errors.js';
import { batchNormForward, type BatchNormTensors as LayerTensors } from '../nn/layers/batch-norm-forward.js';
import { nativeGroupId, type ProcessGroup } from './process-group.js';

export interface SyncBatchNormOptions {
  eps?: number;
  momentum?: number;
  /** Learnable weight and bias (default true); false: neither, as BatchNorm1d's affine=false. */
  affine?: boolean;
  /** The ranks whose batches are normalised together; null or one rank: plain BatchNorm. */
  group?: ProcessGroup | null;
}

/** The tensors a SyncBatchNorm takes over from a BatchNorm (convertSyncBatchNorm). */
type BatchNormTensors = Omit<LayerTensors, 'training'>;

/**
 * torch.nn.SyncBatchNorm: in training mode, with a group of more than one rank, every rank
 * normalises its rows [N, C, ...] with the mean and variance of the global batch (all ranks'
 * rows) and updates the running statistics with them, so data-parallel training sees the
 * BatchNorm of one process on the global batch. Otherwise (eval mode, no group, one rank) it is
 * BatchNorm, the same call. Parameters and buffers carry BatchNorm's names, so state dicts are
 * unchanged. Every rank must run the same SyncBatchNorm layers in the same order, forward and
 * backward (native/src/ops/sync_batchnorm.cc runs one collective in each).
 */
export class SyncBatchNorm extends Module {
  readonly weight: T.Tensor | null;
  readonly bias: T.Tensor | null;
  readonly runningMean: T.Tensor;
  readonly runningVar: T.Tensor;
  readonly numBatchesTracked: T.Tensor;
  readonly eps: number;
  readonly momentum: number;
  group: ProcessGroup | null;

  constructor(readonly numFeatures: number, opts: SyncBatchNormOptions = {}, from?: BatchNormTensors) {
    super();
    const affine = from !== undefined ? from.weight !== null : opts.affine ?? true;
    this.weight = affine ? this.registerParameter('weight', from?.weight ?? T.ones([numFeatures])) : null;
    this.bias = affine ? this.registerParameter('bias', from?.bias ?? T.zeros([numFeatures])) : null;
    this.runningMean = this.registerBuffer('running_mean', from?.runningMean ?? T.zeros([numFeatures]));
    this.runningVar = this.registerBuffer('running_var', from?.runningVar ?? T.ones([numFeatures]));
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', from?.numBatchesTracked ?? T.zeros([], { dtype: 'int64' }));
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    this.group = opts.group ?? null;
  }

  /** A SyncBatchNorm over the same tensors as `bn` (its parameters, buffers and settings). */
  static from(bn: BatchNorm1d | BatchNorm2d, group: ProcessGroup | null): SyncBatchNorm {
    const settings = bn instanceof BatchNorm2d ? { eps: bn.eps, momentum: bn.momentum } : { eps: bn.opts.eps ?? 1e-5, momentum: bn.opts.momentum ?? 0.1 };
    const m = new SyncBatchNorm(bn.numFeatures, { ...settings, group }, bn);
    m.training = bn.training;
    return m;
  }

  /** Whether forward normalises across the group's ranks now. */
  get syncing(): boolean {
    return this.training && this.group !== null && this.group.worldSize > 1;
  }

  forward(x: T.Tensor): T.Tensor {
    if (x.rank < 2 || x.shape[1] !== this.numFeatures) {
      throw new SpotdiffError('ERR_SHAPE', `SyncBatchNorm(${this.numFeatures}) takes [N, ${this.numFeatures}, ...], got [${x.shape.join(', ')}]`);
    }
    if (!this.syncing) return batchNormForward(this, x, this.eps, this.momentum);
    T.noGrad(() => T.addInPlace(this.numBatchesTracked, 1));
    const args = [x.handle, this.weight?.handle ?? null, this.bias?.handle ?? null, this.runningMean.handle, this.runningVar.handle, this.momentum, this.eps, nativeGroupId(this.group!)];
    return new Tensor(callOp('sync_batch_norm', args) as NativeHandle);
  }
}

/**
 * torch.nn.SyncBatchNorm.convert_sync_batchnorm: every BatchNorm1d / BatchNorm2d below `module`
 * becomes a SyncBatchNorm over the same parameter and buffer tensors, in its place (so the
 * optimiser's state, state-dict names and checkpoints are unchanged). SyncBatchNorm layers
 * already there join `group`. Returns `module`, or its replacement when it is a BatchNorm itself.
 */
export function convertSyncBatchNorm(module: Module, group: ProcessGroup | null): Module {
  if (module instanceof BatchNorm1d || module instanceof BatchNorm2d) return SyncBatchNorm.from(module, group);
  if (module instanceof SyncBatchNorm) {
    module.group = group;
    return module;
  }
  for (const [name, child] of [...module.children()]) {
    const converted = convertSyncBatchNorm(child, group);
    if (converted !== child) module.replaceChild(name, converted);
  }
  return module;
}
