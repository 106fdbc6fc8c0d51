import type { BaseHyperparameters, Module, Optimizer } from '../nn/index.js';
import { loadTrainingCheckpoint, saveTrainingCheckpoint, type CheckpointWriter } from '../nn/checkpoint.js';
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

export type { CheckpointWriter } from '../nn/checkpoint.js';

export async function saveCheckpoint(
  path: string,
  module: Module,
  optimizer: Optimizer<BaseHyperparameters>,
  meta: Omit<CheckpointMeta, 'kind' | 'formatVersion' | 'optimizer' | 'created'>,
  write?: CheckpointWriter,
): Promise<void> {
  const record = (numbers: Record<string, number>): string =>
    JSON.stringify({ kind: CHECKPOINT_KIND, formatVersion: CHECKPOINT_FORMAT_VERSION, ...meta, optimizer: numbers, created: new Date().toISOString() } satisfies CheckpointMeta);
  await saveTrainingCheckpoint(path, module, optimizer, META_KEY, record, write);
}

/**
 * Loads a checkpoint into a freshly built method module and its optimiser (same config, so
 * the same names and shapes), and returns its record.
 */
export async function loadCheckpoint(path: string, module: Module, optimizer: Optimizer<BaseHyperparameters>): Promise<CheckpointMeta> {
  return loadTrainingCheckpoint(
    path,
    module,
    optimizer,
    (metadata) => {
      const meta = parseMeta(path, metadata);
      return { record: meta, optimizerNumbers: meta.optimizer };
    },
    (what, cause) => badCheckpoint(path, what, cause),
  );
}
