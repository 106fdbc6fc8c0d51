import { SpotdiffError } from '../../util/errors.js';
import type { HostTensor } from './host-tensor.js';

/** Named host tensors in the order they were saved (torch's state_dict order for .pth files). */
export type StateDict = Map<string, HostTensor>;

/**
 * Checks a state dict against the names and shapes a model expects. One error lists every
 * problem: missing names, unexpected names and shape mismatches. With `strict: false` only
 * shape mismatches of names present on both sides count.
 */
export function checkStateDict(
  expected: ReadonlyMap<string, readonly number[]>,
  actual: ReadonlyMap<string, Pick<HostTensor, 'shape'>>,
  opts: { strict?: boolean } = {},
): void {
  const strict = opts.strict ?? true;
  const missing: string[] = [];
  const unexpected: string[] = [];
  const mismatched: string[] = [];
  for (const [name, shape] of expected) {
    const got = actual.get(name);
    if (got === undefined) missing.push(name);
    else if (!sameShape(shape, got.shape)) mismatched.push(`${name} (expected [${shape.join(', ')}], got [${got.shape.join(', ')}])`);
  }
  for (const name of actual.keys()) if (!expected.has(name)) unexpected.push(name);
  const parts: string[] = [];
  if (strict && missing.length) parts.push(`missing (${missing.length}): ${missing.join(', ')}`);
  if (strict && unexpected.length) parts.push(`unexpected (${unexpected.length}): ${unexpected.join(', ')}`);
  if (mismatched.length) parts.push(`shape mismatch (${mismatched.length}): ${mismatched.join(', ')}`);
  if (parts.length) {
    throw new SpotdiffError('ERR_BAD_CHECKPOINT', `the checkpoint does not fit the model: ${parts.join('; ')}`);
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
