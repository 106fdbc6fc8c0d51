import { readdir } from 'node:fs/promises';
import { extname } from 'node:path';
import { SpotdiffError } from '../../util/errors.js';

export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp']);

export function isImageName(name: string): boolean {
  return !name.startsWith('.') && IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
}

/** The name without its last extension ("000_mask.png" -> "000_mask"). */
export function stem(name: string): string {
  const ext = extname(name);
  return ext ? name.slice(0, -ext.length) : name;
}


/** Sorted names of the sub-folders of `dir` (hidden ones skipped); [] when it does not exist. */
export async function subdirs(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
}

/** Sorted image file names directly in `dir`; [] when it does not exist. */
export async function imageNames(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((e) => (e.isFile() || e.isSymbolicLink()) && isImageName(e.name)).map((e) => e.name).sort();
}

/** Image names of a class folder that must hold at least one image. */
export async function classImages(dir: string, what: string): Promise<string[]> {
  const names = await imageNames(dir);
  if (names.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', `empty class: ${what} (${dir}) has no images`);
  return names;
}

/** Lists up to `max` items, then says how many more there are. */
export function listSome(items: readonly string[], max = 10): string {
  const shown = items.slice(0, max).join('\n  ');
  return items.length > max ? `  ${shown}\n  ... and ${items.length - max} more` : `  ${shown}`;
}

/** Throws one error naming every anomalous image without a mask. */
export function reportMissingMasks(missing: readonly string[], where: string): void {
  if (missing.length === 0) return;
  throw new SpotdiffError(
    'ERR_NOT_FOUND',
    `missing mask for ${missing.length} anomalous image(s) in ${where}:\n${listSome(missing)}\n(every anomalous image needs a mask; pass requireMasks: false to read image labels only)`,
  );
}

export function selectObjects(available: readonly string[], wanted: readonly string[] | undefined, root: string): string[] {
  if (wanted === undefined) return available.slice();
  const missing = wanted.filter((o) => !available.includes(o));
  if (missing.length > 0) {
    throw new SpotdiffError('ERR_NOT_FOUND', `object(s) ${missing.join(', ')} not found in ${root}; available: ${available.join(', ') || '(none)'}`);
  }
  return wanted.slice();
}

