import * as T from '../tensor/index.js';
import { SpotdiffError } from '../util/errors.js';
import { Random } from '../util/random.js';
import { DistributedSampler } from '../distributed/sampler.js';
import { broadcastState } from '../distributed/grad-average.js';
import { GradientReducer } from '../distributed/grad-reducer.js';
import { requireBackend, type ProcessGroup } from '../distributed/process-group.js';
import { convertSyncBatchNorm } from '../distributed/sync-batchnorm.js';
import type { Module } from '../nn/module.js';
import type { PretrainMethodName } from './method.js';

/**
 * The global batch must split evenly (MoCo's queue and shuffled keys and SimCLR's negatives
 * span the global batch through the method's useGroup). Ranks on the CPU average through Gloo,
 * ranks on CUDA devices through NCCL (this build must have it). The launcher asks before
 * starting any worker.
 */
export function checkDataParallel(_method: PretrainMethodName, batchSize: number, worldSize: number, device: string): void {
  if (worldSize === 1) return;
  if (device.startsWith('cuda')) requireBackend('nccl');
  else if (device !== 'cpu') throw new SpotdiffError('ERR_USAGE', `data-parallel pre-training runs on cpu or cuda devices, got ${device}`);
  if (batchSize % worldSize !== 0) throw new SpotdiffError('ERR_USAGE', `the batch size ${batchSize} does not split evenly across ${worldSize} processes`);
}

/**
 * The trainer's side of data-parallel pre-training (one process per rank, as torch DDP): the
 * global batch split evenly across ranks, each rank's share of an epoch from the one-process
 * order, gradients averaged after backward, the step's losses and a stop request agreed by all.
 * Every rank ends each step with the same weights; rank 0 writes the files.
 */
export class DataParallel {
  #reducer: GradientReducer | null = null;

  constructor(readonly group: ProcessGroup) {}

  get rank(): number {
    return this.group.rank;
  }

  /** Only rank 0 writes the checkpoint, the log and the backbone. */
  get writes(): boolean {
    return this.group.rank === 0;
  }

  check(method: PretrainMethodName, batchSize: number, device: string): void {
    checkDataParallel(method, batchSize, this.group.worldSize, device);
    if (device.startsWith('cuda') && this.group.worldSize > 1 && this.group.backend !== 'nccl') {
      throw new SpotdiffError('ERR_BAD_INPUT', `rank ${this.group.rank} trains on ${device} but its group was joined without NCCL (backend ${this.group.backend})`);
    }
  }

  /** This rank's loader settings: its per-rank batch and its share of each epoch's order. */
  loaderShard(images: number, batchSize: number, seed: number): { batchSize: number; shard: DistributedSampler } {
    const w = this.group.worldSize;
    // dropLast: each rank's floor(n / w) samples make floor(n / batch) steps, as one process.
    const shard = new DistributedSampler({ length: images, rank: this.group.rank, worldSize: w, seed, dropLast: true });
    return { batchSize: batchSize / w, shard };
  }

  /** Augmentations: rank 0 draws the one-process stream, the others streams of their own. */
  stepRng(seed: number, epoch: number, step: number): Random {
    return this.group.rank === 0 ? Random.derive(seed, 'pretrain', epoch, step) : Random.derive(seed, 'pretrain', epoch, step, 'rank', this.group.rank);
  }

  /** Every rank starts from rank 0's weights and buffers. */
  startFromRankZero(module: Module): void {
    broadcastState(this.group, module, 0);
  }

  /**
   * SyncBatchNorm where the recipe (or --sync-bn) asks for it: every BatchNorm of the method's
   * networks then normalises over the global batch, so a step equals one process's on it. The
   * layers keep their tensors: the optimiser, checkpoints and the exported backbone are unchanged.
   */
  useSyncBatchNorm(module: Module, on: boolean): void {
    if (on) convertSyncBatchNorm(module, this.group);
  }

  /**
   * Between backward and the optimiser's step: the gradients' mean over the ranks. The first
   * call hooks the parameters (and averages that step's gradients through the same buckets);
   * from then on each bucket's all_reduce starts during backward, as soon as its gradients are
   * ready, and this waits for them. `params` must be the same every step.
   */
  averageGradients(params: readonly T.Tensor[]): void {
    // Every rank runs the same model and loss, so the same parameters have gradients.
    this.#reducer ??= new GradientReducer(this.group, params, { withoutGradient: 'skip' });
    this.#reducer.finish();
  }

  /** Removes the gradient hooks: when training ends. */
  dispose(): void {
    this.#reducer?.dispose();
    this.#reducer = null;
  }

  /** The step's losses averaged over ranks, and whether any rank was asked to stop. */
  agree(losses: { total: number; base: number; spd: number }, stop: boolean): { total: number; base: number; spd: number; stop: boolean } {
    return T.tidy(() => {
      const v = T.tensor([losses.total, losses.base, losses.spd, stop ? 1 : 0], [4], { dtype: 'float64', device: 'cpu' });
      this.group.allReduce([v]);
      const [total, base, spd, stops] = Array.from(v.data() as Float64Array);
      const w = this.group.worldSize;
      return { total: total! / w, base: base! / w, spd: spd! / w, stop: stops! > 0 };
    });
  }
}
