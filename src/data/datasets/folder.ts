import { basename, join, resolve } from 'node:path';
import { SpotdiffError } from '../../util/errors.js';
import { classImages, imageNames, reportMissingMasks, selectObjects, stem, subdirs } from './files.js';
import { isDir } from '../../util/fs.js';
import type { Dataset, ReadOptions, Sample } from './sample.js';

/**
 * The plain folder layout for a user's own product:
 *   <product>/good/*            normal images
 *   <product>/bad/*             anomalous images, or bad/<defect>/* to name defect classes
 *   <product>/masks/*           masks matched by base name: masks/<name>.<ext> or <name>_mask.<ext>,
 *                               optionally in masks/<defect>/ (masks/ may be absent: labels only)
 * `root` is one product folder or a folder of product folders. No split is assigned.
 */

export async function isFolderProduct(dir: string): Promise<boolean> {
  return isDir(join(dir, 'good'));
}

export async function folderProductDirs(root: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (await isFolderProduct(root)) {
    found.set(basename(resolve(root)), resolve(root));
    return found;
  }
  for (const name of await subdirs(root)) if (await isFolderProduct(join(root, name))) found.set(name, resolve(root, name));
  return found;
}

/** Mask files of a product by base name ("007" for 007.png and 007_mask.png), per defect folder ('' for masks/ itself). */
async function maskIndex(masksDir: string): Promise<Map<string, Map<string, string[]>>> {
  const index = new Map<string, Map<string, string[]>>();
  const add = (defect: string, dir: string, names: string[]): void => {
    const m = index.get(defect) ?? new Map<string, string[]>();
    for (const n of names) {
      const base = stem(n).replace(/_mask$/, '');
      m.set(base, [...(m.get(base) ?? []), join(dir, n)]);
    }
    index.set(defect, m);
  };
  add('', masksDir, await imageNames(masksDir));
  for (const d of await subdirs(masksDir)) add(d, join(masksDir, d), await imageNames(join(masksDir, d)));
  return index;
}

function pickMask(index: Map<string, Map<string, string[]>>, defect: string | null, image: string): string | null {
  const base = stem(basename(image));
  const candidates = (defect !== null ? index.get(defect)?.get(base) : undefined) ?? index.get('')?.get(base) ?? [];
  if (candidates.length > 1) {
    throw new SpotdiffError('ERR_BAD_INPUT', `more than one mask matches ${image}: ${candidates.join(', ')}`);
  }
  return candidates[0] ?? null;
}

export async function readFolder(root: string, options: ReadOptions = {}): Promise<Dataset> {
  const products = await folderProductDirs(root);
  if (products.size === 0) throw new SpotdiffError('ERR_BAD_INPUT', `${root} is not in the folder layout: no good/ folder`);
  const objects = selectObjects([...products.keys()], options.objects, root);
  const samples: Sample[] = [];
  const missing: string[] = [];
  for (const object of objects) {
    const dir = products.get(object) as string;
    for (const name of await classImages(join(dir, 'good'), `${object} good/`)) {
      samples.push({ image: join(dir, 'good', name), label: 'normal', mask: null, object, defect: null, split: null });
    }
    const badDir = join(dir, 'bad');
    if (!(await isDir(badDir))) continue;
    const hasMasks = await isDir(join(dir, 'masks'));
    const index = hasMasks ? await maskIndex(join(dir, 'masks')) : new Map<string, Map<string, string[]>>();
    const requireMasks = hasMasks && (options.requireMasks ?? true);
    const groups: { defect: string | null; dir: string; names: string[] }[] = [];
    const direct = await imageNames(badDir);
    if (direct.length > 0) groups.push({ defect: null, dir: badDir, names: direct });
    for (const d of await subdirs(badDir)) groups.push({ defect: d, dir: join(badDir, d), names: await classImages(join(badDir, d), `${object} bad/${d}/`) });
    if (groups.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', `empty class: ${object} bad/ (${badDir}) has no images`);
    for (const g of groups) {
      for (const name of g.names) {
        const image = join(g.dir, name);
        const mask = hasMasks ? pickMask(index, g.defect, image) : null;
        if (mask === null && requireMasks) missing.push(image);
        samples.push({ image, label: 'anomaly', mask, object, defect: g.defect, split: null });
      }
    }
  }
  reportMissingMasks(missing, `${root} (looked for masks/<name>.<ext> and masks/<name>_mask.<ext>)`);
  return { layout: 'folder', root: resolve(root), objects, samples };
}
