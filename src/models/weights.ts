import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as T from '../tensor/index.js';
import { fromHost, toHost } from '../tensor/host.js';
import { readPth, readSafetensors, writeSafetensors, type HostTensor, type StateDict } from '../tensor/io/index.js';
import type { Module } from '../nn/index.js';
import { SpotdiffError, isSpotdiffError } from '../util/errors.js';
import { ResNet, type ResNetArch } from './resnet.js';
import { classCountOf, guessResNetArch } from './arch-detect.js';

/**
 * Backbone weights on disk: torchvision `.pth`/`.pt` files (torch.save(model.state_dict()),
 * zip format) and safetensors, told apart by their first bytes rather than their names.
 * A saved spotdiff model folder (model.json + weights.safetensors) may be given as the path.
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

/**
 * Copies weights into a model, strictly: every name of the model must be there with its
 * shape and nothing else may be. One error lists all problems, and says which architecture
 * the weights look like when it is not the model's. As torch's BatchNorm does for old
 * checkpoints (torchvision's published ImageNet weights among them), a missing
 * num_batches_tracked is taken as 0.
 */
export function loadWeightsInto(model: Module, weights: ReadonlyMap<string, HostTensor>, source = 'the weights'): void {
  const own = model.stateDict();
  const filled = new Map(weights);
  for (const [name, t] of own) {
    if (name.endsWith('.num_batches_tracked') && !filled.has(name)) filled.set(name, { dtype: 'int64', shape: [...t.shape], data: new Uint8Array(8) });
  }
  T.tidy(() => {
    const tensors = new Map<string, T.Tensor>();
    for (const [name, h] of filled) tensors.set(name, fromHost(h));
    try {
      model.loadStateDict(tensors);
    } catch (e) {
      if (!isSpotdiffError(e, 'ERR_BAD_CHECKPOINT')) throw e;
      throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${source}: ${explainMismatch(model, weights)}${e.message}`, { cause: e });
    }
  });
}

function explainMismatch(model: Module, weights: ReadonlyMap<string, HostTensor>): string {
  const names = [...weights.keys()];
  if (names.length > 0 && names.every((n) => n.startsWith('module.'))) {
    return 'every name starts with "module." (saved from DataParallel): save model.module.state_dict() instead; ';
  }
  if (!(model instanceof ResNet)) return '';
  const guess = guessResNetArch(weights);
  if (guess === null) return `these do not look like torchvision ResNet weights (the model is ${model.arch}); `;
  if (guess !== model.arch) return `this looks like ${guess} weights, the model is ${model.arch}; `;
  const classes = classCountOf(weights);
  if (classes !== null && classes !== model.fc.outFeatures) return `the weights have ${classes} output classes, the model ${model.fc.outFeatures}; `;
  return '';
}

/** Reads a weights file and loads it into the model (see loadWeightsInto). */
export async function loadWeights(model: Module, path: string): Promise<void> {
  const weights = await readWeights(path);
  loadWeightsInto(model, weights, path);
}

/**
 * A ResNet of the given architecture: with a weights file, its weights (and its number of
 * classes, read from fc.weight); without one, torchvision's random initialisation.
 */
export async function loadResNet(arch: ResNetArch, weightsPath?: string): Promise<ResNet> {
  if (weightsPath === undefined) return new ResNet(arch);
  const weights = await readWeights(weightsPath);
  const model = new ResNet(arch, { numClasses: classCountOf(weights) ?? 1000 });
  try {
    loadWeightsInto(model, weights, weightsPath);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** A model's state dict as host tensors (copies), in torch's order. */
export function stateDictToHost(model: Module): StateDict {
  const out: StateDict = new Map();
  for (const [name, t] of model.stateDict()) out.set(name, toHost(t));
  return out;
}

/** Saves a model's state dict to a safetensors file, atomically; a ResNet records its architecture. */
export async function saveWeights(model: Module, path: string, metadata: Record<string, string> = {}): Promise<void> {
  const meta: Record<string, string> = { format: 'pt', ...(model instanceof ResNet ? { 'spotdiff.arch': model.arch } : {}), ...metadata };
  await writeSafetensors(path, stateDictToHost(model), meta);
}
