import type { ProcessGroup } from './process-group.js';
import { allGatherObjects } from './objects.js';

/**
 * Independent units of work (0..n-1, e.g. one model to fit each) shared across a group's
 * ranks as each rank becomes free: a counter in the group's store (torch's store.add) hands out
 * the next unit, so ranks that drew short units take more of them and none waits on a static
 * share. Every rank then holds every unit's result (an all-gather of JSON-able results).
 */

/** Queues made so far per group: every rank makes them in the same order, so the n-th queue's key is the same on every rank and new in the store. */
const queuesMade = new WeakMap<ProcessGroup, number>();

/**
 * Runs `run(unit)` for each of `units` (distinct indices) and returns every result by unit, on
 * every rank. Without a group: one after the other, in the given order. With one: each rank
 * takes the next unit not yet taken until none is left, then the results are all-gathered (a
 * collective: every rank calls this with the same units, in the same order).
 */
export async function shareUnits<R>(group: ProcessGroup | null, units: readonly number[], run: (unit: number) => Promise<R>): Promise<Map<number, R>> {
  const results = new Map<number, R>();
  if (group === null) {
    for (const unit of units) results.set(unit, await run(unit));
    return results;
  }
  const made = queuesMade.get(group) ?? 0;
  queuesMade.set(group, made + 1);
  const key = `spotdiff/work-queue/${made}`;
  const mine: [number, R][] = [];
  for (let ticket = group.storeAdd(key, 1) - 1; ticket < units.length; ticket = group.storeAdd(key, 1) - 1) {
    mine.push([units[ticket]!, await run(units[ticket]!)]);
  }
  for (const list of allGatherObjects(group, mine)) for (const [unit, r] of list) results.set(unit, r);
  return results;
}
