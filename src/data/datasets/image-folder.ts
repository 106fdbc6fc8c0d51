import { readdir } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { SpotdiffError } from '../../util/errors.js';
import { IMAGE_EXTENSIONS, isImageName } from './files.js';
import type { Sample } from './sample.js';

/**
 * A folder of images without labels, the usual shape of pre-training data (not a detection
 * dataset: nothing in it is known to be normal or anomalous, so fit and eval do not read it):
 *   - class folders (ImageNet style): no images directly in the root, images (at any depth) in
 *     its sub-folders; each image's class is its top sub-folder's name;
 *   - otherwise a plain folder: every image at any depth, one class named after the folder.
 * Hidden files and folders are skipped; images are sorted by path, so a seeded run sees the
 * same order everywhere. Every image is a normal sample without split or mask; its class is
 * its `object`.
 */

export interface ImageFolder {
  root: string;
  /** Whether the classes are the root's sub-folders (else one class, the root's name). */
  classFolders: boolean;
  samples: Sample[];
}

export async function readImageFolder(root: string): Promise<ImageFolder> {
  const abs = resolve(root);
  const images = await imagesBelow(abs);
  if (images.length === 0) {
    throw new SpotdiffError(
      'ERR_BAD_INPUT',
      `${abs} holds no images (looked for ${[...IMAGE_EXTENSIONS].join(', ')} at any depth) and is not a dataset layout (raw VisA, prepared, folder)`,
    );
  }
  const classFolders = images.every((rel) => rel.includes('/'));
  const samples = images.map((rel): Sample => ({
    image: join(abs, ...rel.split('/')),
    label: 'normal',
    mask: null,
    object: classFolders ? (rel.split('/')[0] as string) : basename(abs),
    defect: null,
    split: null,
  }));
  return { root: abs, classFolders, samples };
}

/** Image files (and links to them) at any depth under `root`, as sorted '/'-separated relative paths. */
async function imagesBelow(root: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch (e) {
    throw new SpotdiffError('ERR_IO', `cannot list the images in ${root}: ${(e as Error).message}`, { cause: e });
  }
  const found: string[] = [];
  for (const e of entries) {
    if (!(e.isFile() || e.isSymbolicLink()) || !isImageName(e.name)) continue;
    // parentPath from Node 20.12; `path` before (the same value).
    const parent = e.parentPath ?? (e as unknown as { path: string }).path;
    const rel = relative(root, join(parent, e.name)).split(sep);
    if (rel.some((part) => part.startsWith('.'))) continue;
    found.push(rel.join('/'));
  }
  return found.sort();
}
