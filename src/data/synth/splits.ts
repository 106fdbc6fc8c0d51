import { Random } from '../../util/random.js';

/**
 * The three official VisA split protocols, applied per object with a seeded assignment:
 *   1cls:          90% of normal images train; the other 10% and every anomaly test
 *   2cls_highshot: 60% / 40% of both classes train / test
 *   2cls_fewshot:  20% / 80% of both classes train / test
 * Train counts are round(fraction × count), which reproduces the official CSVs' counts.
 */

export const PROTOCOLS = {
  '1cls': { normalTrain: 0.9, anomalyTrain: 0 },
  '2cls_highshot': { normalTrain: 0.6, anomalyTrain: 0.6 },
  '2cls_fewshot': { normalTrain: 0.2, anomalyTrain: 0.2 },
} as const;

export type Protocol = keyof typeof PROTOCOLS;
export const PROTOCOL_NAMES = Object.keys(PROTOCOLS) as Protocol[];

export interface ObjectImages {
  object: string;
  /** Paths relative to the dataset root. */
  normal: readonly string[];
  anomaly: readonly { image: string; mask: string }[];
}

export interface SplitRow {
  object: string;
  split: 'train' | 'test';
  label: 'normal' | 'anomaly';
  image: string;
  mask: string;
}

export function splitRows(objects: readonly ObjectImages[], protocol: Protocol, seed: number): SplitRow[] {
  const { normalTrain, anomalyTrain } = PROTOCOLS[protocol];
  const rows: SplitRow[] = [];
  for (const o of objects) {
    const rng = Random.derive(seed, 'split', protocol, o.object);
    const normal = rng.shuffled(o.normal);
    const anomaly = rng.shuffled(o.anomaly);
    const nTrain = Math.round(normalTrain * normal.length);
    const aTrain = Math.round(anomalyTrain * anomaly.length);
    const n = (image: string, split: 'train' | 'test'): SplitRow => ({ object: o.object, split, label: 'normal', image, mask: '' });
    const a = (s: { image: string; mask: string }, split: 'train' | 'test'): SplitRow => ({ object: o.object, split, label: 'anomaly', image: s.image, mask: s.mask });
    rows.push(...normal.slice(0, nTrain).map((i) => n(i, 'train')));
    rows.push(...anomaly.slice(0, aTrain).map((s) => a(s, 'train')));
    rows.push(...normal.slice(nTrain).map((i) => n(i, 'test')));
    rows.push(...anomaly.slice(aTrain).map((s) => a(s, 'test')));
  }
  return rows;
}

export function splitCsv(rows: readonly SplitRow[]): string {
  return ['object,split,label,image,mask', ...rows.map((r) => `${r.object},${r.split},${r.label},${r.image},${r.mask}`)].join('\n') + '\n';
}
