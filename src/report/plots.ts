import { SpotdiffError } from '../util/errors.js';
import type { PrCurve, RocCurve } from '../metrics/curve-accumulator.js';
import { colormapLut, lutHex, type ColormapName, type ValueRange } from './colormap.js';
import { escapeHtml } from './escape.js';
import { formatScore } from './format.js';
import { PALETTE, axes, legend, makeFrame, niceTicks, num, openSvg, sx, sy, tickLabel, type ChartFrame, type LegendEntry } from './svg-chart.js';

/**
 * The report's charts as self-contained inline SVG strings: ROC and PR curves with their areas in
 * the legend, score histograms of normal against anomalous images, and a colour bar for the
 * heatmaps. Curves are drawn as straight segments between the points the metrics give: for ROC
 * that is exact (ties are diagonal), for PR it is the trapezoid whose area is the AU-PR reported.
 */

export interface ChartSize {
  width?: number;
  height?: number;
  title?: string;
}

export interface RocSeries {
  label: string;
  roc: RocCurve;
  auroc: number;
}

export interface PrSeries {
  label: string;
  pr: PrCurve;
  aupr: number;
  /** Fraction of positives: the AU-PR of a random ranking, shown beside the area. */
  positiveRate?: number;
}

const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

/** Above this many points a curve is thinned to points at least half a pixel apart (first and last kept). */
export const MAX_CURVE_POINTS = 4000;

/** SVG points of a curve, thinned only when it has more than MAX_CURVE_POINTS points. */
export function curvePoints(f: ChartFrame, xs: ArrayLike<number>, ys: ArrayLike<number>): string {
  const n = Math.min(xs.length, ys.length);
  const out: string[] = [];
  let lastX = NaN;
  let lastY = NaN;
  for (let i = 0; i < n; i++) {
    const x = sx(f, xs[i] as number);
    const y = sy(f, ys[i] as number);
    const thin = n > MAX_CURVE_POINTS && i > 0 && i < n - 1 && Math.abs(x - lastX) < 0.5 && Math.abs(y - lastY) < 0.5;
    if (thin) continue;
    out.push(`${num(x)},${num(y)}`);
    lastX = x;
    lastY = y;
  }
  return out.join(' ');
}

function checkSeries(what: string, label: string, xs: ArrayLike<number>, ys: ArrayLike<number>): void {
  if (xs.length !== ys.length) throw new SpotdiffError('ERR_SHAPE', `${what} "${label}": ${xs.length} x values but ${ys.length} y values`);
  if (xs.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', `${what} "${label}" has no points (computed with curve 'none'?)`);
}

const UNIT_TICKS = [0, 0.2, 0.4, 0.6, 0.8, 1];

function curveChart(
  className: string,
  title: string,
  xLabel: string,
  yLabel: string,
  series: { name: string; legend: string; xs: ArrayLike<number>; ys: ArrayLike<number> }[],
  corner: 'bottom-right' | 'bottom-left',
  size: ChartSize,
  diagonal: boolean,
): string {
  const f = makeFrame(size.width ?? 360, size.height ?? 320, { min: 0, max: 1 }, { min: 0, max: 1 });
  const parts = [openSvg(f, title, className), axes(f, UNIT_TICKS, UNIT_TICKS, xLabel, yLabel)];
  const entries: LegendEntry[] = [];
  if (diagonal) {
    parts.push(`<line class="chance" x1="${num(sx(f, 0))}" y1="${num(sy(f, 0))}" x2="${num(sx(f, 1))}" y2="${num(sy(f, 1))}" stroke="#999" stroke-dasharray="4 3"/>`);
  }
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length] as string;
    parts.push(
      `<polyline class="curve" data-series="${escapeHtml(s.name)}" fill="none" stroke="${color}" stroke-width="2" ` +
        `stroke-linejoin="round" points="${curvePoints(f, s.xs, s.ys)}"/>`,
    );
  });
  // Legend last, so it sits on top of the curves it names.
  series.forEach((s, i) => entries.push({ label: s.legend, color: PALETTE[i % PALETTE.length] as string }));
  if (diagonal) entries.push({ label: 'chance', color: '#999', dashed: true });
  parts.push(legend(f, entries, corner), '</svg>');
  return parts.join('');
}

/** ROC curves (false-positive rate against true-positive rate), AU-ROC in the legend. */
export function rocSvg(series: readonly RocSeries[], size: ChartSize = {}): string {
  for (const s of series) checkSeries('ROC curve', s.label, s.roc.fpr, s.roc.tpr);
  return curveChart(
    'chart roc',
    size.title ?? 'ROC curve',
    'false-positive rate',
    'true-positive rate',
    series.map((s) => ({ name: s.label, legend: `${s.label}: AU-ROC ${pct(s.auroc)}`, xs: s.roc.fpr, ys: s.roc.tpr })),
    'bottom-right',
    size,
    true,
  );
}

/** Precision-recall curves (recall against precision), AU-PR (and the chance level) in the legend. */
export function prSvg(series: readonly PrSeries[], size: ChartSize = {}): string {
  for (const s of series) checkSeries('PR curve', s.label, s.pr.recall, s.pr.precision);
  return curveChart(
    'chart pr',
    size.title ?? 'Precision-recall curve',
    'recall',
    'precision',
    series.map((s) => ({
      name: s.label,
      legend: `${s.label}: AU-PR ${pct(s.aupr)}${s.positiveRate !== undefined ? ` (chance ${pct(s.positiveRate)})` : ''}`,
      xs: s.pr.recall,
      ys: s.pr.precision,
    })),
    'bottom-left',
    size,
    false,
  );
}

/** Counts of both classes over the same bins. */
export interface HistogramBins {
  /** bins + 1 increasing edges; bin i holds [edges[i], edges[i+1]), the last bin also its right edge (as NumPy). */
  edges: Float64Array;
  normal: Uint32Array;
  anomalous: Uint32Array;
}

/**
 * Bins shared by both classes, evenly spaced from the smallest to the largest score of either,
 * so the two histograms are comparable bar by bar. Default count: √(all scores), kept in
 * [10, 40]: enough to see a shape for a hundred images, not so many that bars turn to noise.
 */
export function histogramBins(normal: ArrayLike<number>, anomalous: ArrayLike<number>, bins?: number): HistogramBins {
  const all = [...Array.from(normal), ...Array.from(anomalous)];
  if (all.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', 'a score histogram needs at least one score');
  for (const v of all) if (!Number.isFinite(v)) throw new SpotdiffError('ERR_BAD_INPUT', `histogram score ${v} is not finite`);
  const count = bins ?? Math.min(40, Math.max(10, Math.ceil(Math.sqrt(all.length))));
  if (!Number.isInteger(count) || count < 1) throw new SpotdiffError('ERR_BAD_INPUT', `histogram bins must be a positive integer, got ${count}`);
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (hi === lo) {
    lo -= 0.5;
    hi += 0.5;
  }
  const edges = new Float64Array(count + 1);
  for (let i = 0; i <= count; i++) edges[i] = lo + ((hi - lo) * i) / count;
  edges[count] = hi;
  const fill = (values: ArrayLike<number>): Uint32Array => {
    const counts = new Uint32Array(count);
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      let b = Math.floor(((v - lo) / (hi - lo)) * count);
      if (b >= count) b = count - 1;
      // Rounding can land a value one bin off its edges; settle it against the edges themselves.
      while (b > 0 && v < (edges[b] as number)) b--;
      while (b < count - 1 && v >= (edges[b + 1] as number)) b++;
      counts[b] = (counts[b] as number) + 1;
    }
    return counts;
  };
  return { edges, normal: fill(normal), anomalous: fill(anomalous) };
}

export interface HistogramOptions extends ChartSize {
  bins?: number;
  /** Drawn as a vertical line; the axis widens to show it. */
  threshold?: number | null;
  xLabel?: string;
}

/**
 * Histograms of normal and anomalous image scores on shared bins. Bars show the fraction of each
 * class rather than counts: test sets are unbalanced (VisA's 1-class test has more anomalous than
 * normal images), and fractions let the two shapes be compared directly.
 */
export function histogramSvg(normal: ArrayLike<number>, anomalous: ArrayLike<number>, options: HistogramOptions = {}): string {
  const h = histogramBins(normal, anomalous, options.bins);
  const count = h.normal.length;
  let xmin = h.edges[0] as number;
  let xmax = h.edges[count] as number;
  const threshold = options.threshold ?? null;
  if (threshold !== null) {
    if (!Number.isFinite(threshold)) throw new SpotdiffError('ERR_BAD_INPUT', `histogram threshold ${threshold} is not finite`);
    xmin = Math.min(xmin, threshold);
    xmax = Math.max(xmax, threshold);
  }
  const pad = (xmax - xmin) * 0.02;
  const classes = [
    { name: 'normal', counts: h.normal, total: normal.length, color: PALETTE[0] },
    { name: 'anomalous', counts: h.anomalous, total: anomalous.length, color: PALETTE[1] },
  ];
  let ymax = 0;
  for (const c of classes) for (const v of c.counts) if (c.total > 0) ymax = Math.max(ymax, v / c.total);
  const yTicks = niceTicks(0, ymax, 4);
  const yTop = Math.max(ymax, yTicks[yTicks.length - 1] as number) * 1.08;
  const f = makeFrame(options.width ?? 360, options.height ?? 320, { min: xmin - pad, max: xmax + pad }, { min: 0, max: yTop });
  const parts = [
    openSvg(f, options.title ?? 'Image scores', 'chart histogram'),
    axes(f, niceTicks(f.x.min, f.x.max, 5), niceTicks(0, yTop, 4), options.xLabel ?? 'image score', 'fraction of the class'),
  ];
  const entries: LegendEntry[] = [];
  for (const c of classes) {
    if (c.total === 0) continue;
    const bars: string[] = [];
    for (let b = 0; b < count; b++) {
      const v = (c.counts[b] as number) / c.total;
      if (v === 0) continue;
      const x0 = sx(f, h.edges[b] as number);
      const x1 = sx(f, h.edges[b + 1] as number);
      const y = sy(f, v);
      bars.push(
        `<rect class="bar" data-bin="${b}" data-count="${c.counts[b]}" x="${num(x0)}" y="${num(y)}" width="${num(Math.max(0.5, x1 - x0))}" ` +
          `height="${num(sy(f, 0) - y)}"/>`,
      );
    }
    parts.push(`<g class="bars ${c.name}" fill="${c.color}" fill-opacity="0.55" stroke="${c.color}">${bars.join('')}</g>`);
    entries.push({ label: `${c.name} (${c.total})`, color: c.color as string, swatch: 'box' });
  }
  if (threshold !== null) {
    const x = num(sx(f, threshold));
    parts.push(`<line class="threshold" x1="${x}" y1="${f.top}" x2="${x}" y2="${f.top + f.plotHeight}" stroke="#222" stroke-width="1.5" stroke-dasharray="5 3"/>`);
    entries.push({ label: `threshold ${formatScore(threshold)}`, color: '#222', dashed: true });
  }
  parts.push(legend(f, entries, 'top-right'), '</svg>');
  return parts.join('');
}

/** A horizontal colour bar for heatmaps, labelled with the score range it spans. */
export function colorbarSvg(colormap: ColormapName, range: ValueRange, options: { width?: number; label?: string } = {}): string {
  const width = options.width ?? 300;
  const left = 10;
  const barWidth = width - 2 * left;
  const lut = colormapLut(colormap);
  const steps = 128;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="colorbar" width="${width}" height="50" viewBox="0 0 ${width} 50" font-family="sans-serif" font-size="11" role="img" aria-label="colour scale">`,
  ];
  // Plain rectangles, not a gradient: a gradient needs a page-wide unique id.
  for (let i = 0; i < steps; i++) {
    const x0 = left + (barWidth * i) / steps;
    const colour = lutHex(lut, Math.round((i / (steps - 1)) * 255));
    parts.push(`<rect x="${num(x0)}" y="4" width="${num(barWidth / steps + 0.5)}" height="14" fill="${colour}"/>`);
  }
  parts.push(`<rect x="${left}" y="4" width="${barWidth}" height="14" fill="none" stroke="#333"/>`);
  for (const t of niceTicks(range.vmin, range.vmax, 5)) {
    const x = num(left + ((t - range.vmin) / (range.vmax - range.vmin)) * barWidth);
    parts.push(`<line x1="${x}" y1="18" x2="${x}" y2="22" stroke="#333"/><text x="${x}" y="33" text-anchor="middle">${escapeHtml(tickLabel(t))}</text>`);
  }
  if (options.label) parts.push(`<text x="${width / 2}" y="46" text-anchor="middle" fill="#555">${escapeHtml(options.label)}</text>`);
  parts.push('</svg>');
  return parts.join('');
}
