import { appendFile, readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write.js';
import { SpotdiffError } from './errors.js';

/**
 * A training run's log: one JSON object per optimiser step, one per line (JSONL), appended as
 * the run goes so that a crash loses at most the line being written. On resume the log is cut
 * back to the checkpoint's step (the steps after it are run again) and a torn last line is
 * dropped, so the log of a resumed run has each step exactly once. Trainers give their own
 * record type; every record has its 1-based `step`.
 */
export interface StepNumbered {
  step: number;
}

export class JsonlStepLog<R extends StepNumbered> {
  private constructor(readonly path: string) {}

  /** Starts an empty log (a fresh run), replacing any log of an earlier run that never checkpointed. */
  static async create<R extends StepNumbered>(path: string): Promise<JsonlStepLog<R>> {
    await writeFileAtomic(path, '');
    return new JsonlStepLog<R>(path);
  }

  /** Keeps the records of steps 1..`step` of an existing log (resume) and appends after them. */
  static async resume<R extends StepNumbered>(path: string, step: number): Promise<JsonlStepLog<R>> {
    const kept = (await readJsonlStepLog<R>(path)).filter((r) => r.step <= step);
    await writeFileAtomic(path, kept.map((r) => JSON.stringify(r) + '\n').join(''));
    return new JsonlStepLog<R>(path);
  }

  async append(record: R): Promise<void> {
    await appendFile(this.path, JSON.stringify(record) + '\n');
  }
}

/** Every complete record of a log in order; a torn or unparsable line is skipped. A missing log is empty. */
export async function readJsonlStepLog<R extends StepNumbered>(path: string): Promise<R[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new SpotdiffError('ERR_IO', `cannot read the log ${path}: ${(e as Error).message}`, { cause: e });
  }
  const out: R[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const r = JSON.parse(line) as R;
      if (Number.isInteger(r.step)) out.push(r);
    } catch {
      /* torn line of an interrupted append */
    }
  }
  return out;
}
