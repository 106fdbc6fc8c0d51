import type { ResNetArch } from '../models/backbone-names.js';
import { SpotdiffError } from '../util/errors.js';
import { recordDifferences } from '../util/json-diff.js';
import type { PretrainMethodName, SpdConfig } from './method.js';
import type { Precision } from '../tensor/autocast.js';

/**
 * Everything that decides a pre-training run's numbers. A checkpoint records it, and a run is
 * resumed only with the same one: a resumed run must give the loss curve the uninterrupted
 * run would have given, which a different batch size, schedule or seed would break.
 */
export interface PretrainConfig {
  method: PretrainMethodName;
  spd: SpdConfig;
  backbone: ResNetArch;
  /** Dataset folders, absolute, in the order given. */
  data: string[];
  /** Class names in label order (supervised: the objects of the data; otherwise null). */
  classes: string[] | null;
  /** The weights the backbone started from (--init), or null for seeded random init. */
  init: { file: string; sha256: string } | null;
  epochs: number;
  batchSize: number;
  /** Peak learning rate (baseLr·batchSize/256 unless given). */
  lr: number;
  momentum: number;
  weightDecay: number;
  /** The learning-rate schedule (see schedule.ts): the method's published one. */
  schedule: 'cosine' | 'step';
  /** Linear warm-up from 0 over these first epochs. */
  warmupEpochs: number;
  /** Images are resized to size×size. */
  size: number;
  seed: number;
  /**
   * The autocast precision of the forward and loss. It changes the numbers, so a resume keeps
   * it; a checkpoint written before this field was recorded ran fp32.
   */
  precision: Precision;
  /**
   * Data-parallel runs: BatchNorm over the global batch (SyncBatchNorm), as the recipe or
   * --sync-bn chose; one process: no effect. A resume keeps it; a checkpoint written before it
   * was recorded is taken to agree with the run that resumes it.
   */
  syncBatchNorm: boolean;
  /** Images used per epoch and steps per epoch (a changed data folder changes these). */
  images: number;
  stepsPerEpoch: number;
}

/** The fields in which two configs differ, each as "name: saved → now". */
export function configDifferences(savedAsWritten: PretrainConfig, now: PretrainConfig): string[] {
  const saved: PretrainConfig = { ...savedAsWritten, precision: savedAsWritten.precision ?? 'fp32', syncBatchNorm: savedAsWritten.syncBatchNorm ?? now.syncBatchNorm };
  return recordDifferences(saved, now);
}

/** Throws when a checkpoint's config is not the run's (resume would not continue the same run). */
export function checkSameConfig(saved: PretrainConfig, now: PretrainConfig, checkpoint: string): void {
  const diff = configDifferences(saved, now);
  if (diff.length === 0) return;
  throw new SpotdiffError(
    'ERR_BAD_CHECKPOINT',
    `cannot resume from ${checkpoint}: it was written by a run with another configuration (${diff.join('; ')}). ` +
      'Resume with the same options (options left out are taken from the checkpoint), or start a new run in another --out folder',
  );
}
