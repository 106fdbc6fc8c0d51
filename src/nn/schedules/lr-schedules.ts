import { SpotdiffError } from '../../util/errors.js';

/**
 * A learning-rate schedule: the rate at `epoch` (a whole or fractional count of epochs, or
 * of steps when stepping per iteration) for a group whose base rate is `baseLr`.
 */
export type LrSchedule = (baseLr: number, epoch: number) => number;

function bad(message: string): never {
  throw new SpotdiffError('ERR_BAD_INPUT', message);
}

function checkEpoch(epoch: number): void {
  if (!(epoch >= 0) || !Number.isFinite(epoch)) bad(`learning-rate schedule: epoch must be a finite number ≥ 0, got ${epoch}`);
}

/** The same rate throughout. */
export function constantLr(baseLr: number, epoch: number): number {
  checkEpoch(epoch);
  return baseLr;
}

export interface StepLrOptions {
  /** Epochs between decays (a positive integer). */
  stepSize: number;
  /** Factor per decay (default 0.1). */
  gamma?: number;
}

/** torch.optim.lr_scheduler.StepLR: baseLr · γ^⌊epoch / stepSize⌋. */
export function stepLr(baseLr: number, epoch: number, o: StepLrOptions): number {
  checkEpoch(epoch);
  const gamma = o.gamma ?? 0.1;
  if (!Number.isInteger(o.stepSize) || o.stepSize < 1) bad(`stepLr: stepSize must be a positive integer, got ${o.stepSize}`);
  if (!(gamma > 0) || !Number.isFinite(gamma)) bad(`stepLr: gamma must be a positive number, got ${gamma}`);
  return baseLr * gamma ** Math.floor(epoch / o.stepSize);
}

export interface CosineLrOptions {
  /** Total epochs: the rate reaches minLr here and stays there after. */
  epochs: number;
  /** Linear warm-up from 0 over these first epochs (default 0: none). */
  warmupEpochs?: number;
  /** The floor of the cosine (torch's eta_min; default 0). */
  minLr?: number;
}

/**
 * Cosine decay with linear warm-up. During warm-up, baseLr · epoch / warmupEpochs (MoCo v3's
 * form); then minLr + (baseLr − minLr) · ½(1 + cos(π·(epoch − warmup)/(epochs − warmup))).
 * Without warm-up and with minLr 0 this is SimSiam's and MoCo v2's
 * lr · ½(1 + cos(π·epoch/epochs)), and torch's CosineAnnealingLR(T_max = epochs, eta_min = minLr)
 * up to T_max (torch's rate would climb again after it; this one stays at minLr).
 */
export function cosineLr(baseLr: number, epoch: number, o: CosineLrOptions): number {
  checkEpoch(epoch);
  const warmup = o.warmupEpochs ?? 0;
  const minLr = o.minLr ?? 0;
  if (!(o.epochs > 0) || !Number.isFinite(o.epochs)) bad(`cosineLr: epochs must be a positive number, got ${o.epochs}`);
  if (!(warmup >= 0 && warmup < o.epochs)) bad(`cosineLr: warmupEpochs must be in [0, epochs), got ${warmup} with epochs ${o.epochs}`);
  if (!(minLr >= 0) || !Number.isFinite(minLr)) bad(`cosineLr: minLr must be a finite number ≥ 0, got ${minLr}`);
  if (epoch < warmup) return (baseLr * epoch) / warmup;
  const progress = Math.min(epoch - warmup, o.epochs - warmup) / (o.epochs - warmup);
  return minLr + ((baseLr - minLr) * (1 + Math.cos(Math.PI * progress))) / 2;
}

/** Schedules as LrSchedule values, for LrScheduler. */
export const constantSchedule = (): LrSchedule => constantLr;
export function stepSchedule(o: StepLrOptions): LrSchedule {
  stepLr(1, 0, o);
  return (baseLr, epoch) => stepLr(baseLr, epoch, o);
}
export function cosineSchedule(o: CosineLrOptions): LrSchedule {
  cosineLr(1, 0, o);
  return (baseLr, epoch) => cosineLr(baseLr, epoch, o);
}
