import * as T from '../tensor/index.js';
import { fromHost, tensorSource } from '../tensor/host.js';
import { readSafetensors, writeSafetensors, type HostTensor, type TensorSource } from '../tensor/io/index.js';
import { isSpotdiffError, type SpotdiffError } from '../util/errors.js';
import type { Module } from './module.js';
import type { BaseHyperparameters, Optimizer } from './optim/optimizer.js';

/**
 * A training checkpoint as ONE safetensors file, replaced atomically as a whole (streamed into
 * a file beside it, fsynced, renamed): the module's parameters and buffers under
 * "module.<name>", the optimiser's state tensors under "optimizer.<name>", and the trainer's
 * JSON record (which carries the optimiser's plain numbers) in the header's metadata under a
 * key of the trainer's choosing. Three files could be caught half-replaced by a crash; one
 * cannot. The record's header-only reader is ./checkpoint-record.ts (no tensor engine).
 */

const MODULE_PREFIX = 'module.';
const OPTIMIZER_PREFIX = 'optimizer.';

/**
 * How the checkpoint reaches the disk (default: writeSafetensors, atomic and streamed tensor
 * piece by tensor piece, so a checkpoint never sits in memory whole); tests substitute a
 * writer that dies half-way.
 */
export type CheckpointWriter = (path: string, tensors: ReadonlyMap<string, TensorSource>, metadata: Record<string, string>) => Promise<void>;

/** The error a trainer gives for an unusable checkpoint file (it names the file and its kind). */
export type BadCheckpoint = (what: string, cause?: unknown) => SpotdiffError;

/**
 * Writes module + optimiser state; `record` gets the optimiser's numbers and returns the JSON
 * text stored under `key`.
 */
export async function saveTrainingCheckpoint(
  path: string,
  module: Module,
  optimizer: Optimizer<BaseHyperparameters>,
  key: string,
  record: (optimizerNumbers: Record<string, number>) => string,
  write: CheckpointWriter = writeSafetensors,
): Promise<void> {
  const state = optimizer.stateDict();
  try {
    const tensors = new Map<string, TensorSource>();
    for (const [name, t] of module.stateDict()) tensors.set(MODULE_PREFIX + name, tensorSource(t));
    for (const [name, t] of state.tensors) tensors.set(OPTIMIZER_PREFIX + name, tensorSource(t));
    await write(path, tensors, { format: 'pt', [key]: record(state.numbers) });
  } finally {
    T.dispose([...state.tensors.values()]);
  }
}

/**
 * Loads a checkpoint into a freshly built module and its optimiser (same config, so the same
 * names and shapes). `parse` reads the trainer's record from the header metadata (throwing its
 * own errors) and returns it with the optimiser's numbers; the record is returned.
 */
export async function loadTrainingCheckpoint<R>(
  path: string,
  module: Module,
  optimizer: Optimizer<BaseHyperparameters>,
  parse: (metadata: Readonly<Record<string, string>>) => { record: R; optimizerNumbers: Record<string, number> },
  bad: BadCheckpoint,
): Promise<R> {
  let content;
  try {
    content = await readSafetensors(path);
  } catch (e) {
    if (isSpotdiffError(e, 'ERR_BAD_CHECKPOINT')) throw bad(e.message, e);
    throw e;
  }
  const { record, optimizerNumbers } = parse(content.metadata);
  const moduleState = new Map<string, HostTensor>();
  const optimizerState = new Map<string, HostTensor>();
  for (const [name, h] of content.tensors) {
    if (name.startsWith(MODULE_PREFIX)) moduleState.set(name.slice(MODULE_PREFIX.length), h);
    else if (name.startsWith(OPTIMIZER_PREFIX)) optimizerState.set(name.slice(OPTIMIZER_PREFIX.length), h);
    else throw bad(`unexpected tensor "${name}"`);
  }
  try {
    T.tidy(() => {
      module.loadStateDict(new Map([...moduleState].map(([n, h]) => [n, fromHost(h)])));
      optimizer.loadStateDict({ tensors: new Map([...optimizerState].map(([n, h]) => [n, fromHost(h)])), numbers: optimizerNumbers });
    });
  } catch (e) {
    if (isSpotdiffError(e, 'ERR_BAD_CHECKPOINT')) throw bad(e.message, e);
    throw e;
  }
  return record;
}
