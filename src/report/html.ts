import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SpotdiffError } from '../util/errors.js';
import { writeDirAtomic, writeFileAtomic } from '../util/atomic-write.js';
import { escapeHtml } from './escape.js';
import { formatScore } from './format.js';
import { metricsTableHtml } from './metrics-table.js';
import { colorbarSvg, histogramSvg, prSvg, rocSvg, type PrSeries, type RocSeries } from './plots.js';
import { selectExamples } from './examples.js';
import { validateReport } from './validate.js';
import type { ExampleOverlay, LevelMetrics, ObjectReport, Report } from './types.js';

/**
 * The report page. Images are inlined as data URIs, so the page is ONE file: it can be mailed,
 * attached to an issue or copied out of the folder and still shows everything, offline; a page
 * with PNG files beside it breaks as soon as it travels alone. The price is a third more bytes
 * per image (base64), which overlays shrunk to a few hundred pixels keep small.
 */

export const REPORT_FILE = 'index.html';

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1b1b; margin: 24px auto; max-width: 1180px; padding: 0 16px; line-height: 1.4; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 2px; }
.sub { color: #555; margin: 0 0 16px; }
dl.run { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.run dt { color: #555; }
dl.run dd { margin: 0; }
pre { background: #f6f6f6; padding: 8px; overflow-x: auto; font-size: 12px; }
table.metrics { border-collapse: collapse; margin: 8px 0 4px; font-variant-numeric: tabular-nums; }
table.metrics th, table.metrics td { padding: 4px 10px; border-bottom: 1px solid #e3e3e3; }
table.metrics thead th { border-bottom: 2px solid #999; font-weight: 600; }
table.metrics th.group { text-align: center; border-bottom: 1px solid #999; }
table.metrics .name { text-align: left; }
table.metrics td.num { text-align: right; }
table.metrics .paper { color: #888; font-style: italic; }
table.metrics tr.mean { font-weight: 700; border-top: 2px solid #999; }
.note, .hint { color: #666; font-size: 13px; margin: 2px 0; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.charts svg { background: #fff; border: 1px solid #eee; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 10px; }
figure.example { margin: 0; border: 2px solid #ccc; padding: 4px; background: #fafafa; }
figure.example.wrong { border-color: #d55e00; }
figure.example .pair { display: flex; gap: 4px; }
figure.example img { width: 100%; min-width: 0; height: auto; image-rendering: auto; display: block; }
figure.example .pair img { width: 50%; }
figcaption { font-size: 12px; margin-top: 4px; overflow-wrap: anywhere; }
figcaption .verdict { color: #555; }
figure.example.wrong .verdict { color: #b04a00; font-weight: 600; }
nav.toc { margin: 12px 0; }
nav.toc a { margin-right: 10px; }
.scale { display: flex; align-items: center; gap: 12px; margin-top: 10px; }
footer { margin-top: 40px; color: #888; font-size: 12px; }
`;

function dataUri(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png.buffer, png.byteOffset, png.length).toString('base64')}`;
}

function configJson(config: Readonly<Record<string, unknown>>): string {
  try {
    return JSON.stringify(config, null, 2);
  } catch (e) {
    throw new SpotdiffError('ERR_BAD_INPUT', `report: the run config cannot be written as JSON: ${(e as Error).message}`, { cause: e });
  }
}

function runInfoHtml(report: Report): string {
  const r = report.run;
  const rows: [string, string][] = [
    ['method', r.method],
    ['backbone', r.backbone],
    ['dataset', r.dataset],
    ['date', r.date],
    ['objects', report.objects.map((o) => o.name).join(', ')],
  ];
  if (report.objects.length === 1) {
    const t = (report.objects[0] as ObjectReport).threshold;
    rows.push(['threshold', t === null ? 'none' : `${formatScore(t.value)} (${t.source})`]);
  }
  for (const [k, v] of Object.entries(r.extra ?? {})) rows.push([k, v]);
  const dl = rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('');
  return (
    `<dl class="run">${dl}</dl>` +
    `<details><summary>configuration</summary><pre class="config">${escapeHtml(configJson(r.config))}</pre></details>`
  );
}

function hasCurve(m: LevelMetrics | null, which: 'roc' | 'pr'): boolean {
  if (m === null) return false;
  return which === 'roc' ? (m.roc?.fpr.length ?? 0) > 0 : (m.pr?.recall.length ?? 0) > 0;
}

function positiveRate(m: LevelMetrics): number | undefined {
  return m.positives !== undefined && m.negatives !== undefined && m.positives + m.negatives > 0 ? m.positives / (m.positives + m.negatives) : undefined;
}

function chartsHtml(o: ObjectReport): string {
  const levels: [string, LevelMetrics | null][] = [
    ['image', o.image],
    ['pixel', o.pixel],
  ];
  const roc: RocSeries[] = levels.filter(([, m]) => hasCurve(m, 'roc')).map(([label, m]) => ({ label, roc: m!.roc!, auroc: m!.auroc }));
  const pr: PrSeries[] = levels
    .filter(([, m]) => hasCurve(m, 'pr'))
    .map(([label, m]) => ({ label, pr: m!.pr!, aupr: m!.aupr, positiveRate: positiveRate(m!) }));
  const parts: string[] = [];
  if (roc.length > 0) parts.push(rocSvg(roc, { title: `ROC: ${o.name}` }));
  if (pr.length > 0) parts.push(prSvg(pr, { title: `Precision-recall: ${o.name}` }));
  if (o.scores.length > 0) {
    parts.push(
      histogramSvg(
        o.scores.filter((s) => s.label === 0).map((s) => s.score),
        o.scores.filter((s) => s.label === 1).map((s) => s.score),
        { title: `Image scores: ${o.name}`, threshold: o.threshold?.value ?? null },
      ),
    );
  }
  return parts.length > 0 ? `<div class="charts">${parts.join('')}</div>` : '';
}

function thresholdHtml(o: ObjectReport): string {
  if (o.threshold === null) return '<p class="threshold">No threshold set: the metrics above do not need one.</p>';
  const t = o.threshold.value;
  const normals = o.scores.filter((s) => s.label === 0);
  const anomalies = o.scores.filter((s) => s.label === 1);
  const falseAlarms = normals.filter((s) => s.score >= t).length;
  const misses = anomalies.filter((s) => s.score < t).length;
  const pixel = o.threshold.pixelValue != null ? `; masks at map value ≥ ${escapeHtml(formatScore(o.threshold.pixelValue))}` : '';
  const counts = o.scores.length > 0 ? ` At this threshold: ${falseAlarms} of ${normals.length} normal images flagged, ${misses} of ${anomalies.length} anomalous images missed.` : '';
  return (
    `<p class="threshold">Threshold: <b>${escapeHtml(formatScore(t))}</b> (anomalous when score ≥ threshold; ${escapeHtml(o.threshold.source)}${pixel}).` +
    `${counts}</p>`
  );
}

function figureHtml(e: ExampleOverlay, threshold: number | null): string {
  let verdict = '';
  let wrong = false;
  if (threshold !== null) {
    const flagged = e.score >= threshold;
    wrong = flagged !== (e.label === 1);
    verdict = e.label === 0 ? (flagged ? 'false alarm' : 'passes') : flagged ? 'detected' : 'missed';
  }
  const alt = `${e.label === 1 ? 'anomalous' : 'normal'} image ${e.name}, score ${formatScore(e.score)}`;
  const overlay = `<img src="${dataUri(e.overlayPng)}" alt="${escapeHtml(`heatmap of ${alt}`)}">`;
  const mask = e.maskPng != null ? `<img src="${dataUri(e.maskPng)}" alt="${escapeHtml(`predicted mask of ${e.name}`)}">` : '';
  return (
    `<figure class="example${wrong ? ' wrong' : ''}">${mask ? `<div class="pair">${overlay}${mask}</div>` : overlay}` +
    `<figcaption><span class="name">${escapeHtml(e.name)}</span><br>score ${escapeHtml(formatScore(e.score))}` +
    `${verdict ? ` · <span class="verdict">${verdict}</span>` : ''}</figcaption></figure>`
  );
}

function examplesHtml(o: ObjectReport): string {
  if (o.examples.length === 0) return '';
  const { normals, anomalies } = selectExamples(o.examples, o.examples.length);
  const t = o.threshold?.value ?? null;
  const parts: string[] = [];
  if (normals.length > 0) {
    parts.push('<h3>Highest-scoring normal images</h3><p class="hint">False alarms come from these first.</p>');
    parts.push(`<div class="grid normals">${normals.map((e) => figureHtml(e, t)).join('')}</div>`);
  }
  if (anomalies.length > 0) {
    const masks = anomalies.some((e) => e.maskPng != null) ? ' Right of each heatmap: the predicted mask at the threshold.' : '';
    parts.push(`<h3>Lowest-scoring anomalous images</h3><p class="hint">Missed defects come from these first. The outline marks the ground-truth defect.${masks}</p>`);
    parts.push(`<div class="grid anomalies">${anomalies.map((e) => figureHtml(e, t)).join('')}</div>`);
  }
  if (o.heatmapScale !== null) {
    parts.push(
      `<div class="scale">${colorbarSvg(o.heatmapScale.colormap, o.heatmapScale, { label: 'anomaly map value' })}` +
        `<p class="hint">Colour scale (${o.heatmapScale.colormap}): one range for every image above, so equal colours mean equal scores.</p></div>`,
    );
  }
  return parts.join('');
}

function objectHtml(o: ObjectReport, index: number): string {
  return (
    `<section class="object" id="object-${index}"><h2>${escapeHtml(o.name)}</h2>` +
    `${thresholdHtml(o)}${chartsHtml(o)}${examplesHtml(o)}</section>`
  );
}

/** The whole page as one HTML string (the Report is validated first). */
export function renderReportHtml(report: Report): string {
  validateReport(report);
  const toc =
    report.objects.length > 1
      ? `<nav class="toc">Objects: ${report.objects.map((o, i) => `<a href="#object-${i}">${escapeHtml(o.name)}</a>`).join('')}</nav>`
      : '';
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(report.title)}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(report.title)}</h1>`,
    `<p class="sub">${escapeHtml(`${report.run.method} · ${report.run.backbone} · ${report.run.dataset} · ${report.run.date}`)}</p>`,
    runInfoHtml(report),
    '<h2>Metrics</h2>',
    metricsTableHtml(report),
    toc,
    ...report.objects.map(objectHtml),
    '<footer>Written by spotdiff. AU-PR: trapezoid area under the precision-recall curve; max-F1: best F1 over all thresholds; AUPRO: area under the per-region-overlap curve up to its FPR limit, normalised.</footer>',
    '</body></html>',
    '',
  ].join('\n');
}

/**
 * Whether a report may be written to DIR: a missing path, or a folder that holds nothing but
 * an earlier report's page. A report replaces its folder whole, so anything else is refused.
 * Callers check before the work that produces the report, so a refusal costs nothing.
 */
export async function checkReportFolder(dir: string): Promise<void> {
  let entries: string[] = [];
  try {
    if (!(await stat(dir)).isDirectory()) throw new SpotdiffError('ERR_BAD_INPUT', `report folder ${dir} is a file; give a folder path`);
    entries = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const foreign = entries.filter((n) => n !== REPORT_FILE);
  if (foreign.length > 0) {
    throw new SpotdiffError(
      'ERR_BAD_INPUT',
      `report folder ${dir} holds other files (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''}); a report replaces its folder whole, so give a new or empty folder`,
    );
  }
}

/**
 * Writes DIR/index.html. The folder appears whole or not at all (writeDirAtomic), replacing an
 * earlier report; a folder that holds anything else is refused rather than replaced.
 * Returns the page's path.
 */
export async function writeReport(dir: string, report: Report): Promise<string> {
  const html = renderReportHtml(report);
  await checkReportFolder(dir);
  await writeDirAtomic(dir, async (tmp) => writeFileAtomic(join(tmp, REPORT_FILE), html));
  return join(dir, REPORT_FILE);
}
