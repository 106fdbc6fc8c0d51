import { buildTable, metricLabel, type MetricRecord } from '../metrics/table.js';
import { escapeHtml } from './escape.js';
import { REPORT_METRIC_KEYS, type LevelMetrics, type PaperFigures, type Report, type ReportMetricKey } from './types.js';

/**
 * The results table as HTML: one row per object and the mean over objects (metrics/table.ts
 * does the arithmetic), image-level and pixel-level column groups, and a greyed "paper" column
 * beside each metric the published figures cover.
 */

function levelValue(level: LevelMetrics | null, metric: string): number | undefined {
  if (level === null) return undefined;
  const v = (level as unknown as Record<string, unknown>)[metric];
  return typeof v === 'number' ? v : undefined;
}

function valueOf(obj: Report['objects'][number], key: ReportMetricKey): number | undefined {
  const [level, metric] = key.split('.') as ['image' | 'pixel', string];
  return levelValue(level === 'image' ? obj.image : obj.pixel, metric);
}

/** The columns every object has a value for, and those some objects lack. */
export function tableColumns(report: Report): { shown: ReportMetricKey[]; missing: ReportMetricKey[] } {
  const shown: ReportMetricKey[] = [];
  const missing: ReportMetricKey[] = [];
  for (const key of REPORT_METRIC_KEYS) {
    const have = report.objects.filter((o) => valueOf(o, key) !== undefined).length;
    if (have === report.objects.length) shown.push(key);
    else if (have > 0) missing.push(key);
  }
  return { shown, missing };
}

function paperValue(paper: PaperFigures | null | undefined, row: string, key: ReportMetricKey): number | undefined {
  return paper?.rows[row]?.[key];
}

export function metricsTableHtml(report: Report): string {
  const digits = report.digits ?? 1;
  const { shown, missing } = tableColumns(report);
  if (shown.length === 0) return '<p>No metric is available for every object.</p>';
  const records: MetricRecord[] = report.objects.map((o) => ({
    object: o.name,
    metrics: Object.fromEntries(shown.map((k) => [k, valueOf(o, k) as number])),
  }));
  const table = buildTable(records, { metrics: shown });
  const paper = report.paper ?? null;
  const withPaper = new Set(shown.filter((k) => table.rows.some((r) => paperValue(paper, r.name, k) !== undefined)));
  const span = (level: string): number => shown.filter((k) => k.startsWith(`${level}.`)).reduce((n, k) => n + (withPaper.has(k) ? 2 : 1), 0);
  const pct = (v: number): string => (v * 100).toFixed(digits);

  const head1 = ['<th rowspan="2" class="name">object</th>'];
  for (const [level, title] of [
    ['image', 'Image level (classification)'],
    ['pixel', 'Pixel level (segmentation)'],
  ] as const) {
    const n = span(level);
    if (n > 0) head1.push(`<th colspan="${n}" class="group">${title}</th>`);
  }
  const head2: string[] = [];
  for (const k of shown) {
    head2.push(`<th>${escapeHtml(metricLabel(k.split('.')[1] as string))}</th>`);
    if (withPaper.has(k)) head2.push('<th class="paper">paper</th>');
  }
  const body = table.rows.map((row) => {
    const cells = [`<th scope="row" class="name">${escapeHtml(row.name)}</th>`];
    shown.forEach((k, i) => {
      cells.push(`<td class="num" data-metric="${k}">${pct(row.cells[i]?.mean as number)}</td>`);
      if (withPaper.has(k)) {
        const p = paperValue(paper, row.name, k);
        cells.push(`<td class="num paper" data-metric="${k}">${p === undefined ? '' : pct(p)}</td>`);
      }
    });
    return `<tr${row.name === 'mean' && table.rows.length > 1 ? ' class="mean"' : ''}>${cells.join('')}</tr>`;
  });
  const notes: string[] = ['Values in percent.'];
  if (missing.length > 0) {
    notes.push(`Not shown, as some objects lack them: ${missing.map((k) => escapeHtml(`${k.split('.')[0]} ${metricLabel(k.split('.')[1] as string)}`)).join(', ')}.`);
  }
  if (paper !== null && withPaper.size > 0) notes.push(`Paper: ${escapeHtml(paper.source)}.`);
  return (
    `<table class="metrics"><thead><tr>${head1.join('')}</tr><tr>${head2.join('')}</tr></thead>` +
    `<tbody>${body.join('')}</tbody></table><p class="note">${notes.join(' ')}</p>`
  );
}
