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

export function intFlag(value: string | undefined, name: string, fallback: number, min = -Infinity): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new SpotdiffError('ERR_USAGE', `--${name} must be an integer${min > -Infinity ? ` >= ${min}` : ''}, got "${value}"`);
  return n;
}

export function numberFlag(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new SpotdiffError('ERR_USAGE', `--${name} must be a number, got "${value}"`);
  return n;
}

export function listFlag(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}
