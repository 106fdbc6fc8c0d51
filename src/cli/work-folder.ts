import { rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The work folder of a two-class fit (checkpoints and the step log) when none is named:
 * MODEL.work beside MODEL, never inside it (the model folder is replaced as a whole on save).
 */
export function defaultWorkFolder(out: string): string {
  return `${out.replace(/[\\/]+$/, '')}.work`;
}

/** Removes what a finished run left in a work folder it made: the trainer's two files, then the folder if nothing else is there. */
export async function removeWorkFolder(dir: string): Promise<void> {
  const { TWOCLASS_CHECKPOINT_FILE, TWOCLASS_LOG_FILE } = await import('../detect/twoclass/index.js');
  for (const name of [TWOCLASS_CHECKPOINT_FILE, TWOCLASS_LOG_FILE]) await rm(join(dir, name), { force: true });
  try {
    await rmdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
