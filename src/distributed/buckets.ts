import * as T from '../tensor/index.js';

/** torch DDP's default bucket size (bucket_cap_mb = 25). */
export const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024;

/** torch DDP's first bucket (dist._DEFAULT_FIRST_BUCKET_BYTES): the gradients ready first start early. */
export const DEFAULT_FIRST_BUCKET_BYTES = 1024 * 1024;

const BYTES: Readonly<Record<T.DType, number>> = {
  float64: 8, int64: 8, float32: 4, int32: 4, float16: 2, bfloat16: 2, int16: 2, int8: 1, uint8: 1, bool: 1,
};

/**
 * Consecutive runs of tensors that travel as one flat tensor: same dtype and device, at most
 * `bucketBytes` (a tensor larger than that is a bucket of its own).
 */
export function tensorBuckets(tensors: readonly T.Tensor[], bucketBytes: number): T.Tensor[][] {
  const buckets: T.Tensor[][] = [];
  let current: T.Tensor[] = [];
  let bytes = 0;
  for (const t of tensors) {
    const size = t.size * BYTES[t.dtype];
    const head = current[0];
    const fits = head !== undefined && head.dtype === t.dtype && head.device === t.device && bytes + size <= bucketBytes;
    if (!fits && current.length > 0) {
      buckets.push(current);
      current = [];
      bytes = 0;
    }
    current.push(t);
    bytes += size;
  }
  if (current.length > 0) buckets.push(current);
  return buckets;
}

/**
 * Runs `collective` on each bucket flattened into one contiguous tensor and copies the result
 * back into the tensors (in place, whatever their memory format): one collective per bucket
 * instead of one per tensor.
 */
export function throughBuckets(tensors: readonly T.Tensor[], bucketBytes: number, collective: (flat: T.Tensor) => void): void {
  T.noGrad(() => {
    for (const bucket of tensorBuckets(tensors, bucketBytes)) {
      T.tidy(() => {
        const flat = T.cat(bucket.map((t) => T.reshape(t, [-1])));
        collective(flat);
        let offset = 0;
        for (const t of bucket) {
          T.copyInPlace(t, T.reshape(T.narrow(flat, 0, offset, t.size), t.shape));
          offset += t.size;
        }
      });
    }
  });
}
