import * as T from '../tensor/index.js';
import { fromHost, tensorSource } from '../tensor/host.js';
import { readSafetensors, writeSafetensors, type HostTensor, type TensorSource } from '../tensor/io/index.js';
import type { BaseHyperparameters, Module, Optimizer } from '../nn/index.js';
import { isSpotdiffError } from '../util/errors.js';
import { CHECKPOINT_FORMAT_VERSION, CHECKPOINT_KIND, META_KEY, badCheckpoint, parseMeta, type CheckpointMeta } from './checkpoint-meta.js';

export { readCheckpointMeta, type CheckpointMeta } from './checkpoint-meta.js';

/**
 * A pre-training checkpoint is ONE safetensors file, so that it is replaced atomically as a
 * whole (streamed into a file beside it, fsynced, renamed): the method's module state under "module.<name>"
 * (backbone, heads, MoCo's key encoder and queue: every parameter and buffer), the optimiser's
 * state under "optimizer.<name>" (momentum buffers), and a JSON record in the header's
 * metadata under "spotdiff.pretrain" (epochs and steps done, the run's config, the
 * optimiser's numbers, the spotdiff version). Three files could be caught half-replaced by a
 * crash; one cannot. Random generators need no state: every step's randomness is derived from
 * (seed, step) and every epoch's order from (seed, epoch).
 */

const MODULE_PREFIX = 'module.';
const OPTIMIZER_PREFIX = 'optimizer.';

/**
 * How the checkpoint reaches the disk (default: writeSafetensors, atomic and streamed tensor
 * piece by tensor piece, so a checkpoint never sits in memory whole); tests substitute a
 * writer that dies half-way.
 */
export type CheckpointWriter = (path: string, tensors: ReadonlyMap<string, TensorSource>, metadata: Record<string, string>) => Promise<void>;

export async function saveCheckpoint(
  path: string,
  module: Module,
  optimizer: Optimizer<BaseHyperparameters>,
  meta: Omit<CheckpointMeta, 'kind' | 'formatVersion' | 'optimizer' | 'created'>,
  write: CheckpointWriter = writeSafetensors,
): Promise<void> {
  const state = optimizer.stateDict();
  try {
    const tensors = new Map<string, TensorSource>();
    for (const [name, t] of module.stateDict()) tensors.set(MODULE_PREFIX + name, tensorSource(t));
    for (const [name, t] of state.tensors) tensors.set(OPTIMIZER_PREFIX + name, tensorSource(t));
    const record: CheckpointMeta = {
      kind: CHECKPOINT_KIND,
      formatVersion: CHECKPOINT_FORMAT_VERSION,
      ...meta,
      optimizer: state.numbers,
      created: new Date().toISOString(),
    };
    await write(path, tensors, { format: 'pt', [META_KEY]: JSON.stringify(record) });
  } finally {
    T.dispose([...state.tensors.values()]);
  }
}

/**
 * Loads a checkpoint into a freshly built method module and its optimiser (same config, so
 * the same names and shapes), and returns its record.
 */
export async function loadCheckpoint(path: string, module: Module, optimizer: Optimizer<BaseHyperparameters>): Promise<CheckpointMeta> {
  let content;
  try {
    content = await readSafetensors(path);
  } catch (e) {
    if (isSpotdiffError(e, 'ERR_BAD_CHECKPOINT')) throw badCheckpoint(path, e.message, e);
    throw e;
  }
  const meta = parseMeta(path, content.metadata);
  const moduleState = new Map<string, HostTensor>();
  const optimizerState = new Map<string, HostTensor>();
  for (const [name, h] of content.tensors) {
    if (name.startsWith(MODULE_PREFIX)) moduleState.set(name.slice(MODULE_PREFIX.length), h);
    else if (name.startsWith(OPTIMIZER_PREFIX)) optimizerState.set(name.slice(OPTIMIZER_PREFIX.length), h);
    else throw badCheckpoint(path, `unexpected tensor "${name}"`);
  }
  try {
    T.tidy(() => {
      module.loadStateDict(new Map([...moduleState].map(([n, h]) => [n, fromHost(h)])));
      optimizer.loadStateDict({ tensors: new Map([...optimizerState].map(([n, h]) => [n, fromHost(h)])), numbers: meta.optimizer });
    });
  } catch (e) {
    if (isSpotdiffError(e, 'ERR_BAD_CHECKPOINT')) throw badCheckpoint(path, e.message, e);
    throw e;
  }
  return meta;
}
