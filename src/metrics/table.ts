import { SpotdiffError } from '../util/errors.js';

/**
 * Result tables as the paper prints them: one row per object, a mean row over objects, and,
 * when an object was evaluated in several runs (the k-shot protocol's 5 random draws),
 * mean ± std over those runs. Values are fractions in [0, 1]; rendering shows percent.
 */

/** One evaluation: an object (or any group), optionally which run, and its metric values. */
export interface MetricRecord {
  object: string;
  run?: string | number;
  metrics: Record<string, number>;
}

export interface TableCell {
  mean: number;
  /** Population std (NumPy's default ddof=0) over runs; null with a single run. */
  std: number | null;
  runs: number;
}

export interface TableRow {
  name: string;
  cells: TableCell[];
}

export interface MetricTable {
  metrics: string[];
  rows: TableRow[];
}

const LABELS: Record<string, string> = {
  aupr: 'AU-PR',
  auroc: 'AU-ROC',
  averagePrecision: 'AP',
  maxF1: 'max-F1',
  aupro: 'AUPRO',
};

export function metricLabel(key: string): string {
  return LABELS[key] ?? key;
}

function meanStd(values: number[]): TableCell {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, std: null, runs: n };
  const variance = values.reduce((a, b) => a + (b - mean) * (b - mean), 0) / n;
  return { mean, std: Math.sqrt(variance), runs: n };
}

/**
 * Groups records by object (first-seen order). With runs, an object's cell is mean ± std over its
 * runs, and the mean row is, per run, the mean over objects, then mean ± std over runs (this
 * needs every object to have the same runs). Without runs the mean row is the plain mean.
 */
export function buildTable(records: readonly MetricRecord[], options: { metrics?: string[]; meanRow?: boolean } = {}): MetricTable {
  if (records.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', 'no results to tabulate');
  const metrics = options.metrics ?? [...new Set(records.flatMap((r) => Object.keys(r.metrics)))];
  const byObject = new Map<string, MetricRecord[]>();
  for (const r of records) {
    const list = byObject.get(r.object) ?? [];
    list.push(r);
    byObject.set(r.object, list);
  }
  const valueOf = (r: MetricRecord, m: string): number => {
    const v = r.metrics[m];
    if (v === undefined) throw new SpotdiffError('ERR_BAD_INPUT', `${r.object}${r.run !== undefined ? ` run ${r.run}` : ''} has no ${metricLabel(m)} value`);
    return v;
  };
  const rows: TableRow[] = [...byObject].map(([name, list]) => ({ name, cells: metrics.map((m) => meanStd(list.map((r) => valueOf(r, m)))) }));

  if (options.meanRow ?? byObject.size > 1) {
    const runKeys = (list: MetricRecord[]): string => list.map((r) => String(r.run ?? '')).sort().join('\u0000');
    const lists = [...byObject.values()];
    const sameRuns = lists.every((l) => runKeys(l) === runKeys(lists[0] as MetricRecord[]));
    const multiRun = lists.some((l) => l.length > 1);
    const cells = metrics.map((m, mi) => {
      if (!multiRun || !sameRuns) return { mean: meanStd(rows.map((row) => (row.cells[mi] as TableCell).mean)).mean, std: null, runs: 1 };
      const runs = [...new Set(records.map((r) => String(r.run ?? '')))];
      const perRun = runs.map((run) => meanStd(lists.map((l) => valueOf(l.find((r) => String(r.run ?? '') === run) as MetricRecord, m))).mean);
      return meanStd(perRun);
    });
    rows.push({ name: 'mean', cells });
  }
  return { metrics, rows };
}

export interface RenderOptions {
  /** Decimals of the percentages (default 1, as the paper). */
  digits?: number;
}

function cellText(c: TableCell, digits: number): string {
  const v = (c.mean * 100).toFixed(digits);
  return c.std === null ? v : `${v} ± ${(c.std * 100).toFixed(digits)}`;
}

/** Plain text with aligned columns, for terminals. */
export function renderText(table: MetricTable, options: RenderOptions = {}): string {
  const digits = options.digits ?? 1;
  const head = ['object', ...table.metrics.map(metricLabel)];
  const body = table.rows.map((r) => [r.name, ...r.cells.map((c) => cellText(c, digits))]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] as string).length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}

/** A Markdown table. */
export function renderMarkdown(table: MetricTable, options: RenderOptions = {}): string {
  const digits = options.digits ?? 1;
  const head = ['object', ...table.metrics.map(metricLabel)];
  const rows = table.rows.map((r) => [r.name === 'mean' ? '**mean**' : r.name, ...r.cells.map((c) => cellText(c, digits))]);
  return [head, head.map((_, i) => (i === 0 ? '---' : '---:')), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** A JSON-ready form: per row, per metric key, { mean, std, runs } as fractions. */
export function tableJson(table: MetricTable): { rows: { name: string; metrics: Record<string, TableCell> }[] } {
  return {
    rows: table.rows.map((r) => ({ name: r.name, metrics: Object.fromEntries(table.metrics.map((m, i) => [m, r.cells[i] as TableCell])) })),
  };
}
