import { open } from 'node:fs/promises';
import { SpotdiffError } from '../util/errors.js';

/**
 * A checkpoint's header metadata (./checkpoint.ts) read without the tensor engine and without
 * reading the tensors: a command checks a resume against the trainer's record before loading
 * libtorch or any data. Null when there is no file.
 */
export async function readCheckpointMetadata(path: string, bad: (what: string, cause?: unknown) => Error): Promise<Record<string, string> | null> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new SpotdiffError('ERR_IO', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const size = (await fh.stat()).size;
    const head = new Uint8Array(8);
    if (size < 8 || (await fh.read(head, 0, 8, 0)).bytesRead !== 8) throw bad(`it has ${size} bytes (truncated)`);
    const n = Number(new DataView(head.buffer).getBigUint64(0, true));
    if (!(n > 0 && n <= 100_000_000 && 8 + n <= size)) throw bad('its header length does not fit the file (truncated or not safetensors)');
    const header = new Uint8Array(n);
    await fh.read(header, 0, n, 8);
    let json: { __metadata__?: Record<string, string> };
    try {
      json = JSON.parse(new TextDecoder().decode(header)) as typeof json;
    } catch (e) {
      throw bad('its header is not JSON', e);
    }
    return json.__metadata__ ?? {};
  } finally {
    await fh.close();
  }
}
