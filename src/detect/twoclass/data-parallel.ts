import * as T from '../../tensor/index.js';
import { SpotdiffError } from '../../util/errors.js';
import { broadcastState } from '../../distributed/grad-average.js';
import { GradientReducer } from '../../distributed/grad-reducer.js';
import { requireBackend, type ProcessGroup } from '../../distributed/process-group.js';
import { convertSyncBatchNorm } from '../../distributed/sync-batchnorm.js';
import type { Module } from '../../nn/module.js';

/**
 * Each step's batch (the plan's) is split into equal rank shares, so it must divide evenly.
 * Ranks on the CPU average through Gloo, ranks on CUDA devices through NCCL (this build must
 * have it, and the group must have been joined with it).
 */
export function checkTwoClassDataParallel(batchSize: number, worldSize: number, device: string, group?: ProcessGroup): void {
  if (worldSize === 1) return;
  if (device.startsWith('cuda')) requireBackend('nccl');
  else if (device !== 'cpu') throw new SpotdiffError('ERR_USAGE', `data-parallel 2-class training runs on cpu or cuda devices, got ${device}`);
  if (device.startsWith('cuda') && group !== undefined && group.backend !== 'nccl') {
    throw new SpotdiffError('ERR_BAD_INPUT', `rank ${group.rank} trains on ${device} but its group was joined without NCCL (backend ${group.backend})`);
  }
  if (batchSize % worldSize !== 0) throw new SpotdiffError('ERR_USAGE', `the batch size ${batchSize} does not split evenly across ${worldSize} processes`);
}

/**
 * The 2-class trainer's side of data-parallel training (one process per rank, as torch DDP;
 * BatchNorm statistics stay per process unless SyncBatchNorm is asked for): every rank runs the same
 * plan on its share of each step's batch, gradients are averaged after backward, and the
 * step's loss and a stop request are agreed by all. Rank 0 writes the files.
 */
export class TwoClassDataParallel {
  #reducer: GradientReducer | null = null;

  constructor(readonly group: ProcessGroup) {}

  get writes(): boolean {
    return this.group.rank === 0;
  }

  /** Rows [from, to) of a step's global batch of `batchSize` that this rank trains on. */
  share(batchSize: number): { from: number; to: number } {
    const n = batchSize / this.group.worldSize;
    return { from: this.group.rank * n, to: (this.group.rank + 1) * n };
  }

  /** Every rank starts from rank 0's weights and buffers. */
  startFromRankZero(network: Module): void {
    broadcastState(this.group, network, 0);
  }

  /**
   * SyncBatchNorm when asked for (fit --sync-bn on): every BatchNorm of the network normalises
   * over the global batch, over the same tensors (optimiser, checkpoints and model unchanged).
   */
  useSyncBatchNorm(network: Module, on: boolean): void {
    if (on) convertSyncBatchNorm(network, this.group);
  }

  /** A resume must start every rank at the same step (each reads the checkpoint itself). */
  checkSameStart(step: number): void {
    const v = T.tensor([step, -step], [2], { dtype: 'float64', device: 'cpu' });
    try {
      this.group.allReduce([v], 'max');
      const [max, negMin] = Array.from(v.data() as Float64Array);
      if (max !== -negMin!) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `the ranks would resume at different steps (${-negMin!} to ${max}): every rank must read the same work folder`);
    } finally {
      v.dispose();
    }
  }

  /**
   * Between backward and the optimiser's step: the gradients' mean over the ranks. The first
   * call hooks the network's parameters (and averages that step's gradients through the same
   * buckets); from then on each bucket's all_reduce starts during backward, as soon as its
   * gradients are ready, and this waits for them.
   */
  averageGradients(network: Module): void {
    // Every rank runs the same network and loss, so the same parameters have gradients.
    this.#reducer ??= new GradientReducer(this.group, network, { withoutGradient: 'skip' });
    this.#reducer.finish();
  }

  /** Removes the gradient hooks: when training ends (the network may live on). */
  dispose(): void {
    this.#reducer?.dispose();
    this.#reducer = null;
  }

  /** The step's loss averaged over ranks (equal shares: the global batch's mean), and whether any rank was asked to stop. */
  agree(loss: number, stop: boolean): { loss: number; stop: boolean } {
    const v = T.tensor([loss, stop ? 1 : 0], [2], { dtype: 'float64', device: 'cpu' });
    try {
      this.group.allReduce([v]);
      const [sum, stops] = Array.from(v.data() as Float64Array);
      return { loss: sum! / this.group.worldSize, stop: stops! > 0 };
    } finally {
      v.dispose();
    }
  }
}
