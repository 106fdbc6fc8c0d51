import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';

/**
 * Output names for input files, unique and predictable from the inputs alone: each input's
 * path relative to the deepest folder holding all of them, without its extension (`a.png` → `a`,
 * `a-1.png` → `a-1`, `dir2/a.png` → `dir2/a`). Inputs that would share a name (`a.png` and
 * `a.jpg` in one folder) keep their extension (`a.png`, `a.jpg`). Distinct inputs never share
 * a name; the same path given twice is one input. Keys are the resolved input paths.
 */
export function outputStems(inputs: readonly string[]): Map<string, string> {
  const paths = [...new Set(inputs.map((p) => resolve(p)))];
  const root = commonFolder(paths);
  const full = new Map(paths.map((p) => [p, relative(root, p)]));
  const stems = new Map([...full].map(([p, rel]) => [p, join(dirname(rel), basename(rel, extname(rel)))]));
  // A shared name falls back to the full relative path (unique); repeat, as that may meet another's stem.
  for (let clash = sharedNames(stems); clash.size > 0; clash = sharedNames(stems)) {
    for (const [p, stem] of stems) if (clash.has(stem)) stems.set(p, full.get(p) as string);
  }
  return stems;
}

/** The names given to more than one path. */
function sharedNames(stems: Map<string, string>): Set<string> {
  const seen = new Set<string>();
  const shared = new Set<string>();
  for (const stem of stems.values()) (seen.has(stem) ? shared : seen).add(stem);
  return shared;
}

/** The deepest folder that holds every path (resolved, absolute). */
function commonFolder(paths: readonly string[]): string {
  const split = paths.map((p) => dirname(p).split(sep));
  const first = split[0] ?? [];
  let n = 0;
  while (n < first.length && split.every((parts) => parts[n] === first[n])) n++;
  return first.slice(0, n).join(sep) || sep;
}
