import { readCheckpointMetadata } from '../nn/checkpoint-record.js';
import { SpotdiffError } from '../util/errors.js';
import type { PretrainConfig } from './run-config.js';

/**
 * The record a pre-training checkpoint carries in its safetensors header (see checkpoint.ts),
 * readable without the tensor engine and without reading the tensors: a command checks a
 * resume against it before loading libtorch or any data.
 */

export const CHECKPOINT_KIND = 'spotdiff-pretrain-checkpoint';
export const CHECKPOINT_FORMAT_VERSION = 1;
export const META_KEY = 'spotdiff.pretrain';

export interface CheckpointMeta {
  kind: typeof CHECKPOINT_KIND;
  formatVersion: number;
  spotdiffVersion: string;
  /** Epochs completed; training resumes at this epoch (0-based). */
  epoch: number;
  /** Optimiser steps completed. */
  step: number;
  config: PretrainConfig;
  /** The optimiser's plain numbers (hyperparameters per group), see OptimizerState. */
  optimizer: Record<string, number>;
  /** Mean total loss of the last epoch. */
  lastEpochLoss: number;
  /**
   * fp16 runs: the loss scaler's scale and clean-step count, so a resumed run scales as the
   * uninterrupted one would (not from 2^16 again); null or absent otherwise.
   */
  gradScaler?: { scale: number; growthTracker: number } | null;
  created: string;
}

export function badCheckpoint(path: string, what: string, cause?: unknown): SpotdiffError {
  return new SpotdiffError('ERR_BAD_CHECKPOINT', `${path} is not a usable spotdiff pre-training checkpoint: ${what}`, cause === undefined ? undefined : { cause });
}

export function parseMeta(path: string, metadata: Readonly<Record<string, string>>): CheckpointMeta {
  const text = metadata[META_KEY];
  if (text === undefined) throw badCheckpoint(path, `its header has no "${META_KEY}" record (a weights file, not a checkpoint?)`);
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(text) as CheckpointMeta;
  } catch (e) {
    throw badCheckpoint(path, `its "${META_KEY}" record is not JSON`, e);
  }
  if (meta.kind !== CHECKPOINT_KIND) throw badCheckpoint(path, `its record is of kind ${JSON.stringify(meta.kind)}`);
  if (meta.formatVersion !== CHECKPOINT_FORMAT_VERSION) {
    throw new SpotdiffError(
      'ERR_VERSION',
      `${path}: checkpoint format version ${JSON.stringify(meta.formatVersion)} (written by spotdiff ${meta.spotdiffVersion}); this spotdiff reads version ${CHECKPOINT_FORMAT_VERSION}`,
    );
  }
  if (!Number.isInteger(meta.epoch) || !Number.isInteger(meta.step) || typeof meta.config !== 'object' || meta.config === null) {
    throw badCheckpoint(path, 'its record lacks epoch, step or config');
  }
  const g = meta.gradScaler;
  if (g != null && !(typeof g.scale === 'number' && g.scale > 0 && Number.isFinite(g.scale) && Number.isInteger(g.growthTracker) && g.growthTracker >= 0)) {
    throw badCheckpoint(path, `its loss-scaler record ${JSON.stringify(g)} needs a finite scale > 0 and a whole growthTracker >= 0`);
  }
  return meta;
}

/**
 * The checkpoint's record from its header alone (no tensor bytes are read), or null when there
 * is no checkpoint file. Lets a command check a resume before loading libtorch or the data.
 */
export async function readCheckpointMeta(path: string): Promise<CheckpointMeta | null> {
  const metadata = await readCheckpointMetadata(path, (what, cause) => badCheckpoint(path, what, cause));
  return metadata === null ? null : parseMeta(path, metadata);
}
