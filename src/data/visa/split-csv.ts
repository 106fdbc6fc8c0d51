import { readFile } from 'node:fs/promises';
import { parseCsvRows } from '../datasets/csv.js';
import { SpotdiffError } from '../../util/errors.js';

/**
 * The official VisA split files (split_csv/{1cls,2cls_highshot,2cls_fewshot}.csv): columns
 * object,split,label,image,mask with paths relative to the dataset root and an empty mask for
 * normal images. Validation collects every problem with its line number and throws one
 * ERR_BAD_CSV, so a user fixes a broken file in one pass instead of one error per run.
 */

export const SPLIT_TYPES = ['1cls', '2cls_highshot', '2cls_fewshot'] as const;
export type SplitType = (typeof SPLIT_TYPES)[number];

export const SPLIT_COLUMNS = ['object', 'split', 'label', 'image', 'mask'] as const;

export interface SplitRow {
  /** 1-based line of the file where the row starts (the header is line 1). */
  line: number;
  object: string;
  split: 'train' | 'test';
  label: 'normal' | 'anomaly';
  /** Relative to the dataset root, '/'-separated. */
  image: string;
  /** Relative to the dataset root; null for normal images. */
  mask: string | null;
}

export interface SplitProblem {
  /** The line the problem is on; 0 for the file as a whole. */
  line: number;
  message: string;
}

export function isSplitType(s: string): s is SplitType {
  return (SPLIT_TYPES as readonly string[]).includes(s);
}

/** Why `path` is not a safe relative path inside the dataset root, or null when it is. */
export function unsafeRelativePath(path: string): string | null {
  if (path.includes('\0')) return 'contains a NUL character';
  if (path.includes('\\')) return "uses '\\' (paths in split files use '/')";
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'is absolute (paths must be relative to the dataset root)';
  if (path.split('/').includes('..')) return "contains '..' and could leave the dataset root";
  if (path.endsWith('/')) return 'names a folder, not a file';
  return null;
}

/** Why `name` cannot be one folder name in the prepared layout, or null. */
function unsafeObjectName(name: string): string | null {
  if (name === '') return 'is empty';
  if (name === '.' || name === '..' || /[\\/\0]/.test(name)) return 'is not a plain folder name';
  return null;
}

/**
 * Checks parsed rows; returns the valid rows and every problem found. `splitType`, when given,
 * adds the protocol's constraints (1cls has no anomalous training images).
 */
export function validateSplitRows(
  header: readonly string[],
  rows: readonly { line: number; fields: string[] }[],
  splitType?: SplitType,
): { rows: SplitRow[]; problems: SplitProblem[] } {
  const problems: SplitProblem[] = [];
  const columns = header.map((c) => c.trim());
  const missing = SPLIT_COLUMNS.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    problems.push({ line: 1, message: `missing column(s) ${missing.join(', ')}; header is "${columns.join(',')}", expected "${SPLIT_COLUMNS.join(',')}"` });
    return { rows: [], problems };
  }
  const index = Object.fromEntries(SPLIT_COLUMNS.map((c) => [c, columns.indexOf(c)])) as Record<(typeof SPLIT_COLUMNS)[number], number>;
  const out: SplitRow[] = [];
  const firstLineOfImage = new Map<string, number>();
  const firstLineOfMask = new Map<string, number>();
  for (const { line, fields } of rows) {
    const say = (message: string): void => void problems.push({ line, message });
    if (fields.length !== columns.length) {
      say(`${fields.length} field(s), the header has ${columns.length}`);
      continue;
    }
    const get = (c: (typeof SPLIT_COLUMNS)[number]): string => (fields[index[c]] as string).trim();
    const object = get('object');
    const split = get('split');
    const label = get('label');
    const image = get('image');
    const mask = get('mask');
    let ok = true;
    const bad = (message: string): void => {
      say(message);
      ok = false;
    };
    const objectProblem = unsafeObjectName(object);
    if (objectProblem) bad(`object "${object}" ${objectProblem}`);
    if (split !== 'train' && split !== 'test') bad(`split "${split}" is not train or test`);
    if (label !== 'normal' && label !== 'anomaly') bad(`label "${label}" is not normal or anomaly`);
    if (image === '') bad('image path is empty');
    else {
      const p = unsafeRelativePath(image);
      if (p) bad(`image path "${image}" ${p}`);
    }
    if (label === 'normal' && mask !== '') bad(`normal image has a mask ("${mask}"); the mask must be empty for normal images`);
    if (label === 'anomaly') {
      if (mask === '') bad('anomalous image has no mask');
      else {
        const p = unsafeRelativePath(mask);
        if (p) bad(`mask path "${mask}" ${p}`);
      }
    }
    if (splitType === '1cls' && split === 'train' && label === 'anomaly') bad('1cls trains on normal images only, but this row is an anomalous training image');
    if (image !== '') {
      const seen = firstLineOfImage.get(image);
      if (seen !== undefined) bad(`duplicate: image "${image}" is already listed on line ${seen}`);
      else firstLineOfImage.set(image, line);
    }
    if (label === 'anomaly' && mask !== '') {
      const seen = firstLineOfMask.get(mask);
      if (seen !== undefined) bad(`duplicate: mask "${mask}" is already used on line ${seen}`);
      else firstLineOfMask.set(mask, line);
    }
    if (ok) out.push({ line, object, split: split as SplitRow['split'], label: label as SplitRow['label'], image, mask: label === 'anomaly' ? mask : null });
  }
  if (rows.length === 0) problems.push({ line: 0, message: 'no data rows after the header' });
  return { rows: out, problems };
}

/** Formats problems as one message: every problem, up to `max` lines, then a count. */
export function formatProblems(file: string, problems: readonly SplitProblem[], max = 100): string {
  const lines = problems.slice(0, max).map((p) => `  ${p.line > 0 ? `line ${p.line}: ` : ''}${p.message}`);
  if (problems.length > max) lines.push(`  ... and ${problems.length - max} more`);
  return `${file}: ${problems.length} problem(s):\n${lines.join('\n')}`;
}

/** Parses and validates split CSV text; throws one ERR_BAD_CSV listing every problem. */
export function parseSplitCsv(text: string, file: string, splitType?: SplitType): SplitRow[] {
  const parsed = parseCsvRows(text, file);
  const header = parsed.shift();
  if (!header) throw new SpotdiffError('ERR_BAD_CSV', `${file} is empty (expected the header ${SPLIT_COLUMNS.join(',')})`);
  const { rows, problems } = validateSplitRows(header.fields, parsed, splitType);
  if (problems.length > 0) throw new SpotdiffError('ERR_BAD_CSV', formatProblems(file, problems));
  return rows;
}

export async function readSplitCsv(path: string, splitType?: SplitType): Promise<SplitRow[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SpotdiffError(code === 'ENOENT' ? 'ERR_NOT_FOUND' : 'ERR_IO', `cannot read split file ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseSplitCsv(text, path, splitType);
}
