import { Random } from '../../util/random.js';
import type { SplitRow, SplitType } from '../visa/split-csv.js';
import { SPLIT_RULES } from './rules.js';
import { trainCount } from './train-count.js';

/**
 * Assigns train/test per object and per class under a split rule (rules.ts), seeded: each
 * class's images are sorted by path first, so the assignment does not depend on the order they
 * were listed in, then shuffled by a stream derived from (seed, split type, object, class), and
 * the first trainCount(...) of the shuffle train. Adding an object or class leaves the others'
 * assignment as it was.
 * Rows come out in the official files' order: objects by name, and within an object train
 * normal, train anomaly, test normal, test anomaly, each group sorted by image path.
 */

/** One object's images; paths relative to the dataset root, '/'-separated. */
export interface ObjectImages {
  object: string;
  normal: readonly string[];
  anomaly: readonly { image: string; mask: string }[];
}

/** A split file row without its line number. */
export type SplitEntry = Omit<SplitRow, 'line'>;

export function assignSplit(objects: readonly ObjectImages[], splitType: SplitType, seed: number): SplitEntry[] {
  const rule = SPLIT_RULES[splitType];
  const rows: SplitEntry[] = [];
  for (const o of [...objects].sort((a, b) => byString(a.object, b.object))) {
    const normal = o.normal.map((image) => ({ object: o.object, label: 'normal' as const, image, mask: null }));
    const anomaly = o.anomaly.map(({ image, mask }) => ({ object: o.object, label: 'anomaly' as const, image, mask }));
    const n = splitClass(normal, rule.normal, Random.derive(seed, 'split', splitType, o.object, 'normal'), `${o.object} normal`);
    const a = splitClass(anomaly, rule.anomaly, Random.derive(seed, 'split', splitType, o.object, 'anomaly'), `${o.object} anomaly`);
    for (const [split, group] of [['train', n.train], ['train', a.train], ['test', n.test], ['test', a.test]] as const) {
      for (const r of group) rows.push({ ...r, split });
    }
  }
  return rows;
}

type Unsplit = Omit<SplitEntry, 'split'>;

/** One class: sorted, shuffled, the first trainCount train; both sides returned sorted by path. */
function splitClass(items: readonly Unsplit[], fraction: number, rng: Random, what: string): { train: Unsplit[]; test: Unsplit[] } {
  const sorted = [...items].sort((a, b) => byString(a.image, b.image));
  const shuffled = rng.shuffled(sorted);
  const k = trainCount(fraction, sorted.length, what);
  const train = new Set(shuffled.slice(0, k));
  return { train: sorted.filter((r) => train.has(r)), test: sorted.filter((r) => !train.has(r)) };
}

/** Code-point order, the same on every platform and locale. */
function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
