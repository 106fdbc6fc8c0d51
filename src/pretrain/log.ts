import { JsonlStepLog, readJsonlStepLog } from '../util/step-log.js';

/**
 * The loss log of a pre-training run (log.jsonl): one StepRecord per optimiser step, appended
 * as the run goes and cut back to the checkpoint's step on resume (util/step-log.ts).
 */

export const LOG_FILE = 'log.jsonl';

export interface StepRecord {
  /** 1-based count of optimiser steps over the whole run. */
  step: number;
  /** 0-based epoch of the step. */
  epoch: number;
  /** Learning rate of the scheduled parameter group at this step. */
  lr: number;
  /** L = L_base + η·L_spd, and its parts. */
  total: number;
  base: number;
  spd: number;
  /** Images per second of this step, data loading included. */
  imagesPerSecond: number;
}

export type StepLog = JsonlStepLog<StepRecord>;

export const StepLog = {
  /** Starts an empty log (a fresh run). */
  create: (path: string): Promise<StepLog> => JsonlStepLog.create<StepRecord>(path),
  /** Keeps the records of steps 1..`step` of an existing log (resume) and appends after them. */
  resume: (path: string, step: number): Promise<StepLog> => JsonlStepLog.resume<StepRecord>(path, step),
};

/** Every complete record of a log in order; a torn or unparsable line is skipped. A missing log is empty. */
export const readStepLog = (path: string): Promise<StepRecord[]> => readJsonlStepLog<StepRecord>(path);
