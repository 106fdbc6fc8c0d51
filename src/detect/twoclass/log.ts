/** The 2-class trainer's log (log.jsonl in the work folder): one record per optimiser step (util/step-log.ts). */
export const TWOCLASS_LOG_FILE = 'log.jsonl';

export interface TwoClassStepRecord {
  /** 1-based count of optimiser steps over the whole run. */
  step: number;
  /** 0-based pass over the training images the step belongs to. */
  epoch: number;
  lr: number;
  loss: number;
  /** Images per second of this step, data loading included. */
  imagesPerSecond: number;
}
