import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { openDataset } from '../data/datasets/open.js';
import type { Sample } from '../data/datasets/sample.js';
import { SpotdiffError } from '../util/errors.js';

/**
 * The images a pre-training run learns from: every normal training image of every given
 * dataset folder (any layout openDataset reads). Test images and anomalies are never used, so
 * a backbone pre-trained on a benchmark's own data has not seen what it is evaluated on.
 * For supervised pre-training the class of an image is its object (product, category);
 * objects of the same name in several folders are one class.
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

export async function readPretrainData(dirs: readonly string[]): Promise<PretrainData> {
  if (dirs.length === 0) throw new SpotdiffError('ERR_USAGE', 'no data folder given (--data DIR)');
  const samples: Sample[] = [];
  const seen = new Set<string>();
  for (const dir of dirs) {
    const root = resolve(dir);
    if (seen.has(root)) throw new SpotdiffError('ERR_USAGE', `data folder ${dir} is given twice`);
    seen.add(root);
    if (await isEmptyFolder(root)) throw new SpotdiffError('ERR_BAD_INPUT', `data folder ${dir} is empty: it holds no images to pre-train on`);
    const ds = await openDataset(root);
    const train = ds.samples.filter(isTrainNormal);
    if (train.length === 0) {
      throw new SpotdiffError('ERR_BAD_INPUT', `data folder ${dir} (${ds.layout} layout) holds no normal training images to pre-train on`);
    }
    samples.push(...train);
  }
  const classes = [...new Set(samples.map((s) => s.object))].sort();
  const classOf = new Map(classes.map((c, i) => [c, i]));
  return { samples, classes, classOf };
}
