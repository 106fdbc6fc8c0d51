import { readdir } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { SpotdiffError } from '../../util/errors.js';
import { readCsv, type CsvRecord } from './csv.js';
import { listSome, reportMissingMasks, selectObjects, subdirs } from './files.js';
import { isFile } from '../../util/fs.js';
import { defaultSplitFile } from '../visa/facts.js';
import { isSplitType } from '../visa/split-csv.js';
import type { Dataset, Label, ReadOptions, Sample, Split } from './sample.js';

/**
 * The raw VisA layout, as downloaded:
 *   <root>/<object>/image_anno.csv   columns image,label,mask (paths relative to <root>)
 *   <root>/<object>/Data/Images/{Normal,Anomaly}/..., <root>/<object>/Data/Masks/Anomaly/...
 *   <root>/split_csv/<type>.csv      columns object,split,label,image,mask
 * Without a split type, samples come from every object's image_anno.csv with split null; with
 * one, from the split CSV, each with its train/test split.
 * `root` may also be one object folder (its image_anno.csv paths then start from its parent).
 */

export interface RawVisaOptions extends ReadOptions {
  /**
   * Read this split file: a CSV path, or a protocol name (1cls, 2cls_highshot, 2cls_fewshot):
   * <root>/split_csv/<name>.csv, or the official split shipped with spotdiff when the dataset has none.
   */
  split?: string;
}

/** Object names with an image_anno.csv, and the dataset root their paths are relative to. */
export async function rawVisaObjects(root: string): Promise<{ datasetRoot: string; objects: string[] }> {
  const abs = resolve(root);
  if (await isFile(join(abs, 'image_anno.csv'))) return { datasetRoot: dirname(abs), objects: [basename(abs)] };
  const objects: string[] = [];
  for (const name of await subdirs(abs)) if (await isFile(join(abs, name, 'image_anno.csv'))) objects.push(name);
  return { datasetRoot: abs, objects };
}

/** The CSV a `split` option names: a path as given, or a protocol's default split file. */
async function splitCsvPath(datasetRoot: string, split: string): Promise<string> {
  if (split.endsWith('.csv')) return resolve(split);
  if (isSplitType(split)) return defaultSplitFile(datasetRoot, split);
  return join(datasetRoot, 'split_csv', `${split}.csv`);
}

/** A CSV path relative to the dataset root, refused if it would leave the root. */
function underRoot(datasetRoot: string, rel: string, where: string): string {
  if (isAbsolute(rel) || rel.split(/[\\/]/).includes('..')) {
    throw new SpotdiffError('ERR_BAD_CSV', `${where}: path "${rel}" leaves the dataset root`);
  }
  return join(datasetRoot, rel);
}

function labelOf(raw: string, where: string): { label: Label; defect: string | null } {
  const v = raw.toLowerCase();
  if (v === 'normal' || v === 'good') return { label: 'normal', defect: null };
  if (v === '') throw new SpotdiffError('ERR_BAD_CSV', `${where}: empty label`);
  // The README gives normal|anomaly; any other text is read as the name of a defect class.
  return { label: 'anomaly', defect: v === 'anomaly' ? null : raw };
}

/** Which of `paths` do not exist, listing each folder once instead of a stat per file. */
async function missingFiles(paths: readonly string[]): Promise<string[]> {
  const byDir = new Map<string, Set<string>>();
  for (const p of paths) byDir.set(dirname(p), new Set());
  await Promise.all(
    [...byDir.keys()].map(async (d) => {
      try {
        byDir.set(d, new Set(await readdir(d)));
      } catch {
        /* folder missing: every file in it is missing */
      }
    }),
  );
  return paths.filter((p) => !(byDir.get(dirname(p)) as Set<string>).has(basename(p)));
}

export async function readRawVisa(root: string, options: RawVisaOptions = {}): Promise<Dataset> {
  const { datasetRoot, objects: available } = await rawVisaObjects(root);
  if (available.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', `${root} is not in the raw VisA layout: no <object>/image_anno.csv`);
  const objects = selectObjects(available, options.objects, root);
  const requireMasks = options.requireMasks ?? true;
  const samples: Sample[] = [];

  const fromRecord = (r: CsvRecord, file: string, object: string, split: Split | null): Sample => {
    const where = `${file} line ${r.line}`;
    const { label, defect } = labelOf(r.values['label'] as string, where);
    const imageRel = r.values['image'] as string;
    if (imageRel === '') throw new SpotdiffError('ERR_BAD_CSV', `${where}: empty image path`);
    const maskRel = label === 'anomaly' ? (r.values['mask'] as string) : '';
    return {
      image: underRoot(datasetRoot, imageRel, where),
      label,
      mask: maskRel === '' ? null : underRoot(datasetRoot, maskRel, where),
      object,
      defect,
      split,
    };
  };

  if (options.split !== undefined) {
    const csvPath = await splitCsvPath(datasetRoot, options.split);
    for (const r of await readCsv(csvPath, ['object', 'split', 'label', 'image', 'mask'])) {
      const object = r.values['object'] as string;
      if (!objects.includes(object)) continue;
      const split = r.values['split'];
      if (split !== 'train' && split !== 'test') throw new SpotdiffError('ERR_BAD_CSV', `${csvPath} line ${r.line}: split "${split}" is not train or test`);
      samples.push(fromRecord(r, csvPath, object, split));
    }
  } else {
    for (const object of objects) {
      const file = join(datasetRoot, object, 'image_anno.csv');
      for (const r of await readCsv(file, ['image', 'label', 'mask'])) samples.push(fromRecord(r, file, object, null));
    }
  }

  for (const object of objects) {
    const mine = samples.filter((s) => s.object === object);
    if (!mine.some((s) => s.label === 'normal')) {
      throw new SpotdiffError('ERR_BAD_INPUT', `empty class: object ${object} has no normal images in ${options.split ?? 'image_anno.csv'}`);
    }
  }
  const missingImages = await missingFiles(samples.map((s) => s.image));
  if (missingImages.length > 0) throw new SpotdiffError('ERR_NOT_FOUND', `${missingImages.length} image(s) listed but not found:\n${listSome(missingImages)}`);
  const withMask = samples.filter((s) => s.mask !== null);
  const missingMaskFiles = new Set(await missingFiles(withMask.map((s) => s.mask as string)));
  const noMask: string[] = [];
  for (const s of samples) {
    if (s.label !== 'anomaly') continue;
    if (s.mask !== null && missingMaskFiles.has(s.mask)) {
      if (requireMasks) noMask.push(`${s.image} (mask ${s.mask} not found)`);
      else s.mask = null;
    } else if (s.mask === null && requireMasks) noMask.push(`${s.image} (no mask in the CSV)`);
  }
  reportMissingMasks(noMask, datasetRoot);
  return { layout: 'raw-visa', root: datasetRoot, objects, samples };
}
