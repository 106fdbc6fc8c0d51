import { createReadStream } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import * as tar from 'tar';
import { SpotdiffError } from '../../util/errors.js';
import { isFile } from '../../util/fs.js';

export interface ExtractOptions {
  /** Called per entry with its size in bytes (progress). */
  onEntry?: (bytes: number) => void;
  /** Opens the archive for reading (default: a file stream); a seam for failing reads. */
  openArchive?: (path: string) => Readable;
}

/**
 * Extracts a tar archive into a fresh folder with the `tar` package, in its safe defaults:
 * absolute paths lose their leading '/', entries with '..' and writes through symbolic links
 * are refused, and with `strict` any such warning fails the extraction instead of skipping a
 * file silently. Returns the number of entries.
 * Only a damaged archive (not tar, truncated, bad checksums, refused entries) is reported as
 * one to delete and download anew; a failing disk or file system (EIO, ENOSPC, EDQUOT, EMFILE,
 * EACCES, ...) is reported as the I/O error it is, with its code, as deleting the archive
 * would not help.
 */
export async function extractTar(archive: string, into: string, options: ExtractOptions = {}): Promise<number> {
  let entries: number;
  try {
    await rm(into, { recursive: true, force: true });
    await mkdir(into, { recursive: true });
    entries = await unpack((options.openArchive ?? openFile)(archive), into, options.onEntry);
  } catch (e) {
    throw extractError(e, archive, into);
  }
  if (entries === 0) throw new SpotdiffError('ERR_BAD_INPUT', `${archive} holds no files; delete it and run again to download it anew`);
  return entries;
}

function openFile(path: string): Readable {
  return createReadStream(path, { highWaterMark: 1 << 20 });
}

/** Pipes the archive's bytes through tar's extractor; resolves with the entry count when all is written. */
function unpack(source: Readable, into: string, onEntry?: (bytes: number) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    let entries = 0;
    const sink = tar.x({
      cwd: into,
      strict: true,
      onReadEntry: (entry) => {
        entries++;
        onEntry?.(entry.size ?? 0);
      },
    });
    const fail = (e: unknown): void => {
      source.unpipe(sink);
      source.destroy(); // closes the archive's file
      reject(e);
    };
    // tar ends with two zero blocks; without them the archive was cut between two entries,
    // which tar's parser does not report by itself.
    let sawEnd = false;
    sink.on('eof', () => (sawEnd = true));
    source.on('error', fail);
    sink.on('error', fail);
    sink.on('close', () => (sawEnd ? resolve(entries) : fail(Object.assign(new Error("it ends without tar's end-of-archive marker: truncated"), { code: 'TAR_BAD_ARCHIVE', tarCode: 'TAR_BAD_ARCHIVE' }))));
    source.pipe(sink);
  });
}

/** What an I/O error code means, for the message. */
const IO_REASONS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exceeded',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  EIO: 'an I/O error (the disk or the file system failed)',
  EMFILE: 'too many open files in this process',
  ENFILE: 'too many open files on this system',
  ENOTDIR: 'a parent of the path is a file, not a folder',
  EISDIR: 'a folder is where a file should be',
  ENOENT: 'no such file or folder',
};

/**
 * The error to report: a system error keeps its code (tar passes the code of a failed write
 * on, with its own in `tarCode`); only tar's own codes mean the archive itself is damaged.
 */
function extractError(e: unknown, archive: string, into: string): SpotdiffError {
  if (e instanceof SpotdiffError) return e;
  const err = e as NodeJS.ErrnoException & { tarCode?: string };
  const code = err.code ?? '';
  const message = err.message ?? String(e);
  if (/^E[A-Z0-9]+$/.test(code)) {
    const detail = message.includes(code) ? message : `${code}: ${message}`;
    const reason = IO_REASONS[code];
    return new SpotdiffError('ERR_IO', `cannot extract ${archive} into ${into}: ${reason ? `${reason} (${detail})` : detail}`, { cause: e });
  }
  if (code.startsWith('TAR_') || err.tarCode !== undefined) {
    return new SpotdiffError('ERR_BAD_INPUT', `${archive} is not a readable tar archive (${message}); delete it and run again to download it anew`, { cause: e });
  }
  return new SpotdiffError('ERR_IO', `cannot extract ${archive} into ${into}: ${message}`, { cause: e });
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
