import { appendFile, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-write.js';
import { SpotdiffError } from '../util/errors.js';

/**
 * The loss log of a pre-training run: one JSON object per optimiser step, one per line
 * (JSONL), appended as the run goes so that a crash loses at most the line being written.
 * On resume the log is cut back to the checkpoint's step (the steps after it are run again)
 * and a torn last line is dropped, so the log of a resumed run has each step exactly once.
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

export class StepLog {
  private constructor(readonly path: string) {}

  /** Starts an empty log (a fresh run), replacing any log of an earlier run that never checkpointed. */
  static async create(path: string): Promise<StepLog> {
    await writeFileAtomic(path, '');
    return new StepLog(path);
  }

  /** Keeps the records of steps 1..`step` of an existing log (resume) and appends after them. */
  static async resume(path: string, step: number): Promise<StepLog> {
    const kept = (await readStepLog(path)).filter((r) => r.step <= step);
    await writeFileAtomic(path, kept.map((r) => JSON.stringify(r) + '\n').join(''));
    return new StepLog(path);
  }

  async append(record: StepRecord): Promise<void> {
    await appendFile(this.path, JSON.stringify(record) + '\n');
  }
}

/** Every complete record of a log in order; a torn or unparsable line is skipped. A missing log is empty. */
export async function readStepLog(path: string): Promise<StepRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new SpotdiffError('ERR_IO', `cannot read the log ${path}: ${(e as Error).message}`, { cause: e });
  }
  const out: StepRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const r = JSON.parse(line) as StepRecord;
      if (Number.isInteger(r.step)) out.push(r);
    } catch {
      /* torn line of an interrupted append */
    }
  }
  return out;
}
