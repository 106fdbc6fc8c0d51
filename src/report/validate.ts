import { SpotdiffError } from '../util/errors.js';
import { checkRange, COLORMAP_NAMES } from './colormap.js';
import { REPORT_METRIC_KEYS, type LevelMetrics, type Report } from './types.js';

/** Checks a Report before anything is rendered, naming the first problem found. */
export function validateReport(report: Report): void {
  const bad = (message: string): never => {
    throw new SpotdiffError('ERR_BAD_INPUT', `report: ${message}`);
  };
  if (typeof report.title !== 'string' || report.title.trim() === '') bad('title is empty');
  if (!Array.isArray(report.objects) || report.objects.length === 0) bad('no objects to report');
  const digits = report.digits ?? 1;
  if (!Number.isInteger(digits) || digits < 0 || digits > 6) bad(`digits must be an integer in [0, 6], got ${digits}`);
  const names = new Set<string>();
  for (const o of report.objects) {
    if (typeof o.name !== 'string' || o.name === '') bad('an object has no name');
    // 'mean' is the name of the table's last row.
    if (o.name === 'mean') bad('an object may not be called "mean"');
    if (names.has(o.name)) bad(`object ${o.name} appears twice`);
    names.add(o.name);
    checkLevel(o.image, `${o.name} image metrics`, bad);
    if (o.pixel !== null) checkLevel(o.pixel, `${o.name} pixel metrics`, bad);
    for (const s of o.scores) {
      if (!Number.isFinite(s.score)) bad(`${o.name}: image ${s.name} has score ${s.score}`);
      if (s.label !== 0 && s.label !== 1) bad(`${o.name}: image ${s.name} has label ${String(s.label)}; labels are 0 (normal) or 1 (anomalous)`);
    }
    if (o.threshold !== null && !Number.isFinite(o.threshold.value)) bad(`${o.name}: threshold ${o.threshold.value} is not finite`);
    for (const e of o.examples) {
      if (!isPng(e.overlayPng)) bad(`${o.name}: the overlay of ${e.name} is not PNG bytes`);
      if (e.maskPng != null && !isPng(e.maskPng)) bad(`${o.name}: the mask of ${e.name} is not PNG bytes`);
      if (!Number.isFinite(e.score)) bad(`${o.name}: example ${e.name} has score ${e.score}`);
    }
    if (o.heatmapScale !== null) {
      if (!COLORMAP_NAMES.includes(o.heatmapScale.colormap)) bad(`${o.name}: unknown colormap ${String(o.heatmapScale.colormap)}`);
      checkRange(o.heatmapScale);
    }
  }
  for (const [row, values] of Object.entries(report.paper?.rows ?? {})) {
    for (const [key, v] of Object.entries(values)) {
      if (!(REPORT_METRIC_KEYS as readonly string[]).includes(key)) bad(`paper row ${row}: unknown metric ${key} (one of ${REPORT_METRIC_KEYS.join(', ')})`);
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) bad(`paper row ${row}: ${key} = ${v}; paper figures are fractions in [0, 1] (divide percentages by 100)`);
    }
  }
}

function checkLevel(m: LevelMetrics, what: string, bad: (message: string) => never): void {
  for (const key of ['aupr', 'auroc', 'maxF1'] as const) {
    const v = m[key];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) bad(`${what}: ${key} = ${v}; metrics are fractions in [0, 1]`);
  }
  if (m.aupro != null && !(m.aupro >= 0 && m.aupro <= 1)) bad(`${what}: aupro = ${m.aupro}; metrics are fractions in [0, 1]`);
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(bytes: Uint8Array): boolean {
  return bytes instanceof Uint8Array && bytes.length > PNG_SIGNATURE.length && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}
