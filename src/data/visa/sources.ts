import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SpotdiffError } from '../../util/errors.js';
import { binarizeMaskPng } from './binarize-mask.js';
import { mapLimit } from './parallel.js';
import { formatProblems, type SplitProblem, type SplitRow } from './split-csv.js';

/**
 * The checks `prepare` makes on the raw dataset before it writes anything: every listed file
 * exists, and every mask decodes. Each reports all its problems in one error.
 */

export interface SourceFile {
  line: number;
  kind: 'image' | 'mask';
  /** Relative to the dataset root, as in the split file. */
  rel: string;
  abs: string;
  size: number;
  /** Modification and access times in ms since the epoch (sub-ms precision kept). */
  mtimeMs: number;
  atimeMs: number;
}

/** Stats every image and mask of `rows`; throws ERR_NOT_FOUND naming every missing one. */
export async function statSources(dataFolder: string, rows: readonly SplitRow[], concurrency: number, where: string): Promise<Map<string, SourceFile>> {
  const wanted: { line: number; kind: SourceFile['kind']; rel: string }[] = [];
  for (const r of rows) {
    wanted.push({ line: r.line, kind: 'image', rel: r.image });
    if (r.mask !== null) wanted.push({ line: r.line, kind: 'mask', rel: r.mask });
  }
  const problems: SplitProblem[] = [];
  const found = new Map<string, SourceFile>();
  await mapLimit(wanted, concurrency, async (w) => {
    const abs = join(dataFolder, w.rel);
    try {
      const st = await stat(abs);
      if (!st.isFile()) problems.push({ line: w.line, message: `${w.kind} ${abs} is not a file` });
      else found.set(w.rel, { ...w, abs, size: st.size, mtimeMs: st.mtimeMs, atimeMs: st.atimeMs });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      problems.push({ line: w.line, message: code === 'ENOENT' || code === 'ENOTDIR' ? `missing ${w.kind} ${abs}` : `cannot read ${w.kind} ${abs}: ${(e as Error).message}` });
    }
  });
  if (problems.length > 0) {
    problems.sort((a, b) => a.line - b.line);
    throw new SpotdiffError('ERR_NOT_FOUND', `${formatProblems(where, problems)}\n(nothing was written; the paths are relative to the data folder ${dataFolder})`);
  }
  return found;
}

/**
 * Reads and binarises every mask; returns the PNG bytes to write by mask path. Throws one
 * ERR_BAD_IMAGE naming every mask that cannot be decoded.
 */
export async function binarizeMasks(
  masks: readonly SourceFile[],
  concurrency: number,
  where: string,
  onDone?: () => void,
): Promise<Map<string, Buffer>> {
  const problems: SplitProblem[] = [];
  const out = new Map<string, Buffer>();
  await mapLimit(masks, concurrency, async (m) => {
    try {
      out.set(m.rel, (await binarizeMaskPng(await readFile(m.abs))).png);
    } catch (e) {
      problems.push({ line: m.line, message: `unreadable mask ${m.abs}: ${(e as Error).message.split('\n')[0]}` });
    }
    onDone?.();
  });
  if (problems.length > 0) {
    problems.sort((a, b) => a.line - b.line);
    throw new SpotdiffError('ERR_BAD_IMAGE', `${formatProblems(where, problems)}\n(nothing was written; masks must be PNG images of class ids)`);
  }
  return out;
}
