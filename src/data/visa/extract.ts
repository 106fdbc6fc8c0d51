import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as tar from 'tar';
import { SpotdiffError } from '../../util/errors.js';
import { isFile } from '../../util/fs.js';

/**
 * Extracts a tar archive into a fresh folder with the `tar` package, in its safe defaults:
 * absolute paths lose their leading '/', entries with '..' and writes through symbolic links
 * are refused, and with `strict` any such warning fails the extraction instead of skipping a
 * file silently. Returns the number of entries.
 */
export async function extractTar(archive: string, into: string, onEntry?: (bytes: number) => void): Promise<number> {
  await rm(into, { recursive: true, force: true });
  await mkdir(into, { recursive: true });
  let entries = 0;
  try {
    await tar.x({
      file: archive,
      cwd: into,
      strict: true,
      onReadEntry: (entry) => {
        entries++;
        onEntry?.(entry.size ?? 0);
      },
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (code === 'ENOSPC') throw new SpotdiffError('ERR_IO', `cannot extract ${archive} into ${into}: the disk is full`, { cause: e });
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new SpotdiffError('ERR_IO', `cannot extract into ${into}: permission denied`, { cause: e });
    throw new SpotdiffError('ERR_BAD_INPUT', `${archive} is not a readable tar archive (${(e as Error).message}); delete it and run again to download it anew`, { cause: e });
  }
  if (entries === 0) throw new SpotdiffError('ERR_BAD_INPUT', `${archive} holds no files; delete it and run again to download it anew`);
  return entries;
}

/**
 * The dataset root inside an extracted tree: the folder that holds split_csv/ or object folders
 * (with image_anno.csv). Archives put the dataset at the top or inside one wrapping folder
 * (VisA/...), so a lone wrapping folder is descended.
 */
export async function findDatasetRoot(dir: string): Promise<string> {
  let current = dir;
  for (let depth = 0; depth < 4; depth++) {
    const entries = (await readdir(current, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
    if (entries.some((e) => e.isDirectory() && e.name === 'split_csv')) return current;
    for (const e of entries) if (e.isDirectory() && (await isFile(join(current, e.name, 'image_anno.csv')))) return current;
    const only = entries[0];
    if (entries.length !== 1 || only === undefined || !only.isDirectory()) return current;
    current = join(current, only.name);
  }
  return current;
}
