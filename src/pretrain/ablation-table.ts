import { SpotdiffError } from '../util/errors.js';
import { ABLATION_ARMS, ARM_LABELS, type AblationArm } from './ablation-options.js';

/**
 * The ablation's comparison table as the paper prints it: per object and the mean over
 * objects, image and pixel AU-PR and AU-ROC of the detector on the backbone pre-trained
 * without SPD and on the one pre-trained with SPD, the latter followed by its gap to the
 * former in percentage points, e.g. `72.4 (+3.1)`. Engine-free, so it can be tested on
 * hand-made numbers.
 */

export const ABLATION_METRICS = ['image.aupr', 'image.auroc', 'pixel.aupr', 'pixel.auroc'] as const;
export type AblationMetric = (typeof ABLATION_METRICS)[number];
const METRIC_LABELS: Readonly<Record<AblationMetric, string>> = {
  'image.aupr': 'image AU-PR',
  'image.auroc': 'image AU-ROC',
  'pixel.aupr': 'pixel AU-PR',
  'pixel.auroc': 'pixel AU-ROC',
};

/** Metric values as fractions in [0, 1]; a metric is absent when it was not measured (pixel metrics without masks). */
export type AblationMetrics = Partial<Record<AblationMetric, number>>;

export interface AblationRow {
  /** An object, or "mean" for the last row. */
  object: string;
  withoutSpd: AblationMetrics;
  withSpd: AblationMetrics;
  /** w/ SPD − w/o SPD as fractions (unrounded), where both are present. */
  gap: AblationMetrics;
}

export const MEAN_ROW = 'mean';

function gapOf(without: AblationMetrics, withSpd: AblationMetrics): AblationMetrics {
  const gap: AblationMetrics = {};
  for (const m of ABLATION_METRICS) {
    const a = without[m];
    const b = withSpd[m];
    if (a !== undefined && b !== undefined) gap[m] = b - a;
  }
  return gap;
}

/** The mean over objects of one arm; a metric only when every object has it (a partial mean would compare different objects). */
function meanOf(rows: readonly AblationMetrics[]): AblationMetrics {
  const mean: AblationMetrics = {};
  for (const m of ABLATION_METRICS) {
    const values = rows.map((r) => r[m]);
    if (values.every((v): v is number => v !== undefined)) mean[m] = values.reduce((s, v) => s + v, 0) / values.length;
  }
  return mean;
}

/** The rows, one per object in the given order, then the mean row. */
export function ablationRows(perObject: readonly { object: string; withoutSpd: AblationMetrics; withSpd: AblationMetrics }[]): AblationRow[] {
  if (perObject.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', 'no evaluated object to tabulate');
  if (perObject.some((r) => r.object === MEAN_ROW)) throw new SpotdiffError('ERR_BAD_INPUT', `an object named "${MEAN_ROW}" would be confused with the mean row`);
  const rows = perObject.map((r) => ({ object: r.object, withoutSpd: r.withoutSpd, withSpd: r.withSpd, gap: gapOf(r.withoutSpd, r.withSpd) }));
  const withoutSpd = meanOf(perObject.map((r) => r.withoutSpd));
  const withSpd = meanOf(perObject.map((r) => r.withSpd));
  return [...rows, { object: MEAN_ROW, withoutSpd, withSpd, gap: gapOf(withoutSpd, withSpd) }];
}

/** A fraction as an integer count of the last shown digit of its percentage (0.7245, 1 digit → 724). */
function shownUnits(value: number, digits: number): number {
  return Math.round(value * 100 * 10 ** digits);
}

/** A fraction as a percentage with `digits` decimals ("72.4"); "-" when absent. */
export function formatPercent(value: number | undefined, digits = 1): string {
  if (value === undefined) return '-';
  return (shownUnits(value, digits) / 10 ** digits).toFixed(digits);
}

/**
 * The gap in brackets, "(+3.1)" or "(-0.4)", as the difference of the two percentages as they
 * are shown, so the table's arithmetic checks out by eye (72.4 − 70.1 = +2.3 even where the
 * unrounded difference would round to 2.2). No gap shows as "(+0.0)" (never "-0.0").
 */
export function formatGap(without: number, withSpd: number, digits = 1): string {
  const units = shownUnits(withSpd, digits) - shownUnits(without, digits);
  const sign = units < 0 ? '-' : '+';
  return `(${sign}${(Math.abs(units) / 10 ** digits).toFixed(digits)})`;
}

/** The table's cells: a header, then two lines per row (w/o SPD, w/ SPD with its gap). */
function cells(rows: readonly AblationRow[], digits: number): { head: string[]; body: { object: string; arm: AblationArm; values: string[] }[] } {
  const head = ['object', 'pre-training', ...ABLATION_METRICS.map((m) => METRIC_LABELS[m])];
  const body = rows.flatMap((r) =>
    ABLATION_ARMS.map((arm) => ({
      object: r.object,
      arm,
      values: ABLATION_METRICS.map((m) => {
        const v = r[arm][m];
        const base = r.withoutSpd[m];
        const text = formatPercent(v, digits);
        return arm === 'withSpd' && v !== undefined && base !== undefined ? `${text} ${formatGap(base, v, digits)}` : text;
      }),
    })),
  );
  return { head, body };
}

/** Aligned plain text for the terminal (the object's name on its first line only). */
export function renderAblationText(rows: readonly AblationRow[], digits = 1): string {
  const { head, body } = cells(rows, digits);
  const lines = body.map((b) => [b.arm === 'withoutSpd' ? b.object : '', ARM_LABELS[b.arm], ...b.values]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const line = (l: string[]): string => l.map((c, i) => (i < 2 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ').trimEnd();
  return [line(head), ...lines.map(line)].join('\n');
}

/** A Markdown table (the object's name on both of its lines, so each line reads alone). */
export function renderAblationMarkdown(rows: readonly AblationRow[], digits = 1): string {
  const { head, body } = cells(rows, digits);
  const lines = body.map((b) => [b.object === MEAN_ROW ? `**${MEAN_ROW}**` : b.object, ARM_LABELS[b.arm], ...b.values]);
  return [head, head.map((_, i) => (i < 2 ? '---' : '---:')), ...lines].map((l) => `| ${l.join(' | ')} |`).join('\n');
}
