import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readPth, readSafetensors, type StateDict } from '../tensor/io/index.js';
import { SpotdiffError, isSpotdiffError } from '../util/errors.js';

/**
 * Backbone weights on disk: torchvision `.pth`/`.pt` files (torch.save(model.state_dict()),
 * zip format) and safetensors, told apart by their first bytes rather than their names.
 * A saved spotdiff model folder (model.json + weights.safetensors) may be given as the path.
 * Engine-free: a command can read and check weights before it loads libtorch.
 */

export type WeightsFormat = 'pth' | 'safetensors';

/** The file to read for a --weights argument: the file itself, or a model folder's weights.safetensors. */
export async function resolveWeightsPath(path: string): Promise<string> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new SpotdiffError('ERR_NOT_FOUND', `weights file not found: ${path}`, { cause: e });
    throw new SpotdiffError('ERR_IO', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (st.isFile()) return path;
  if (st.isDirectory()) {
    const inner = join(path, 'weights.safetensors');
    try {
      if ((await stat(inner)).isFile()) return inner;
    } catch {
      /* reported below */
    }
    throw new SpotdiffError('ERR_NOT_FOUND', `${path} is a folder without weights.safetensors; give a .pth, .pt or .safetensors file`);
  }
  throw new SpotdiffError('ERR_BAD_CHECKPOINT', `not a regular file: ${path}`);
}

/** Which format a weights file is in, from its first bytes. */
export async function sniffWeightsFormat(path: string): Promise<WeightsFormat> {
  const head = new Uint8Array(9);
  const fh = await open(path, 'r');
  let n: number;
  try {
    n = (await fh.read(head, 0, 9, 0)).bytesRead;
  } finally {
    await fh.close();
  }
  // A zip archive (torch.save since 1.6) starts with a local file header "PK\x03\x04".
  if (n >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'pth';
  // safetensors: an 8-byte little-endian header length, then the JSON header's "{".
  if (n === 9 && head[8] === 0x7b && head[5] === 0 && head[6] === 0 && head[7] === 0) return 'safetensors';
  // torch.save before 1.6 (or with _use_new_zipfile_serialization=False) starts with a pickle.
  if (n >= 2 && head[0] === 0x80 && head[1] !== undefined && head[1] <= 5) {
    throw new SpotdiffError(
      'ERR_BAD_CHECKPOINT',
      `${path} is a legacy (pre-1.6, non-zip) PyTorch checkpoint; re-save it with torch.save(torch.load(path), new_path) in PyTorch ≥ 1.6, or convert it to safetensors`,
    );
  }
  throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${path} is neither a PyTorch zip checkpoint (.pth/.pt) nor a safetensors file`);
}

/** Reads every tensor of a weights file into host memory, by name, in the file's order. */
export async function readWeights(path: string): Promise<StateDict> {
  const file = await resolveWeightsPath(path);
  const format = await sniffWeightsFormat(file);
  try {
    return format === 'pth' ? await readPth(file) : (await readSafetensors(file)).tensors;
  } catch (e) {
    if (isSpotdiffError(e) && e.message.includes(file)) throw e;
    if (isSpotdiffError(e)) throw new SpotdiffError(e.code, `${file}: ${e.message}`, { cause: e });
    throw e;
  }
}
