import { readdir } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { SpotdiffError } from '../../util/errors.js';
import { classImages, isImageName, reportMissingMasks, selectObjects, stem, subdirs } from './files.js';
import { isDir } from '../../util/fs.js';
import type { Dataset, ReadOptions, Sample, Split } from './sample.js';

/**
 * The prepared layout (MVTec AD style), per object:
 *   train/good/*, test/good/*, test/<defect>/*, and for VisA's 2-class splits train/bad/* too;
 *   masks in ground_truth/, in any of the three conventions met in practice:
 *     MVTec AD:          ground_truth/<defect>/<name>_mask.png
 *     VisA 1cls:         ground_truth/bad/<name>.png
 *     VisA 2cls splits:  ground_truth/<train|test>/bad/<name>.png
 * `root` is one object folder (holding train/ and test/) or a folder of object folders.
 * "good" is the normal class; every other class folder is anomalous, its name the defect class
 * ("bad", VisA's single anomalous folder, names no class and gives defect null).
 */

const SPLITS: readonly Split[] = ['train', 'test'];

/** Whether `dir` looks like one prepared object (a train/ or test/ folder with class sub-folders). */
export async function isPreparedObject(dir: string): Promise<boolean> {
  for (const split of SPLITS) {
    if ((await subdirs(join(dir, split))).length > 0) return true;
  }
  return false;
}

/** Object folders under root: root itself when it is one object, else its sub-folders that are. */
export async function preparedObjectDirs(root: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (await isPreparedObject(root)) {
    found.set(basename(resolve(root)), resolve(root));
    return found;
  }
  for (const name of await subdirs(root)) {
    if (await isPreparedObject(join(root, name))) found.set(name, resolve(root, name));
  }
  return found;
}

/** Every file under ground_truth/, as paths relative to it with '/' separators. */
async function groundTruthFiles(objectDir: string): Promise<Set<string>> {
  const gt = join(objectDir, 'ground_truth');
  const files = new Set<string>();
  if (!(await isDir(gt))) return files;
  const entries = await readdir(gt, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    if (!e.isFile() && !e.isSymbolicLink()) continue;
    if (!isImageName(e.name)) continue;
    // parentPath is Node >= 20.12; older 20.x call it path
    const parent = e.parentPath ?? (e as unknown as { path: string }).path;
    files.add(relative(gt, join(parent, e.name)).split(sep).join('/'));
  }
  return files;
}

/** The mask of an anomalous image, trying the three conventions above; null when none exists. */
function findMask(gtFiles: Set<string>, split: Split, defect: string, imageName: string): string | null {
  const s = stem(imageName);
  const candidates = [
    `${split}/${defect}/${s}.png`,
    `${split}/${defect}/${s}_mask.png`,
    `${defect}/${s}_mask.png`,
    `${defect}/${s}.png`,
  ];
  for (const c of candidates) if (gtFiles.has(c)) return c;
  return null;
}

export async function readPrepared(root: string, options: ReadOptions = {}): Promise<Dataset> {
  const objectDirs = await preparedObjectDirs(root);
  if (objectDirs.size === 0) {
    throw new SpotdiffError('ERR_BAD_INPUT', `${root} is not in the prepared layout: no <object>/train/<class>/ or <object>/test/<class>/ folders`);
  }
  const objects = selectObjects([...objectDirs.keys()], options.objects, root);
  const requireMasks = options.requireMasks ?? true;
  const samples: Sample[] = [];
  const missingMasks: string[] = [];
  for (const object of objects) {
    const dir = objectDirs.get(object) as string;
    const gtFiles = await groundTruthFiles(dir);
    let normals = 0;
    for (const split of SPLITS) {
      for (const cls of await subdirs(join(dir, split))) {
        const classDir = join(dir, split, cls);
        const names = await classImages(classDir, `${object} ${split}/${cls}`);
        const normal = cls === 'good';
        for (const name of names) {
          const image = join(classDir, name);
          let mask: string | null = null;
          if (!normal) {
            const rel = findMask(gtFiles, split, cls, name);
            if (rel !== null) mask = join(dir, 'ground_truth', rel);
            else if (requireMasks) missingMasks.push(image);
          } else normals++;
          samples.push({ image, label: normal ? 'normal' : 'anomaly', mask, object, defect: normal || cls === 'bad' ? null : cls, split });
        }
      }
    }
    if (normals === 0) throw new SpotdiffError('ERR_BAD_INPUT', `empty class: object ${object} (${dir}) has no normal images (no train/good or test/good)`);
  }
  reportMissingMasks(missingMasks, `${root} (looked in ground_truth/<defect>/<name>_mask.png, ground_truth/<defect>/<name>.png and ground_truth/<split>/<defect>/<name>.png)`);
  return { layout: 'prepared', root: resolve(root), objects, samples };
}
