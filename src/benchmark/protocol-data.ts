import { basename, join, resolve } from 'node:path';
import { SpotdiffError } from '../util/errors.js';
import { isDir } from '../util/fs.js';
import { SPLIT_TYPES, type SplitType } from '../data/visa/split-csv.js';

/**
 * The prepared split a protocol reads: `data` is either what `spotdiff prepare --save-folder`
 * filled (a folder holding 1cls/, 2cls_highshot/, 2cls_fewshot/) or one of those split folders
 * itself. Anything else is refused with what was looked for, so a 1-class split is never
 * silently benchmarked under a 2-class protocol (its train split has no anomalies).
 */
export async function protocolDataFolder(data: string, splitType: SplitType): Promise<string> {
  if (!(await isDir(data))) throw new SpotdiffError('ERR_NOT_FOUND', `dataset folder not found: ${data}`);
  const inside = join(data, splitType);
  if (await isDir(inside)) return inside;
  const name = basename(resolve(data));
  if (name === splitType) return data;
  const other = (SPLIT_TYPES as readonly string[]).includes(name) ? ` it is the ${name} split;` : '';
  throw new SpotdiffError(
    'ERR_USAGE',
    `${data} is not the ${splitType} split:${other} give the folder prepare wrote (holding ${splitType}/) or its ${splitType} folder (prepare the ${splitType} split type first)`,
  );
}
