import { SpotdiffError } from '../util/errors.js';

/**
 * Prepares `depth` items ahead of the one the consumer holds: while the consumer works on
 * item k (a training step), item k + 1 has already been taken from the source and prepared
 * (stacked into a tensor, its copy to the device queued). Items come out in the source's
 * order. `release` frees an item when the consumer asks for the next one, and frees every
 * prepared item when the consumer stops early or the source fails. A source's error reaches
 * the consumer where it failed: the items prepared before it come out first.
 */
export function prefetched<S, P>(source: AsyncIterable<S>, prepare: (item: S) => P, release: (prepared: P) => void, depth = 1): AsyncGenerator<P> {
  if (!Number.isInteger(depth) || depth < 0) throw new SpotdiffError('ERR_BAD_INPUT', `prefetch depth must be an integer >= 0, got ${depth}`);
  return run(source, prepare, release, depth);
}

async function* run<S, P>(source: AsyncIterable<S>, prepare: (item: S) => P, release: (prepared: P) => void, depth: number): AsyncGenerator<P> {
  const it = source[Symbol.asyncIterator]();
  const ready: P[] = [];
  let done = false;
  let failure: { error: unknown } | null = null;
  try {
    for (;;) {
      while (!done && failure === null && ready.length < depth + 1) {
        try {
          const r = await it.next();
          if (r.done === true) done = true;
          else ready.push(prepare(r.value));
        } catch (error) {
          failure = { error };
        }
      }
      const next = ready.shift();
      if (next === undefined) {
        if (failure !== null) throw failure.error;
        return;
      }
      try {
        yield next;
      } finally {
        release(next);
      }
    }
  } finally {
    for (const p of ready.splice(0)) release(p);
    await it.return?.(undefined);
  }
}
