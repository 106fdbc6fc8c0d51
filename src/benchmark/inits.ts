import { basename, extname } from 'node:path';
import { SpotdiffError } from '../util/errors.js';

/**
 * The benchmark's rows: one per initialisation of the backbone (a weights file, or random
 * init), each with a name, and for a "+SPD" row the row it is compared with. A row named
 * `X+spd` is paired with a row named `X` when there is one (as the paper's Tables 2-4 pair
 * SimSiam with SimSiam+SPD); explicit pairs replace that rule. Engine-free.
 */

/** The word that stands for a seeded random initialisation instead of a weights file. */
export const RANDOM_INIT = 'random';

export interface BenchmarkInit {
  name: string;
  /** A weights file; null: random init. */
  weights: string | null;
  /** The name of the row this one's gain is measured against; null: none. */
  base: string | null;
}

const SPD_SUFFIX = '+spd';

/** A weights file's row name: its base name without extension ("simsiam+spd.pth" → "simsiam+spd"). */
function defaultName(weights: string): string {
  return weights === RANDOM_INIT ? RANDOM_INIT : basename(weights, extname(weights));
}

function checkName(name: string): void {
  // Names are folder names of the models tree too.
  if (name.length === 0 || name === '.' || name === '..' || /[/\\]/.test(name)) throw new SpotdiffError('ERR_BAD_INPUT', `a row name must be a plain folder name, got ${JSON.stringify(name)}`);
}

/** The base of each row: explicit pairs (base, spd) when given, else the `X+spd` → `X` rule. */
function basesOf(names: readonly string[], pairs: readonly (readonly [string, string])[] | undefined): Map<string, string> {
  const bases = new Map<string, string>();
  if (pairs === undefined) {
    for (const n of names) {
      const base = n.toLowerCase().endsWith(SPD_SUFFIX) ? n.slice(0, -SPD_SUFFIX.length) : null;
      if (base !== null && names.includes(base)) bases.set(n, base);
    }
    return bases;
  }
  for (const [base, spd] of pairs) {
    for (const n of [base, spd]) if (!names.includes(n)) throw new SpotdiffError('ERR_BAD_INPUT', `pair ${base}:${spd} names ${JSON.stringify(n)}, which is not a row (rows: ${names.join(', ')})`);
    if (base === spd) throw new SpotdiffError('ERR_BAD_INPUT', `pair ${base}:${spd} compares a row with itself`);
    if (bases.has(spd)) throw new SpotdiffError('ERR_BAD_INPUT', `${spd} is paired twice`);
    bases.set(spd, base);
  }
  return bases;
}

/** The rows for weights (files or RANDOM_INIT), named by `names` (default: file base names). */
export function benchmarkInits(weights: readonly string[], names?: readonly string[], pairs?: readonly (readonly [string, string])[]): BenchmarkInit[] {
  if (weights.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', 'no initialisation to benchmark');
  if (names !== undefined && names.length !== weights.length) throw new SpotdiffError('ERR_BAD_INPUT', `${names.length} names for ${weights.length} initialisations`);
  const rowNames = names ?? weights.map(defaultName);
  rowNames.forEach(checkName);
  const dup = rowNames.find((n, i) => rowNames.indexOf(n) !== i);
  if (dup !== undefined) throw new SpotdiffError('ERR_BAD_INPUT', `two rows are named ${JSON.stringify(dup)}; name them apart`);
  const bases = basesOf(rowNames, pairs);
  return weights.map((w, i) => ({ name: rowNames[i] as string, weights: w === RANDOM_INIT ? null : w, base: bases.get(rowNames[i] as string) ?? null }));
}
