import type * as T from '../tensor/index.js';
import { callOp } from '../tensor/native.js';
import { Module } from '../nn/module.js';
import { SpotdiffError, isSpotdiffError } from '../util/errors.js';
import { DEFAULT_BUCKET_BYTES, DEFAULT_FIRST_BUCKET_BYTES } from './buckets.js';
import { nativeGroupId, type ProcessGroup } from './process-group.js';

export interface GradientReducerOptions {
  /** The size of a bucket, one all_reduce each (DDP's bucket_cap_mb). */
  bucketBytes?: number;
  /**
   * The size of the first bucket (the last layers, ready first), at most bucketBytes: DDP's
   * 1 MiB (_DEFAULT_FIRST_BUCKET_BYTES), so that communication starts early in backward.
   */
  firstBucketBytes?: number;
  /** A parameter without a gradient this step: as averageGradients' option of the same name. */
  withoutGradient?: 'zeros' | 'skip';
}

/** What the reducer did, for tests and benchmarks. */
export interface GradientReducerStats {
  buckets: number;
  /** Buckets whose all_reduce started during the last finished step's backward (before finish). */
  launchedInBackward: number;
  /** Steps finished. */
  steps: number;
  /** Buckets whose all_reduce has started in the current step so far (before finish). */
  launchedNow: number;
}

/**
 * Averages gradients over the group's ranks with the all_reduces overlapped with backward, as
 * torch DDP's Reducer: the parameters are split into buckets in reverse order (gradients become
 * ready roughly from the last layer back); a hook on each parameter's gradient accumulator marks
 * it ready, and a bucket whose parameters are all ready starts its all_reduce while backward
 * goes on. Call finish() after each backward (before the optimiser's step): it runs the buckets
 * that are still waiting (parameters without a gradient this step), waits for all and leaves
 * each gradient replaced by its mean, exactly as averageGradients would. A bucket's gradients
 * are read when it starts, so nothing may change them between backward and finish() (clip or
 * unscale after it). One backward per finish(): a gradient accumulated twice makes finish()
 * throw (ERR_BAD_INPUT, after the step's collectives, so the ranks stay in step) and leaves
 * the gradients unaveraged. Every rank must pass the same parameters in the same order. A group of
 * one process makes this a no-op. dispose() removes the hooks; it must be called when training ends.
 */
export class GradientReducer {
  readonly worldSize: number;
  #id: number | null;

  constructor(group: ProcessGroup, source: Module | readonly T.Tensor[], opts: GradientReducerOptions = {}) {
    const bucketBytes = opts.bucketBytes ?? DEFAULT_BUCKET_BYTES;
    const firstBucketBytes = opts.firstBucketBytes ?? DEFAULT_FIRST_BUCKET_BYTES;
    for (const [what, v] of [['bucket', bucketBytes], ['first bucket', firstBucketBytes]] as const) {
      if (!(v > 0) || !Number.isSafeInteger(v)) throw new SpotdiffError('ERR_BAD_INPUT', `${what} size must be a positive whole number of bytes, got ${v}`);
    }
    this.worldSize = group.worldSize;
    if (group.worldSize === 1) {
      this.#id = null;
      return;
    }
    const params = source instanceof Module ? source.parameters() : source;
    const id = callOp('grad_reducer_create', [nativeGroupId(group), params.map((p) => p.handle), bucketBytes, opts.withoutGradient ?? 'zeros', firstBucketBytes]);
    this.#id = id as number;
  }

  get isDisposed(): boolean {
    return this.#id === null && this.worldSize > 1;
  }

  #reducer(): number | null {
    if (this.worldSize === 1) return null;
    if (this.#id === null) throw new SpotdiffError('ERR_DISPOSED', 'this gradient reducer was disposed');
    return this.#id;
  }

  /** After backward: every gradient replaced by its mean over the ranks (ERR_NETWORK when a collective fails). */
  finish(): void {
    const id = this.#reducer();
    if (id === null) return;
    try {
      callOp('grad_reducer_finish', [id]);
    } catch (e) {
      if (isSpotdiffError(e, 'ERR_TORCH')) throw new SpotdiffError('ERR_NETWORK', e.message, { cause: e });
      throw e;
    }
  }

  stats(): GradientReducerStats {
    const id = this.#reducer();
    if (id === null) return { buckets: 0, launchedInBackward: 0, steps: 0, launchedNow: 0 };
    const [buckets, launchedInBackward, steps, launchedNow] = callOp('grad_reducer_stats', [id]) as [number, number, number, number];
    return { buckets, launchedInBackward, steps, launchedNow };
  }

  /** Removes the hooks and frees the buckets. Safe to call twice. */
  dispose(): void {
    if (this.#id === null) return;
    callOp('grad_reducer_destroy', [this.#id]);
    this.#id = null;
  }
}
