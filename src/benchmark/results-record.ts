import { open, readFile, truncate } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-write.js';
import { SpotdiffError } from '../util/errors.js';

/**
 * The benchmark's per-run results record (<models>/<protocol>/results.jsonl): one JSON line per
 * finished (row, object, run, method) evaluation, appended and fsynced as each one ends, so an
 * interrupted benchmark keeps every result it had. A line names its model folder and the
 * sha256 of that folder's model.json bytes: a resumed benchmark trusts a line only while the
 * folder still holds that very model.json (a refit writes a new one: its creation time
 * changes the bytes). A torn last line (a crash mid-write) is cut off with a warning.
 */

export const RESULTS_RECORD_VERSION = 1;

export interface ResultLine {
  version: typeof RESULTS_RECORD_VERSION;
  row: string;
  object: string;
  run: number;
  method: string;
  /** The model folder, as the benchmark named it. */
  model: string;
  /** sha256 of the model folder's model.json when it was evaluated. */
  modelJsonSha256: string;
  /** The columns this method fills. */
  metrics: Record<string, number>;
}

/** The key of a line: one per planned fit. */
export function resultKey(l: Pick<ResultLine, 'row' | 'object' | 'run' | 'method'>): string {
  return JSON.stringify([l.row, l.object, l.run, l.method]);
}

/** Starts an empty record, replacing an earlier benchmark's (whose models are being refitted). */
export async function startResultsRecord(path: string): Promise<void> {
  await writeFileAtomic(path, '');
}

/**
 * The record's lines by key (a later line for the same key wins), or an empty map when there
 * is none. A torn last line is cut off the file (`warn` says so); any other unreadable line is
 * an error naming the file and line.
 */
export async function readResultsRecord(path: string, warn: (line: string) => void): Promise<Map<string, ResultLine>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new SpotdiffError('ERR_IO', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  const lines = text.split('\n');
  const last = lines.pop()!; // '' when the file ends with a newline
  const out = new Map<string, ResultLine>();
  lines.forEach((line, i) => {
    const r = parseLine(line);
    if (r === null) throw new SpotdiffError('ERR_BAD_INPUT', `${path}, line ${i + 1}: not a benchmark result (${line.slice(0, 60)}); the record is damaged: move it away to evaluate every saved model again`);
    out.set(resultKey(r), r);
  });
  if (last !== '') {
    warn(`warning: ${path}: the last line was cut short (an interrupted write) and is dropped; that run is evaluated again`);
    await truncate(path, Buffer.byteLength(text, 'utf8') - Buffer.byteLength(last, 'utf8'));
  }
  return out;
}

function parseLine(line: string): ResultLine | null {
  try {
    const r = JSON.parse(line) as ResultLine;
    const ok =
      r?.version === RESULTS_RECORD_VERSION && typeof r.row === 'string' && typeof r.object === 'string' && Number.isInteger(r.run) && typeof r.method === 'string' &&
      typeof r.model === 'string' && typeof r.modelJsonSha256 === 'string' && typeof r.metrics === 'object' && r.metrics !== null &&
      Object.values(r.metrics).every((v) => typeof v === 'number');
    return ok ? r : null;
  } catch {
    return null;
  }
}

/** Appends one line in a single write and fsyncs it before returning. */
export async function appendResult(path: string, line: ResultLine): Promise<void> {
  const fh = await open(path, 'a');
  try {
    await fh.write(JSON.stringify(line) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
}
