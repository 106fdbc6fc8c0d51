import { resolve } from 'node:path';
import { SpotdiffError } from '../../util/errors.js';
import { isDir } from '../../util/fs.js';
import { folderProductDirs, readFolder } from './folder.js';
import { preparedObjectDirs, readPrepared } from './prepared.js';
import { rawVisaObjects, readRawVisa, type RawVisaOptions } from './raw-visa.js';
import type { Dataset, LayoutName } from './sample.js';

/** What each layout needs to be recognised, for the "unknown layout" message. */
const LAYOUT_SIGNS: Record<LayoutName, string> = {
  'raw-visa': 'raw VisA: <object>/image_anno.csv',
  prepared: 'prepared (MVTec AD style): <object>/train/good/ or <object>/test/<class>/',
  folder: 'folder: good/ (+ bad/, masks/), for one product or a folder of products',
};

/** Which layout `root` is in, trying raw VisA, then prepared, then folder. */
export async function detectLayout(root: string): Promise<LayoutName> {
  if (!(await isDir(root))) throw new SpotdiffError('ERR_NOT_FOUND', `dataset folder not found: ${root}`);
  if ((await rawVisaObjects(root)).objects.length > 0) return 'raw-visa';
  if ((await preparedObjectDirs(root)).size > 0) return 'prepared';
  if ((await folderProductDirs(root)).size > 0) return 'folder';
  throw new SpotdiffError(
    'ERR_BAD_INPUT',
    `unknown dataset layout at ${resolve(root)}; tried:\n${Object.values(LAYOUT_SIGNS).map((s) => `  ${s}`).join('\n')}`,
  );
}

/** Reads a dataset in any of the three layouts (or the one named by `layout`). */
export async function openDataset(root: string, options: RawVisaOptions & { layout?: LayoutName } = {}): Promise<Dataset> {
  const layout = options.layout ?? (await detectLayout(root));
  if (options.split !== undefined && layout !== 'raw-visa') {
    throw new SpotdiffError('ERR_USAGE', `a split file applies to the raw VisA layout only; ${root} is in the ${layout} layout`);
  }
  switch (layout) {
    case 'raw-visa':
      return readRawVisa(root, options);
    case 'prepared':
      return readPrepared(root, options);
    case 'folder':
      return readFolder(root, options);
  }
}
