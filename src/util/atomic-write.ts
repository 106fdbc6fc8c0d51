import { copyFile, lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
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
 * Makes a folder appear all at once: `build` fills a temporary sibling folder
 * `.<name>.tmp-<pid>-<hex>`, which is then renamed to `path` (replacing an older one). Used for
 * saved models, reports and generated datasets.
 *
 * Invariant: `path` is always either the complete old folder or the complete new one, except
 * between the two renames (old → `<tmp>.old`, `<tmp>` → path), when it is missing and the
 * complete old folder is `<tmp>.old`. A `<tmp>.old` is only ever a complete old folder (it is
 * renamed back to `<tmp>` before it is deleted); a bare `<tmp>` is garbage once its process
 * has died. So each call first sweeps the temporaries of dead processes beside `path`: a dead
 * process's `.old` goes back to `path` when `path` is missing (a crash between the renames),
 * everything else of theirs is deleted. Temporaries of live processes are never touched.
 * If the second rename fails, the old folder is put back. The parent folder is fsynced after
 * the renames, so the swap survives a power cut.
 */
export async function writeDirAtomic(path: string, build: (tmpDir: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await sweepDeadTemps(path);
  const tmp = tempSibling(path);
  await mkdir(tmp);
  try {
    await build(tmp);
    await swapIn(tmp, path);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

function tempSibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Renames `tmp` to `path`, moving an older `path` aside first and deleting it last. */
async function swapIn(tmp: string, path: string): Promise<void> {
  const old = `${tmp}.old`;
  const hadOld = await renameUnlessMissing(path, old);
  try {
    await rename(tmp, path);
  } catch (e) {
    if (hadOld) await rename(old, path);
    throw e;
  }
  await syncDir(dirname(path));
  if (!hadOld) return;
  // Back to the temporary name first: a `.old` that is half deleted must never exist.
  await rename(old, tmp);
  await rm(tmp, { recursive: true, force: true });
}

/** rename(from, to); false when `from` does not exist. */
async function renameUnlessMissing(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** fsyncs a folder, so renames in it are durable; a no-op where folders cannot be fsynced. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw e;
  } finally {
    await fh.close();
  }
}

/** Whether process `pid` is gone (signal 0 only checks; EPERM means it exists under another user). */
function processIsDead(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** The temporaries of writeDirAtomic(path) left by dead processes, `.old` ones first. */
async function deadTemps(path: string): Promise<{ name: string; old: boolean }[]> {
  const prefix = `.${basename(path)}.tmp-`;
  const found: { name: string; old: boolean }[] = [];
  for (const name of await readdir(dirname(path))) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)-[0-9a-f]{8}(\.old)?$/.exec(name.slice(prefix.length));
    if (m !== null && processIsDead(Number(m[1]))) found.push({ name, old: m[2] !== undefined });
  }
  return found.sort((a, b) => Number(b.old) - Number(a.old));
}

/**
 * Clears what interrupted writeDirAtomic(path) calls of dead processes left beside `path`
 * (see writeDirAtomic's invariant): restores a complete old folder when `path` is missing,
 * deletes the rest. Exported for commands that want a clean state before checking `path`.
 */
export async function sweepDeadTemps(path: string): Promise<void> {
  const parent = dirname(path);
  for (const { name, old } of await deadTemps(path)) {
    if (old && (await restoreIfMissing(join(parent, name), path))) continue;
    await rm(join(parent, name), { recursive: true, force: true });
  }
}

/** Renames `from` to `path` when `path` is missing; whether it did. */
async function restoreIfMissing(from: string, path: string): Promise<boolean> {
  try {
    await lstat(path);
    return false;
  } catch {
    await rename(from, path);
    return true;
  }
}
