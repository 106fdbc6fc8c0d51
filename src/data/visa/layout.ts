import { posix } from 'node:path';
import type { SplitProblem, SplitRow, SplitType } from './split-csv.js';

/**
 * Where the official prepare_data.py puts each row of a split file, relative to
 * <save>/<split_type>/:
 *   images:      <object>/<split>/{good,bad}/<image file name>
 *   1cls masks:  <object>/ground_truth/bad/<mask name>          (test anomalies only)
 *   2cls masks:  <object>/ground_truth/<split>/bad/<mask name>
 * File names are kept, so two rows that land on the same path would overwrite each other; the
 * official files never do (normal images are NNNN.JPG, anomalies NNN.JPG, in different
 * folders), and `layoutCollisions` reports any that would.
 * Masks are always written as PNG (binarised 0/255), so a mask's extension becomes .png.
 */

export interface PreparedPaths {
  image: string;
  mask: string | null;
}

export function preparedPaths(row: SplitRow, splitType: SplitType): PreparedPaths {
  const cls = row.label === 'normal' ? 'good' : 'bad';
  const image = posix.join(row.object, row.split, cls, posix.basename(row.image));
  if (row.mask === null) return { image, mask: null };
  const maskName = pngName(posix.basename(row.mask));
  const mask = splitType === '1cls' ? posix.join(row.object, 'ground_truth', 'bad', maskName) : posix.join(row.object, 'ground_truth', row.split, 'bad', maskName);
  return { image, mask };
}

function pngName(name: string): string {
  const ext = posix.extname(name);
  return ext.toLowerCase() === '.png' ? name : `${ext ? name.slice(0, -ext.length) : name}.png`;
}

/** The folders the official script creates for every object, whether or not they get files. */
export function objectFolders(object: string, splitType: SplitType): string[] {
  const folders = ['train/good', 'test/good', 'test/bad'];
  if (splitType === '1cls') folders.push('ground_truth/bad');
  else folders.push('train/bad', 'ground_truth/train/bad', 'ground_truth/test/bad');
  return folders.map((f) => posix.join(object, f));
}

/**
 * Rows whose outputs would land on the same file. Names that differ only in case count too:
 * on macOS and Windows file systems they are the same file.
 */
export function layoutCollisions(rows: readonly SplitRow[], splitType: SplitType): SplitProblem[] {
  const problems: SplitProblem[] = [];
  const taken = new Map<string, { line: number; path: string }>();
  for (const row of rows) {
    const paths = preparedPaths(row, splitType);
    for (const path of [paths.image, paths.mask]) {
      if (path === null) continue;
      const key = path.toLowerCase();
      const first = taken.get(key);
      if (first === undefined) taken.set(key, { line: row.line, path });
      else {
        const how = first.path === path ? '' : ` (names differ only in case: "${first.path}")`;
        problems.push({ line: row.line, message: `name collision: prepares to "${path}", as line ${first.line} does${how}` });
      }
    }
  }
  return problems;
}
