import { relative, resolve, sep } from 'node:path';
import { SpotdiffError } from '../../util/errors.js';
import { listSome } from '../datasets/files.js';
import { readFolder } from '../datasets/folder.js';
import type { ObjectImages } from './assign.js';

/**
 * The images of a folder dataset (datasets/folder.ts: one product folder with good/, bad/ and
 * masks/, or a folder of them) per object, with paths relative to `root` as a split file
 * holds them, so that a split of it prepares with `root` as the data folder. The split file
 * format gives every anomalous image a mask, so an anomalous image without one is an error.
 */
export async function folderImages(root: string): Promise<ObjectImages[]> {
  const dataset = await readFolder(root);
  const base = resolve(root);
  const rel = (abs: string): string => relative(base, abs).split(sep).join('/');
  const byObject = new Map<string, { object: string; normal: string[]; anomaly: { image: string; mask: string }[] }>();
  for (const object of dataset.objects) byObject.set(object, { object, normal: [], anomaly: [] });
  const unmasked: string[] = [];
  for (const s of dataset.samples) {
    const o = byObject.get(s.object);
    if (o === undefined) continue;
    if (s.label === 'normal') o.normal.push(rel(s.image));
    else if (s.mask === null) unmasked.push(s.image);
    else o.anomaly.push({ image: rel(s.image), mask: rel(s.mask) });
  }
  if (unmasked.length > 0) {
    throw new SpotdiffError(
      'ERR_NOT_FOUND',
      `${unmasked.length} anomalous image(s) in ${base} have no mask, and a split file lists a mask for every anomalous image:\n${listSome(unmasked)}\n(put masks in <product>/masks/, named <image name>.png or <image name>_mask.png)`,
    );
  }
  return [...byObject.values()];
}
