import { copyFile, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Writes a file so that readers see either the old content or the new, never half of it:
 * write to a temporary file beside the target, fsync, then rename over it. An interrupted
 * run leaves at most a `.tmp-*` file, never a truncated target.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await writeFileAtomicWith(path, (write) => write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data));
}

/**
 * The same for content produced piece by piece: `fill` calls `write` with each piece in order
 * (awaiting each), so a file larger than memory, or than one Buffer, can be written. If `fill`
 * throws, the temporary file is removed and the target is untouched.
 */
export async function writeFileAtomicWith(path: string, fill: (write: (bytes: Uint8Array) => Promise<void>) => Promise<void>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fh = await open(tmp, 'w');
  try {
    await fill(async (bytes) => {
      // A write may take fewer bytes than offered; go on from where it stopped.
      for (let at = 0; at < bytes.byteLength; ) at += (await fh.write(bytes, at, bytes.byteLength - at)).bytesWritten;
    });
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Whether a file name is one of the temporary names above (left behind by an interrupted run). */
export function isAtomicTempName(name: string): boolean {
  return /^\..+\.tmp-\d+-[0-9a-f]{8}$/.test(name);
}

/**
 * Copies `src` to `dest` atomically (copy to a temporary sibling, fsync, rename). With
 * `preserveTimes` (Dates, or seconds since the epoch for sub-millisecond precision), `dest` gets
 * `src`'s access and modification times, so a later run can tell an
 * up-to-date copy by size and mtime without reading it.
 */
export async function copyFileAtomic(src: string, dest: string, options: { preserveTimes?: { atime: Date | number; mtime: Date | number } } = {}): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const tmp = join(dirname(dest), `.${basename(dest)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await copyFile(src, tmp);
    const fh = await open(tmp, 'r+');
    try {
      if (options.preserveTimes) await fh.utimes(options.preserveTimes.atime, options.preserveTimes.mtime);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, dest);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Makes a folder appear all at once: `build` fills a temporary sibling folder, which is then
 * renamed to `path` (replacing an older one). Used for saved models and prepared datasets.
 */
export async function writeDirAtomic(path: string, build: (tmpDir: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp);
  try {
    await build(tmp);
    const old = `${tmp}.old`;
    let hadOld = false;
    try {
      await rename(path, old);
      hadOld = true;
    } catch {
      /* no previous folder */
    }
    await rename(tmp, path);
    if (hadOld) await rm(old, { recursive: true, force: true });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
