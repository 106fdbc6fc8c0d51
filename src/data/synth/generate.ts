import { readdir, readFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isSpotdiffError, SpotdiffError } from '../../util/errors.js';
import { Random } from '../../util/random.js';
import { writeDirAtomic } from '../../util/atomic-write.js';
import { DEFAULT_SYNTH_OBJECTS, SYNTH_OBJECTS } from './objects/index.js';
import type { RenderJob } from './encode.js';
import { RenderPool, defaultThreads } from './pool.js';
import { assignSplit, type ObjectImages } from '../splits/assign.js';
import { formatSplitCsv } from '../splits/split-file.js';
import { SPLIT_TYPES, type SplitType } from '../visa/split-csv.js';
import type { Domain, SynthObject } from './types.js';

/**
 * `spotdiff synth`: writes a synthetic dataset in the raw VisA layout.
 *   <out>/<object>/Data/Images/Normal/NNNN.JPG, Data/Images/Anomaly/NNN.JPG
 *   <out>/<object>/Data/Masks/Anomaly/NNN.png   class-id masks (pixel value = defect class id)
 *   <out>/<object>/image_anno.csv               image,label,mask (paths relative to <out>)
 *   <out>/split_csv/{1cls,2cls_highshot,2cls_fewshot}.csv (those the image counts allow; src/data/splits rules)
 *   <out>/defect_classes.json                   per object: id -> name, 0 = BACKGROUND
 *   <out>/synth.json                            the parameters it was made with
 * The same options give the same bytes. The folder appears all at once (written beside, renamed).
 */

export interface SynthOptions {
  out: string;
  objects?: readonly string[];
  seed?: number;
  /** Normal images per object (default 60). */
  normal?: number;
  /** Anomalous images per object (default 20). */
  anomalous?: number;
  /** Image side in pixels (default 256). */
  size?: number;
  /** Worker threads that draw images (default: the number of cores, at most 8; 0 draws on this thread). */
  threads?: number;
  /** Called after each image is written. */
  onProgress?: (done: number, total: number) => void;
}

export interface SynthSummary {
  root: string;
  seed: number;
  size: number;
  objects: { name: string; domain: Domain; normal: number; anomalous: number; defectClasses: string[] }[];
  images: number;
}

/** Probability that an anomalous image gets a second defect of another class. */
const SECOND_DEFECT = 0.15;

/** Which defect classes each anomalous image of an object gets: classes balanced, order seeded. */
export function defectPlan(object: SynthObject, seed: number, count: number): number[][] {
  const rng = Random.derive(seed, object.name, 'defect-plan');
  const n = object.defectClasses.length;
  const primaries = rng.shuffle(Array.from({ length: count }, (_, i) => (i % n) + 1));
  return primaries.map((id) => {
    if (n < 2 || !rng.chance(SECOND_DEFECT)) return [id];
    const other = rng.intBetween(1, n - 1);
    return [id, other >= id ? other + 1 : other];
  });
}

export function resolveObjects(names: readonly string[] | undefined): SynthObject[] {
  const list = names ?? DEFAULT_SYNTH_OBJECTS;
  if (list.length === 0) throw new SpotdiffError('ERR_USAGE', 'no objects asked for');
  const unknown = list.filter((n) => !(n in SYNTH_OBJECTS));
  if (unknown.length > 0) {
    throw new SpotdiffError('ERR_USAGE', `unknown synthetic object(s) ${unknown.join(', ')}; available: ${Object.keys(SYNTH_OBJECTS).join(', ')}`);
  }
  if (new Set(list).size !== list.length) throw new SpotdiffError('ERR_USAGE', `an object is listed twice: ${list.join(',')}`);
  return list.map((n) => SYNTH_OBJECTS[n] as SynthObject);
}

function checkCount(v: number, name: string, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new SpotdiffError('ERR_USAGE', `--${name} must be an integer from ${min} to ${max}, got ${v}`);
}

/** Refuses to replace a folder that holds something other than an earlier synthetic dataset. */
async function checkOut(out: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(out);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') throw new SpotdiffError('ERR_BAD_INPUT', `--out ${out} is a file, not a folder`);
    throw new SpotdiffError('ERR_IO', `cannot read ${out}: ${(e as Error).message}`, { cause: e });
  }
  if (entries.length === 0) return;
  try {
    JSON.parse(await readFile(join(out, 'synth.json'), 'utf8'));
  } catch {
    throw new SpotdiffError('ERR_BAD_INPUT', `refusing to replace ${out}: it is not empty and holds no synth.json (not a dataset spotdiff synth made); choose another --out`);
  }
}

const pad = (i: number, width: number): string => String(i).padStart(width, '0');

export async function generateSynthDataset(options: SynthOptions): Promise<SynthSummary> {
  const seed = options.seed ?? 0;
  const normal = options.normal ?? 60;
  const anomalous = options.anomalous ?? 20;
  const size = options.size ?? 256;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new SpotdiffError('ERR_USAGE', `--seed must be a non-negative integer, got ${seed}`);
  checkCount(normal, 'normal', 1, 100_000);
  checkCount(anomalous, 'anomalous', 0, 100_000);
  checkCount(size, 'size', 64, 4096);
  const objects = resolveObjects(options.objects);
  await checkOut(options.out);

  const total = objects.length * (normal + anomalous);
  const nWidth = Math.max(4, String(normal - 1).length);
  const aWidth = Math.max(3, String(Math.max(0, anomalous - 1)).length);
  let done = 0;

  const pool = new RenderPool(options.threads ?? defaultThreads());
  try {
    await writeDirAtomic(options.out, async (tmp) => {
      const listing: ObjectImages[] = [];
      const defectClasses: Record<string, Record<string, string>> = {};
      // Images are drawn on worker threads; a bounded number of jobs stay in flight.
      const inFlight = new Set<Promise<void>>();
      const submit = async (job: RenderJob, imagePath: string, maskPath: string | null): Promise<void> => {
        const p = pool.render(job).then(async (r) => {
          await writeFile(imagePath, r.jpeg);
          if (maskPath !== null && r.maskPng) await writeFile(maskPath, r.maskPng);
          options.onProgress?.(++done, total);
        });
        const tracked = p.finally(() => inFlight.delete(tracked));
        tracked.catch(() => undefined);
        inFlight.add(tracked);
        if (inFlight.size >= 16) await Promise.race(inFlight);
      };

      for (const object of objects) {
        const base = join(tmp, object.name, 'Data');
        await mkdir(join(base, 'Images', 'Normal'), { recursive: true });
        await mkdir(join(base, 'Images', 'Anomaly'), { recursive: true });
        await mkdir(join(base, 'Masks', 'Anomaly'), { recursive: true });
        const rel = (...p: string[]): string => [object.name, 'Data', ...p].join('/');
        const normals: string[] = [];
        const anomalies: { image: string; mask: string }[] = [];
        for (let i = 0; i < normal; i++) {
          const name = `${pad(i, nWidth)}.JPG`;
          normals.push(rel('Images', 'Normal', name));
          await submit({ object: object.name, seed, size, index: i, defects: [] }, join(base, 'Images', 'Normal', name), null);
        }
        const plan = defectPlan(object, seed, anomalous);
        for (let i = 0; i < anomalous; i++) {
          const stem = pad(i, aWidth);
          anomalies.push({ image: rel('Images', 'Anomaly', `${stem}.JPG`), mask: rel('Masks', 'Anomaly', `${stem}.png`) });
          await submit({ object: object.name, seed, size, index: i, defects: plan[i] as number[] }, join(base, 'Images', 'Anomaly', `${stem}.JPG`), join(base, 'Masks', 'Anomaly', `${stem}.png`));
        }
        const anno = ['image,label,mask', ...normals.map((p) => `${p},normal,`), ...anomalies.map((a) => `${a.image},anomaly,${a.mask}`)];
        await writeFile(join(tmp, object.name, 'image_anno.csv'), anno.join('\n') + '\n');
        defectClasses[object.name] = Object.fromEntries([['0', 'BACKGROUND'], ...object.defectClasses.map((n, i) => [String(i + 1), n])]);
        listing.push({ object: object.name, normal: normals, anomaly: anomalies });
      }
      await Promise.all(inFlight);
      await mkdir(join(tmp, 'split_csv'));
      const splits = await writeSplitFiles(join(tmp, 'split_csv'), listing, seed);
      await writeFile(join(tmp, 'defect_classes.json'), JSON.stringify(defectClasses, null, 1) + '\n');
      const manifest = { generator: 'spotdiff synth', version: 1, seed, size, normal, anomalous, objects: objects.map((o) => o.name), splits };
      await writeFile(join(tmp, 'synth.json'), JSON.stringify(manifest, null, 2) + '\n');
    });
  } finally {
    await pool.close();
  }

  return {
    root: options.out,
    seed,
    size,
    objects: objects.map((o) => ({ name: o.name, domain: o.domain, normal, anomalous, defectClasses: [...o.defectClasses] })),
    images: total,
  };
}

/**
 * The split files of every split type the image counts allow, by the paper's rules
 * (src/data/splits); a type whose rule a class is too small for (no anomalies: no 1cls test
 * anomalies, no 2cls anomalies to split) is left out. Returns the types written.
 */
async function writeSplitFiles(dir: string, listing: readonly ObjectImages[], seed: number): Promise<SplitType[]> {
  const written: SplitType[] = [];
  for (const splitType of SPLIT_TYPES) {
    let rows;
    try {
      rows = assignSplit(listing, splitType, seed);
    } catch (e) {
      if (isSpotdiffError(e, 'ERR_BAD_INPUT')) continue;
      throw e;
    }
    await writeFile(join(dir, `${splitType}.csv`), formatSplitCsv(rows));
    written.push(splitType);
  }
  return written;
}
