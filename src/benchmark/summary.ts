import { SpotdiffError } from '../util/errors.js';
import { formatGap, formatPercent } from '../pretrain/ablation-table.js';
import type { MetricTable, TableCell } from '../metrics/table.js';
import { BENCHMARK_METRICS, type BenchmarkMetric } from './protocol.js';
import type { BenchmarkInit } from './inits.js';
import type { PaperMeans } from './paper-figures.js';

/**
 * The benchmark's summary in the layout of the paper's Tables 3 and 4: one row per
 * initialisation, the mean over objects of classification and segmentation AU-PR and AU-ROC
 * (mean ± std over runs when there are several), a "+SPD" row followed by its gain over its
 * base in brackets, and under a row whose name the paper uses, the paper's figures with the
 * paper's own gain. Engine-free.
 */

export interface SummaryCell extends TableCell {
  /** This mean minus the base row's (fractions, unrounded); null without a base value. */
  gain: number | null;
}

export interface SummaryRow {
  name: string;
  base: string | null;
  cells: Partial<Record<BenchmarkMetric, SummaryCell>>;
  /** The paper's figures for this row's name, with gains over the paper's base row; null when the paper has none. */
  paper: Partial<Record<BenchmarkMetric, { value: number; gain: number | null }>> | null;
}

const LABELS: Readonly<Record<BenchmarkMetric, string>> = {
  'image.aupr': 'cls AU-PR',
  'image.auroc': 'cls AU-ROC',
  'pixel.aupr': 'seg AU-PR',
  'pixel.auroc': 'seg AU-ROC',
};

/** The mean row of one initialisation's per-object table, by metric. */
function meanCells(table: MetricTable): Partial<Record<BenchmarkMetric, TableCell>> {
  const mean = table.rows.find((r) => r.name === 'mean');
  if (mean === undefined) throw new SpotdiffError('ERR_BAD_INPUT', 'a per-object table without a mean row');
  const out: Partial<Record<BenchmarkMetric, TableCell>> = {};
  table.metrics.forEach((m, i) => {
    if ((BENCHMARK_METRICS as readonly string[]).includes(m)) out[m as BenchmarkMetric] = mean.cells[i] as TableCell;
  });
  return out;
}

/** The summary rows, in the order of `inits`; `tables[name]` is that row's per-object table (buildTable with a mean row). */
export function summaryRows(inits: readonly BenchmarkInit[], tables: Readonly<Record<string, MetricTable>>, paper: PaperMeans | null = null): SummaryRow[] {
  const means = new Map(inits.map((i) => {
    const t = tables[i.name];
    if (t === undefined) throw new SpotdiffError('ERR_BAD_INPUT', `no results for row ${i.name}`);
    return [i.name, meanCells(t)] as const;
  }));
  return inits.map((init) => {
    const own = means.get(init.name)!;
    const base = init.base === null ? undefined : means.get(init.base);
    const cells: Partial<Record<BenchmarkMetric, SummaryCell>> = {};
    for (const m of BENCHMARK_METRICS) {
      const c = own[m];
      const b = base?.[m];
      if (c !== undefined) cells[m] = { ...c, gain: b === undefined ? null : c.mean - b.mean };
    }
    return { name: init.name, base: init.base, cells, paper: paperCells(init, paper) };
  });
}

function paperCells(init: BenchmarkInit, paper: PaperMeans | null): SummaryRow['paper'] {
  const own = paper?.rows[init.name];
  if (own === undefined) return null;
  const base = init.base === null ? undefined : paper?.rows[init.base];
  return Object.fromEntries(BENCHMARK_METRICS.map((m) => [m, { value: own[m], gain: base === undefined ? null : own[m] - base[m] }]));
}

function ourText(c: SummaryCell | undefined, base: SummaryCell | undefined, digits: number): string {
  if (c === undefined) return '-';
  const std = c.std === null ? '' : ` ± ${(c.std * 100).toFixed(digits)}`;
  return `${formatPercent(c.mean, digits)}${std}${base !== undefined ? ` ${formatGap(base.mean, c.mean, digits)}` : ''}`;
}

/** Aligned plain text: a header, each row, and under it "  paper" with the published figures where the paper has the row. */
export function renderSummaryText(rows: readonly SummaryRow[], digits = 1): string {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const head = ['initialisation', ...BENCHMARK_METRICS.map((m) => LABELS[m])];
  const body: string[][] = [];
  for (const r of rows) {
    const base = r.base === null ? undefined : byName.get(r.base);
    body.push([r.name, ...BENCHMARK_METRICS.map((m) => ourText(r.cells[m], base?.cells[m], digits))]);
    const p = r.paper;
    if (p !== null) {
      const pb = base?.paper ?? null;
      body.push(['  paper', ...BENCHMARK_METRICS.map((m) => {
        const v = p[m];
        if (v === undefined) return '-';
        const b = pb?.[m];
        return `${formatPercent(v.value, digits)}${b !== undefined ? ` ${formatGap(b.value, v.value, digits)}` : ''}`;
      })]);
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((l) => (l[i] as string).length)));
  const line = (l: string[]): string => l.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ').trimEnd();
  return [line(head), ...body.map(line)].join('\n');
}
