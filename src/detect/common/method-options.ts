import { SpotdiffError } from '../../util/errors.js';

/**
 * A method's options as FitContext.options carries them: refuses keys the method does not
 * know (a typo would otherwise be ignored silently), so each method then reads its own.
 */
export function checkOptionKeys(method: string, options: Readonly<Record<string, unknown>>, known: readonly string[]): void {
  const unknown = Object.keys(options).filter((k) => options[k] !== undefined && !known.includes(k));
  if (unknown.length > 0) {
    const takes = known.length === 0 ? 'takes no options' : `takes ${known.join(', ')}`;
    throw new SpotdiffError('ERR_BAD_INPUT', `${method} ${takes}; unknown option${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}`);
  }
}

/** A number option in (above, max] (or [min, max]); `fallback` when absent. */
export function numberOption(method: string, options: Readonly<Record<string, unknown>>, key: string, fallback: number, range: { above?: number; min?: number; max?: number }): number {
  const v = options[key];
  if (v === undefined) return fallback;
  const ok =
    typeof v === 'number' && Number.isFinite(v) && (range.above === undefined || v > range.above) && (range.min === undefined || v >= range.min) && (range.max === undefined || v <= range.max);
  if (!ok) {
    const lo = range.above !== undefined ? `(${range.above}` : `[${range.min ?? '-∞'}`;
    throw new SpotdiffError('ERR_BAD_INPUT', `${method}: ${key} must be a number in ${lo}, ${range.max ?? '∞'}], got ${JSON.stringify(v)}`);
  }
  return v;
}
