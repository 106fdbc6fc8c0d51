import { open } from 'node:fs/promises';
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
  return meta;
}

/**
 * The checkpoint's record from its header alone (no tensor bytes are read), or null when there
 * is no checkpoint file. Lets a command check a resume before loading libtorch or the data.
 */
export async function readCheckpointMeta(path: string): Promise<CheckpointMeta | null> {
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
    if (size < 8 || (await fh.read(head, 0, 8, 0)).bytesRead !== 8) throw badCheckpoint(path, `it has ${size} bytes (truncated)`);
    const n = Number(new DataView(head.buffer).getBigUint64(0, true));
    if (!(n > 0 && n <= 100_000_000 && 8 + n <= size)) throw badCheckpoint(path, 'its header length does not fit the file (truncated or not safetensors)');
    const header = new Uint8Array(n);
    await fh.read(header, 0, n, 8);
    let json: { __metadata__?: Record<string, string> };
    try {
      json = JSON.parse(new TextDecoder().decode(header)) as typeof json;
    } catch (e) {
      throw badCheckpoint(path, 'its header is not JSON', e);
    }
    return parseMeta(path, json.__metadata__ ?? {});
  } finally {
    await fh.close();
  }
}

