import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SpotdiffError } from '../util/errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses long kebab-case flags with node's parseArgs; unknown flags and missing values become
 * usage errors (exit code 2) instead of stack traces.
 */
export function parseFlags<O extends Options>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    throw new SpotdiffError('ERR_USAGE', (e as Error).message);
  }
}

export function requireFlag<T>(value: T | undefined, name: string): T {
  if (value === undefined || value === '') throw new SpotdiffError('ERR_USAGE', `--${name} is required`);
  return value;
}

/** The largest image side (or tile) a command accepts: larger ones exhaust memory long before they help. */
export const MAX_IMAGE_SIDE = 4096;

/**
 * An integer flag: plain decimal digits with an optional minus sign only (no '', '0x40', '1e3',
 * ' 5' or '+5'), within [min, max]; a usage error (exit code 2) otherwise.
 */
export function intFlag(value: string | undefined, name: string, fallback: number, min = -Infinity, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (Number.isSafeInteger(n) && n >= min && n <= max) return n;
  const bounds = [min > -Infinity ? `>= ${min}` : '', max < Number.MAX_SAFE_INTEGER ? `<= ${max}` : ''].filter((b) => b !== '');
  throw new SpotdiffError('ERR_USAGE', `--${name} must be an integer${bounds.length > 0 ? ` ${bounds.join(' and ')}` : ''}, got ${JSON.stringify(value)}`);
}

/** Bounds of a number flag: `min`/`max` inclusive, `above` exclusive. */
export interface NumberRange {
  min?: number;
  max?: number;
  above?: number;
}

/**
 * A number flag: a decimal number (optional minus sign, fraction and exponent, e.g. 0.99, .5,
 * 1e-4; no '', hex, Infinity or NaN) within the range; a usage error (exit code 2) otherwise.
 */
export function numberFlag(value: string | undefined, name: string, fallback: number, range: NumberRange = {}): number {
  if (value === undefined) return fallback;
  const n = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value) ? Number(value) : NaN;
  const { min = -Infinity, max = Infinity, above = -Infinity } = range;
  if (Number.isFinite(n) && n >= min && n <= max && n > above) return n;
  const bounds = [above > -Infinity ? `> ${above}` : '', min > -Infinity ? `>= ${min}` : '', max < Infinity ? `<= ${max}` : ''].filter((b) => b !== '');
  throw new SpotdiffError('ERR_USAGE', `--${name} must be a number${bounds.length > 0 ? ` ${bounds.join(' and ')}` : ''}, got ${JSON.stringify(value)}`);
}

export function listFlag(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}
