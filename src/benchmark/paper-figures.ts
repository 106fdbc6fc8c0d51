import { existsSync, readFileSync } from 'node:fs';
import { paperResultsFile } from '../data/visa/facts.js';
import type { PaperFigures, ReportMetricKey } from '../report/index.js';
import { BENCHMARK_METRICS, type BenchmarkMetric, type PaperTableRef } from './protocol.js';

/**
 * The paper's published VisA figures (data/visa/paper_results.json, percentages) as fractions
 * under our metric keys. They apply only when every benchmarked object is a VisA object; the
 * published means are over all 12.
 */

export const VISA_OBJECTS: readonly string[] = ['candle', 'capsules', 'cashew', 'chewinggum', 'fryum', 'macaroni1', 'macaroni2', 'pcb1', 'pcb2', 'pcb3', 'pcb4', 'pipe_fryum'];
const TABLE_KEYS: ReportMetricKey[] = [...BENCHMARK_METRICS];

type Table = { columns: string[] } & Record<string, number[] | string[]>;

export function isVisaObjects(objects: readonly string[]): boolean {
  return objects.length > 0 && objects.every((o) => VISA_OBJECTS.includes(o));
}

function readTables(path: string | undefined): Record<string, Table> | null {
  const file = path ?? paperResultsFile;
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, Table>) : null;
}

/** A table row's named columns as fractions; null when the table, the row or a column is absent. */
function pick(t: Table | undefined, row: string, cols: readonly string[]): number[] | null {
  const v = t?.[row] as number[] | undefined;
  if (t === undefined || v === undefined) return null;
  const out = cols.map((c) => v[t.columns.indexOf(c)]);
  return out.every((x): x is number => typeof x === 'number') ? out.map((x) => x / 100) : null;
}

/** The paper's VisA figures for a 1-class method (per object for PaDiM, means), as fractions; null when not VisA or the file is absent. */
export function paperFigures(path: string | undefined, method: string, objects: readonly string[]): PaperFigures | null {
  const all = readTables(path);
  if (all === null || !isVisaObjects(objects)) return null;
  const rows: Record<string, Partial<Record<ReportMetricKey, number>>> = {};
  const meanTable = method === 'padim' ? all['table2_1class_padim_resnet50'] : all['table6_1class_patchcore_wide_resnet50'];
  const mean = pick(meanTable, 'supervised', ['visa_cls_aupr', 'visa_cls_auroc', 'visa_seg_aupr', 'visa_seg_auroc']);
  if (mean !== null) rows['mean'] = Object.fromEntries(TABLE_KEYS.map((k, i) => [k, mean[i] as number]));
  if (method === 'padim') {
    for (const o of objects) {
      const cls = pick(all['table7_1class_cls_padim_per_object'], o, ['supervised_aupr', 'supervised_auroc']);
      const seg = pick(all['table8_1class_seg_padim_per_object'], o, ['supervised_aupr', 'supervised_auroc']);
      if (cls !== null && seg !== null) rows[o] = { 'image.aupr': cls[0]!, 'image.auroc': cls[1]!, 'pixel.aupr': seg[0]!, 'pixel.auroc': seg[1]! };
    }
  }
  const source = method === 'padim' ? 'Zou et al., ECCV 2022, Tables 2, 7, 8 (PaDiM, ResNet-50, supervised ImageNet)' : 'Zou et al., ECCV 2022, Table 6 (PatchCore, WideResNet-50-2, supervised ImageNet; means only)';
  return Object.keys(rows).length > 0 ? { source, rows } : null;
}

export interface PaperMeans {
  source: string;
  /** Per benchmark row name that matches a row of the paper's table (case-insensitive): its means over the 12 objects. */
  rows: Record<string, Record<BenchmarkMetric, number>>;
}

/** The published means of the rows named like ours (supervised, simsiam+spd, …); null off VisA, without the file or without a match. */
export function paperMeans(path: string | undefined, ref: PaperTableRef | null, names: readonly string[], objects: readonly string[]): PaperMeans | null {
  const all = readTables(path);
  if (ref === null || all === null || !isVisaObjects(objects)) return null;
  const table = all[ref.table];
  if (table === undefined) return null;
  const rows: Record<string, Record<BenchmarkMetric, number>> = {};
  for (const name of names) {
    const v = pick(table, name.toLowerCase(), ref.columns);
    if (v !== null) rows[name] = Object.fromEntries(BENCHMARK_METRICS.map((k, i) => [k, v[i] as number])) as Record<BenchmarkMetric, number>;
  }
  return Object.keys(rows).length > 0 ? { source: ref.source, rows } : null;
}
