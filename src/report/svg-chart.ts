import { escapeHtml } from './escape.js';

/**
 * The frame every report chart shares: a plot box with axes, ticks, tick labels, axis labels, a
 * title and a legend, as inline SVG text with generic font families only (no fonts, scripts or
 * styles from outside), so the page renders the same offline.
 */

export interface ChartFrame {
  width: number;
  height: number;
  /** The plot box in SVG pixels. */
  left: number;
  top: number;
  plotWidth: number;
  plotHeight: number;
  x: Domain;
  y: Domain;
}

export interface Domain {
  min: number;
  max: number;
}

export interface LegendEntry {
  label: string;
  color: string;
  /** 'line' (default) or a filled 'box'. */
  swatch?: 'line' | 'box';
  dashed?: boolean;
}

/** Okabe-Ito colours: tell apart for colour-blind readers too. */
export const PALETTE = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#000000', '#f0e442'] as const;

export function makeFrame(width: number, height: number, x: Domain, y: Domain): ChartFrame {
  const left = 56;
  const top = 30;
  return { width, height, left, top, plotWidth: width - left - 14, plotHeight: height - top - 46, x, y };
}

/** SVG x of a data value. */
export function sx(f: ChartFrame, v: number): number {
  return f.left + ((v - f.x.min) / (f.x.max - f.x.min)) * f.plotWidth;
}

/** SVG y of a data value (up is larger). */
export function sy(f: ChartFrame, v: number): number {
  return f.top + f.plotHeight - ((v - f.y.min) / (f.y.max - f.y.min)) * f.plotHeight;
}

/** Coordinates written with 2 decimals: 1/100 px is far below what a screen shows. */
export function num(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/**
 * Round tick values in [min, max]: steps of 1, 2 or 5 times a power of ten, about `count` of them.
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  // The step nearest to the raw one on a log scale (thresholds at the geometric means).
  const step = (unit >= Math.sqrt(50) ? 10 : unit >= Math.sqrt(10) ? 5 : unit >= Math.sqrt(2) ? 2 : 1) * power;
  const ticks: number[] = [];
  const eps = step * 1e-9;
  for (let k = Math.ceil((min - eps) / step); k * step <= max + eps; k++) {
    // Rebuilt from an integer multiple so 0.1 + 0.2 style drift never shows in a label.
    ticks.push(Number((k * step).toPrecision(12)));
  }
  return ticks;
}

/** A tick label: few digits, no float noise. */
export function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(6)));
}

export function openSvg(f: ChartFrame, title: string, className: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="${escapeHtml(className)}" width="${f.width}" height="${f.height}" ` +
    `viewBox="0 0 ${f.width} ${f.height}" role="img" aria-label="${escapeHtml(title)}" font-family="sans-serif" font-size="11">` +
    `<title>${escapeHtml(title)}</title>` +
    `<text x="${num(f.left + f.plotWidth / 2)}" y="17" text-anchor="middle" font-size="13" font-weight="bold">${escapeHtml(title)}</text>`
  );
}

/** Grid lines, the frame, ticks with labels, and the axis labels. */
export function axes(f: ChartFrame, xTicks: number[], yTicks: number[], xLabel: string, yLabel: string): string {
  const parts: string[] = [];
  const bottom = f.top + f.plotHeight;
  for (const t of xTicks) {
    const x = num(sx(f, t));
    parts.push(`<line class="grid" x1="${x}" y1="${f.top}" x2="${x}" y2="${bottom}" stroke="#e4e4e4"/>`);
    parts.push(`<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 4}" stroke="#333"/>`);
    parts.push(`<text class="xtick" x="${x}" y="${bottom + 15}" text-anchor="middle">${escapeHtml(tickLabel(t))}</text>`);
  }
  for (const t of yTicks) {
    const y = num(sy(f, t));
    parts.push(`<line class="grid" x1="${f.left}" y1="${y}" x2="${f.left + f.plotWidth}" y2="${y}" stroke="#e4e4e4"/>`);
    parts.push(`<line x1="${f.left - 4}" y1="${y}" x2="${f.left}" y2="${y}" stroke="#333"/>`);
    parts.push(`<text class="ytick" x="${f.left - 7}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeHtml(tickLabel(t))}</text>`);
  }
  parts.push(`<rect class="frame" x="${f.left}" y="${f.top}" width="${f.plotWidth}" height="${f.plotHeight}" fill="none" stroke="#333"/>`);
  parts.push(`<text class="xlabel" x="${num(f.left + f.plotWidth / 2)}" y="${f.height - 8}" text-anchor="middle">${escapeHtml(xLabel)}</text>`);
  const cy = num(f.top + f.plotHeight / 2);
  parts.push(`<text class="ylabel" x="14" y="${cy}" text-anchor="middle" transform="rotate(-90 14 ${cy})">${escapeHtml(yLabel)}</text>`);
  return parts.join('');
}

/** A legend box in a corner of the plot: 'bottom-right' for ROC, 'bottom-left' for PR, 'top-right' for histograms. */
export function legend(f: ChartFrame, entries: LegendEntry[], corner: 'bottom-right' | 'bottom-left' | 'top-right'): string {
  if (entries.length === 0) return '';
  const lineHeight = 15;
  // Width from the label length: an estimate (no font metrics offline), generous enough for sans-serif at 11 px.
  const boxWidth = 30 + Math.max(...entries.map((e) => e.label.length)) * 6.2;
  const boxHeight = entries.length * lineHeight + 8;
  const x0 = corner === 'bottom-left' ? f.left + 6 : f.left + f.plotWidth - boxWidth - 6;
  const y0 = corner === 'top-right' ? f.top + 6 : f.top + f.plotHeight - boxHeight - 6;
  const parts = [`<g class="legend"><rect x="${num(x0)}" y="${num(y0)}" width="${num(boxWidth)}" height="${boxHeight}" fill="#fff" fill-opacity="0.9" stroke="#bbb"/>`];
  entries.forEach((e, i) => {
    const y = y0 + 4 + lineHeight * i + lineHeight / 2;
    if (e.swatch === 'box') {
      parts.push(`<rect x="${num(x0 + 6)}" y="${num(y - 5)}" width="16" height="10" fill="${e.color}" fill-opacity="0.6" stroke="${e.color}"/>`);
    } else {
      const dash = e.dashed ? ' stroke-dasharray="4 3"' : '';
      parts.push(`<line x1="${num(x0 + 6)}" y1="${num(y)}" x2="${num(x0 + 22)}" y2="${num(y)}" stroke="${e.color}" stroke-width="2"${dash}/>`);
    }
    parts.push(`<text x="${num(x0 + 27)}" y="${num(y)}" dominant-baseline="middle">${escapeHtml(e.label)}</text>`);
  });
  parts.push('</g>');
  return parts.join('');
}
