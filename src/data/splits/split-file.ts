import { lstat } from 'node:fs/promises';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { SpotdiffError } from '../../util/errors.js';
import { layoutCollisions } from '../visa/layout.js';
import { formatProblems, parseSplitCsv, SPLIT_COLUMNS, type SplitType } from '../visa/split-csv.js';
import type { SplitEntry } from './assign.js';

/**
 * Writes split rows in the official VisA split file format, byte for byte as the published
 * files are: the header object,split,label,image,mask, CRLF after every line (the last too),
 * '/'-separated paths relative to the dataset root, an empty mask for normal images. A field is
 * quoted (RFC 4180) only when it holds a comma, a quote or a line break, which the official
 * files never need.
 */

export function formatSplitCsv(rows: readonly SplitEntry[]): string {
  const lines = [SPLIT_COLUMNS.join(','), ...rows.map((r) => [r.object, r.split, r.label, r.image, r.mask ?? ''].map(csvField).join(','))];
  return lines.map((l) => `${l}\r\n`).join('');
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export interface WriteSplitOptions {
  /** Replace an existing file (default false: an existing file is an error and stays as it is). */
  overwrite?: boolean;
}

/**
 * Checks the rows as `prepare` will (the split file's rules for `splitType`, and that no two
 * rows prepare to the same file), then writes the file atomically. Refuses to replace an
 * existing file unless `overwrite`. Nothing is written when a check fails.
 */
export async function writeSplitCsv(path: string, rows: readonly SplitEntry[], splitType: SplitType, options: WriteSplitOptions = {}): Promise<void> {
  const text = formatSplitCsv(rows);
  checkAsPrepareWill(text, path, splitType);
  if (!options.overwrite && (await exists(path))) {
    throw new SpotdiffError('ERR_BAD_INPUT', `${path} already exists; it was left as it is (ask to overwrite it to replace it)`);
  }
  await writeFileAtomic(path, text);
}

function checkAsPrepareWill(text: string, path: string, splitType: SplitType): void {
  let rows;
  try {
    rows = parseSplitCsv(text, path, splitType);
  } catch (e) {
    throw new SpotdiffError('ERR_BAD_INPUT', `the split for ${path} would not be a valid split file (nothing was written):\n${(e as Error).message}`, { cause: e });
  }
  // The file does not exist yet, so name images instead of its line numbers.
  const imageAt = new Map(rows.map((r) => [r.line, r.image]));
  const name = (line: number): string => imageAt.get(line) ?? `line ${line}`;
  const collisions = layoutCollisions(rows, splitType).map((p) => ({
    line: 0,
    message: `${name(p.line)}: ${p.message.replace(/as line (\d+) does/, (_, l: string) => `as ${name(Number(l))} does`)}`,
  }));
  if (collisions.length > 0) {
    const why = "prepare keeps file names and puts all of an object's anomalous images in one bad/ folder, so these names must differ";
    throw new SpotdiffError('ERR_BAD_INPUT', `${formatProblems(path, collisions)}\n(${why}; nothing was written)`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}
