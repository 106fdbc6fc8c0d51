import * as T from '../tensor/index.js';
import { Module } from '../nn/module.js';
import { SpotdiffError } from '../util/errors.js';
import { DEFAULT_BUCKET_BYTES, throughBuckets } from './buckets.js';
import type { ProcessGroup } from './process-group.js';

function checkBucketBytes(bytes: number): void {
  if (!(bytes > 0)) throw new SpotdiffError('ERR_BAD_INPUT', `bucket size must be positive, got ${bytes} bytes`);
}

/**
 * Replaces every parameter's gradient (of a module, or a list) by its mean over the group's
 * ranks, as DDP does after backward: gradients flattened into buckets of about `bucketBytes`,
 * one all_reduce each. Every rank must pass the same parameters in the same order. A parameter
 * without a gradient on this rank (unused by its batch) takes part with zeros and is left with
 * the averaged gradient, so that every rank reduces the same buckets; with `withoutGradient:
 * 'skip'` it is left out instead (and keeps no gradient, as in one process), which is right only
 * when every rank's graph reaches the same parameters (the same model and loss on every rank).
 */
export function averageGradients(
  group: ProcessGroup,
  source: Module | readonly T.Tensor[],
  opts: { bucketBytes?: number; withoutGradient?: 'zeros' | 'skip' } = {},
): void {
  const params = source instanceof Module ? source.parameters() : source;
  const bucketBytes = opts.bucketBytes ?? DEFAULT_BUCKET_BYTES;
  checkBucketBytes(bucketBytes);
  if (group.worldSize === 1) return;
  T.noGrad(() =>
    T.tidy(() => {
      const skip = opts.withoutGradient === 'skip';
      const grads: T.Tensor[] = [];
      for (const p of params) {
        if (p.grad === null && skip) continue;
        if (p.grad === null) p.setGrad(T.zeros(p.shape, { dtype: p.dtype, device: p.device }));
        grads.push(p.grad as T.Tensor);
      }
      throughBuckets(grads, bucketBytes, (flat) => {
        group.allReduce([flat], 'sum');
        T.divInPlace(flat, group.worldSize);
      });
    }),
  );
}

/**
 * Overwrites every parameter and buffer of `model` with rank `root`'s values, as DDP does when
 * it wraps a model: ranks that initialised or loaded differently start from the same state.
 * Every rank must pass a model of the same architecture.
 */
export function broadcastState(group: ProcessGroup, model: Module, root = 0, opts: { bucketBytes?: number } = {}): void {
  const bucketBytes = opts.bucketBytes ?? DEFAULT_BUCKET_BYTES;
  checkBucketBytes(bucketBytes);
  if (group.worldSize === 1) return;
  throughBuckets([...model.stateDict().values()], bucketBytes, (flat) => group.broadcast([flat], root));
}
