import * as T from '../tensor/index.js';
import { SpotdiffError } from '../util/errors.js';
import type { ProcessGroup } from './process-group.js';

/**
 * Moving JSON-able values between ranks, as torch.distributed's all_gather_object: each rank's
 * value as UTF-8 JSON bytes, their lengths all-gathered first, then the bytes padded to the
 * longest and all-gathered as uint8 tensors. A collective: every rank calls it, in the same order.
 */

/** Every rank's `value`, in rank order (a JSON round trip: undefined fields drop, as in JSON.stringify). */
export function allGatherObjects<V>(group: ProcessGroup, value: V): V[] {
  const text = JSON.stringify(value);
  if (text === undefined) throw new SpotdiffError('ERR_BAD_INPUT', `rank ${group.rank}: allGatherObjects takes a JSON-able value, got ${typeof value}`);
  const bytes = new TextEncoder().encode(text);
  // Host tensors (Gloo) whatever the default device.
  return T.tidy(() => {
    const lengths = group.allGather(T.tensor(BigInt64Array.of(BigInt(bytes.length)), [1], { device: 'cpu' })).map((t) => Number((t.data() as BigInt64Array)[0]));
    const longest = Math.max(...lengths);
    const padded = new Uint8Array(longest);
    padded.set(bytes);
    const gathered = group.allGather(T.tensor(padded, [longest], { dtype: 'uint8', device: 'cpu' }));
    const decoder = new TextDecoder();
    return gathered.map((t, r) => JSON.parse(decoder.decode((t.data() as Uint8Array).subarray(0, lengths[r]))) as V);
  });
}
