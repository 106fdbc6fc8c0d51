import { Random } from '../util/random.js';
import { SpotdiffError } from '../util/errors.js';

export interface DistributedSamplerOptions {
  /** Samples in the dataset. */
  length: number;
  rank: number;
  worldSize: number;
  /** Same seed on every rank: all ranks shuffle alike and take disjoint shares. */
  seed?: number;
  shuffle?: boolean;
  /** Drop the tail that does not divide evenly instead of padding it (torch's drop_last). */
  dropLast?: boolean;
}

/**
 * Each rank's share of an epoch, as torch.utils.data.DistributedSampler: the indices shuffled by
 * a stream of (seed, epoch), made divisible by the world size — padded with indices from the
 * start of the order (repeated when the dataset is smaller than the padding), or with dropLast
 * cut short — and rank r takes positions r, r + worldSize, r + 2·worldSize, ... Every rank gets
 * the same number of samples, so every rank runs the same number of steps.
 */
export class DistributedSampler {
  readonly length: number;
  readonly rank: number;
  readonly worldSize: number;
  readonly seed: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  /** Samples per rank and epoch. */
  readonly perRank: number;

  constructor(o: DistributedSamplerOptions) {
    const int = (v: number, min: number): boolean => Number.isInteger(v) && v >= min;
    if (!int(o.length, 0)) throw new SpotdiffError('ERR_BAD_INPUT', `sampler: length must be a whole number, got ${o.length}`);
    if (!int(o.worldSize, 1)) throw new SpotdiffError('ERR_BAD_INPUT', `sampler: world size must be a positive integer, got ${o.worldSize}`);
    if (!int(o.rank, 0) || o.rank >= o.worldSize) throw new SpotdiffError('ERR_BAD_INPUT', `sampler: rank must be in 0..${o.worldSize - 1}, got ${o.rank}`);
    this.length = o.length;
    this.rank = o.rank;
    this.worldSize = o.worldSize;
    this.seed = o.seed ?? 0;
    this.shuffle = o.shuffle ?? true;
    this.dropLast = o.dropLast ?? false;
    const w = this.worldSize;
    this.perRank = this.dropLast && this.length % w !== 0 ? Math.ceil((this.length - w) / w) : Math.ceil(this.length / w);
    if (this.length > 0 && this.perRank === 0) {
      throw new SpotdiffError('ERR_BAD_INPUT', `sampler: ${this.length} samples leave nothing for ${w} ranks with dropLast`);
    }
  }

  /** This rank's sample indices for `epoch`, in the order they are served. */
  indices(epoch: number): number[] {
    if (!Number.isInteger(epoch) || epoch < 0) throw new SpotdiffError('ERR_BAD_INPUT', `sampler: epoch must be a whole number, got ${epoch}`);
    let order = Array.from({ length: this.length }, (_, i) => i);
    // DataLoader's own epoch order (data/loader.ts): one rank alone serves what a plain loader
    // would, and the ranks' batches together are the one-process batches.
    if (this.shuffle) order = Random.derive(this.seed, 'loader-epoch', epoch).shuffle(order);
    const total = this.perRank * this.worldSize;
    if (total > order.length) {
      const padded = order.slice();
      while (padded.length < total) padded.push(...order.slice(0, total - padded.length));
      order = padded;
    } else {
      order = order.slice(0, total);
    }
    const mine: number[] = [];
    for (let i = this.rank; i < total; i += this.worldSize) mine.push(order[i] as number);
    return mine;
  }
}
