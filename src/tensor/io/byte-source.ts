import { open, type FileHandle } from 'node:fs/promises';
import { SpotdiffError } from '../../util/errors.js';

/**
 * Random access to a checkpoint's bytes, from a file or from memory. Readers ask only for
 * the ranges they need, so a file is never copied whole twice and archives larger than one
 * Buffer (4 GiB) can still be read entry by entry.
 */
export interface ByteSource {
  readonly size: number;
  /** Exactly `length` bytes at `offset` (a view for memory sources, fresh memory for files). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function memorySource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.byteLength,
    read: async (offset, length) => {
      checkRange(offset, length, bytes.byteLength);
      return bytes.subarray(offset, offset + length);
    },
  };
}

/**
 * Opens a file for the duration of `use`. A missing file is ERR_NOT_FOUND; a folder or an
 * unreadable file is ERR_BAD_CHECKPOINT.
 */
export async function withFileSource<R>(path: string, use: (src: ByteSource) => Promise<R>): Promise<R> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SpotdiffError('ERR_NOT_FOUND', `checkpoint not found: ${path}`, { cause: e });
    throw new SpotdiffError('ERR_BAD_CHECKPOINT', `cannot open checkpoint ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `not a file: ${path}`);
    const size = st.size;
    const src: ByteSource = {
      size,
      read: async (offset, length) => {
        checkRange(offset, length, size);
        const out = new Uint8Array(length);
        let done = 0;
        // One read call moves at most 2 GiB; loop for larger ranges.
        while (done < length) {
          const chunk = Math.min(length - done, 1 << 30);
          const { bytesRead } = await fh.read(out, done, chunk, offset + done);
          if (bytesRead === 0) throw truncated(offset + done, size);
          done += bytesRead;
        }
        return out;
      },
    };
    return await use(src);
  } finally {
    await fh.close();
  }
}

function checkRange(offset: number, length: number, size: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new SpotdiffError('ERR_BAD_CHECKPOINT', `bad byte range ${offset}+${length}`);
  }
  if (offset + length > size) throw truncated(offset + length, size);
}

function truncated(needed: number, size: number): SpotdiffError {
  return new SpotdiffError('ERR_BAD_CHECKPOINT', `the file is truncated or corrupt: it needs ${needed} bytes but has ${size}`);
}
