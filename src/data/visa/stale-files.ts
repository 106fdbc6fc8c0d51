import { readdir, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { isAtomicTempName } from '../../util/atomic-write.js';
import { subdirs } from '../datasets/files.js';
import { objectFolders } from './layout.js';
import type { SplitType } from './split-csv.js';

/**
 * Makes a prepared folder equal to its split before the split is written into it: a file that
 * an earlier run put there but the split no longer lists (an image that moved from train/good
 * to test/good, a mask whose image left the split) would otherwise stay, and test images would
 * sit in the training set. Only plain files directly in the folders prepare makes for the
 * split's objects (layout.ts objectFolders) are removed; sub-folders, other folders, other
 * objects and hidden temporaries (removed separately) are left alone.
 */

export interface StaleSweep {
  /** Files removed because the split no longer lists them. */
  removed: number;
  /** Object folders of the output that the split does not list; left as they are. */
  otherObjects: string[];
}

/**
 * `expected` holds the split's output paths relative to `outputFolder`, '/'-separated, as
 * layout.ts preparedPaths gives them.
 */
export async function removeStaleFiles(outputFolder: string, objects: ReadonlySet<string>, splitType: SplitType, expected: ReadonlySet<string>): Promise<StaleSweep> {
  let removed = 0;
  for (const object of [...objects].sort()) {
    for (const folder of objectFolders(object, splitType)) {
      for (const name of await plainFiles(join(outputFolder, folder))) {
        if (isAtomicTempName(name) || expected.has(posix.join(folder, name))) continue;
        await rm(join(outputFolder, folder, name), { force: true });
        removed++;
      }
    }
  }
  const otherObjects = (await subdirs(outputFolder)).filter((name) => !objects.has(name));
  return { removed, otherObjects };
}

/** Names of the files (and links) directly in `dir`; [] when it does not exist. */
async function plainFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => e.name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}
