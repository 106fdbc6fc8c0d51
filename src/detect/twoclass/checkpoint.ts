import type { BaseHyperparameters, Optimizer } from '../../nn/index.js';
import { loadTrainingCheckpoint, saveTrainingCheckpoint, type CheckpointWriter } from '../../nn/checkpoint.js';
import { readCheckpointMetadata } from '../../nn/checkpoint-record.js';
import { SpotdiffError } from '../../util/errors.js';
import { recordDifferences } from '../../util/json-diff.js';
import { spotdiffVersion } from '../../util/version.js';
import type { TwoClassTrainConfig } from './config.js';
import type { TwoClassNetwork } from './network.js';

/**
 * A 2-class training checkpoint: one safetensors file (nn/checkpoint.ts) with the network's
 * state, SGD's momentum buffers and a record of the run (its identity: config, data and
 * network; the steps done). A resume must be the same run: the record's identity must equal
 * the new run's, field by field, or the resume is refused.
 */

export const TWOCLASS_CHECKPOINT_FILE = 'checkpoint.safetensors';
const KIND = 'spotdiff-twoclass-checkpoint';
const FORMAT_VERSION = 1;
const META_KEY = 'spotdiff.twoclass';

/** What makes two runs the same run. */
export interface TwoClassRunIdentity {
  config: TwoClassTrainConfig;
  /** The training images: how many, how many anomalous, and a digest of their paths, labels and masks in order. */
  data: { images: number; anomalies: number; digest: string };
  /** The caller's description of the network and its starting weights (architecture, init weights' hash, ...). */
  network: Readonly<Record<string, string | number | boolean | null>>;
}

export interface TwoClassCheckpointMeta {
  kind: typeof KIND;
  formatVersion: number;
  spotdiffVersion: string;
  /** Optimiser steps completed; training resumes at this step (0-based). */
  step: number;
  run: TwoClassRunIdentity;
  optimizer: Record<string, number>;
  /** Loss of the last step before the checkpoint. */
  lastLoss: number | null;
  created: string;
}

function bad(path: string, what: string, cause?: unknown): SpotdiffError {
  return new SpotdiffError('ERR_BAD_CHECKPOINT', `${path} is not a usable spotdiff 2-class training checkpoint: ${what}`, cause === undefined ? undefined : { cause });
}

function parse(path: string, metadata: Readonly<Record<string, string>>): TwoClassCheckpointMeta {
  const text = metadata[META_KEY];
  if (text === undefined) throw bad(path, `its header has no "${META_KEY}" record`);
  let meta: TwoClassCheckpointMeta;
  try {
    meta = JSON.parse(text) as TwoClassCheckpointMeta;
  } catch (e) {
    throw bad(path, `its "${META_KEY}" record is not JSON`, e);
  }
  if (meta.kind !== KIND) throw bad(path, `its record is of kind ${JSON.stringify(meta.kind)}`);
  if (meta.formatVersion !== FORMAT_VERSION) {
    throw new SpotdiffError('ERR_VERSION', `${path}: checkpoint format version ${JSON.stringify(meta.formatVersion)} (written by spotdiff ${meta.spotdiffVersion}); this spotdiff reads version ${FORMAT_VERSION}`);
  }
  if (!Number.isInteger(meta.step) || meta.step < 0 || typeof meta.run !== 'object' || meta.run === null) throw bad(path, 'its record lacks step or run');
  return meta;
}

export async function saveTwoClassCheckpoint(
  path: string,
  network: TwoClassNetwork,
  optimizer: Optimizer<BaseHyperparameters>,
  state: { step: number; run: TwoClassRunIdentity; lastLoss: number | null },
  write?: CheckpointWriter,
): Promise<void> {
  const record = (numbers: Record<string, number>): string =>
    JSON.stringify({ kind: KIND, formatVersion: FORMAT_VERSION, spotdiffVersion: spotdiffVersion(), ...state, optimizer: numbers, created: new Date().toISOString() } satisfies TwoClassCheckpointMeta);
  await saveTrainingCheckpoint(path, network, optimizer, META_KEY, record, write);
}

export async function loadTwoClassCheckpoint(path: string, network: TwoClassNetwork, optimizer: Optimizer<BaseHyperparameters>): Promise<TwoClassCheckpointMeta> {
  return loadTrainingCheckpoint(
    path,
    network,
    optimizer,
    (metadata) => {
      const meta = parse(path, metadata);
      return { record: meta, optimizerNumbers: meta.optimizer };
    },
    (what, cause) => bad(path, what, cause),
  );
}

/** The record alone (header only, no tensor engine work), or null when there is no checkpoint. */
export async function readTwoClassCheckpointMeta(path: string): Promise<TwoClassCheckpointMeta | null> {
  const metadata = await readCheckpointMetadata(path, (what, cause) => bad(path, what, cause));
  return metadata === null ? null : parse(path, metadata);
}

/** Refuses a resume from a checkpoint of another run, naming every field that differs. */
export function checkSameRun(saved: TwoClassRunIdentity, now: TwoClassRunIdentity, path: string): void {
  const diff = [
    ...recordDifferences(saved.config, now.config).map((d) => `config.${d}`),
    ...recordDifferences(saved.data, now.data).map((d) => `data.${d}`),
    ...recordDifferences(saved.network, now.network).map((d) => `network.${d}`),
  ];
  if (diff.length === 0) return;
  throw new SpotdiffError(
    'ERR_BAD_CHECKPOINT',
    `cannot resume from ${path}: it was written by another training run (${diff.join('; ')}); resume with the same options and images, or train in another work folder`,
  );
}
