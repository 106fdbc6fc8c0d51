import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readImageFolder } from '../data/datasets/image-folder.js';
import { detectLayout, openDataset } from '../data/datasets/open.js';
import type { Sample } from '../data/datasets/sample.js';
import { isSpotdiffError, SpotdiffError } from '../util/errors.js';

/**
 * The images a pre-training run learns from, from each given folder:
 *   - a dataset (any layout openDataset reads): every normal training image; test images and
 *     anomalies are never used, so a backbone pre-trained on a benchmark's own data has not
 *     seen what it is evaluated on. The class of an image is its object (product, category);
 *   - any other folder of images (image-folder.ts): every image at any depth; the class is the
 *     top sub-folder (ImageNet-style class folders) or, for a plain folder, the folder's name.
 * Classes of the same name in several folders are one class.
 */
export interface PretrainData {
  samples: Sample[];
  /** Class names in label order (sorted object names). */
  classes: string[];
  /** Sample object -> class label. */
  classOf: ReadonlyMap<string, number>;
}

/** Whether a sample is a normal training image (layouts without a split: every normal image). */
function isTrainNormal(s: Sample): boolean {
  return s.label === 'normal' && (s.split === 'train' || s.split === null);
}

async function isEmptyFolder(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).filter((n) => !n.startsWith('.')).length === 0;
  } catch {
    return false; // missing or unreadable: openDataset says which
  }
}

/** The images of one folder: a dataset's normal training images, or every image of an image folder. */
async function trainingImages(root: string, given: string): Promise<Sample[]> {
  const layout = await detectLayout(root).catch((e: unknown) => {
    if (isSpotdiffError(e, 'ERR_BAD_INPUT')) return null; // no dataset layout: an image folder
    throw e;
  });
  if (layout === null) return (await readImageFolder(root)).samples;
  const ds = await openDataset(root, { layout });
  const train = ds.samples.filter(isTrainNormal);
  if (train.length === 0) {
    throw new SpotdiffError('ERR_BAD_INPUT', `data folder ${given} (${ds.layout} layout) holds no normal training images to pre-train on`);
  }
  return train;
}

export async function readPretrainData(dirs: readonly string[]): Promise<PretrainData> {
  if (dirs.length === 0) throw new SpotdiffError('ERR_USAGE', 'no data folder given (--data DIR)');
  const samples: Sample[] = [];
  const seen = new Set<string>();
  for (const dir of dirs) {
    const root = resolve(dir);
    if (seen.has(root)) throw new SpotdiffError('ERR_USAGE', `data folder ${dir} is given twice`);
    seen.add(root);
    if (await isEmptyFolder(root)) throw new SpotdiffError('ERR_BAD_INPUT', `data folder ${dir} is empty: it holds no images to pre-train on`);
    samples.push(...(await trainingImages(root, dir)));
  }
  const classes = [...new Set(samples.map((s) => s.object))].sort();
  const classOf = new Map(classes.map((c, i) => [c, i]));
  return { samples, classes, classOf };
}
