import { open, readdir, readFile, rm, truncate } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { SpotdiffError } from '../util/errors.js';

/**
 * The benchmark's per-run results record (<models>/<protocol>/results.jsonl): one JSON line per
 * finished (row, object, run, method) evaluation, appended and fsynced as each one ends, so an
 * interrupted benchmark keeps every result it had. A line names its model folder and the
 * sha256 of that folder's model.json bytes: a resumed benchmark trusts a line only while the
 * folder still holds that very model.json (a refit writes a new one: its creation time
 * changes the bytes). A torn last line (a crash mid-write) is cut off with a warning.
 *
 * A benchmark split across processes keeps one writer per file: rank 0 appends to the record,
 * rank r > 0 to its own results.rank-<r>.jsonl beside it. Once every rank is done (and when a
 * later benchmark starts) those are folded into the record, so a finished benchmark leaves the
 * one record a single process writes; a resumed benchmark reads them all together, whatever
 * the number of processes of the interrupted one.
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

const RANK_RECORD = /^results\.rank-(\d+)\.jsonl$/;

/** The file rank `rank` of a benchmark split across processes appends to: the record itself for rank 0. */
export function rankRecordPath(path: string, rank: number): string {
  return rank === 0 ? path : join(dirname(path), `results.rank-${rank}.jsonl`);
}

/** The rank files beside the record (an interrupted multi-process benchmark's), by rank. */
export async function rankRecordFiles(path: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new SpotdiffError('ERR_IO', `cannot read ${dirname(path)}: ${(e as Error).message}`, { cause: e });
  }
  const ranked = names.flatMap((n) => {
    const m = RANK_RECORD.exec(n);
    return m === null || basename(path) === n ? [] : [{ n, rank: Number(m[1]) }];
  });
  return ranked.sort((a, b) => a.rank - b.rank).map((r) => join(dirname(path), r.n));
}

/** The record and its rank files read together (readResultsRecord on each; a rank file's line wins, being newer). */
export async function readRecordWithRanks(path: string, warn: (line: string) => void): Promise<Map<string, ResultLine>> {
  const out = await readResultsRecord(path, warn);
  for (const file of await rankRecordFiles(path)) for (const [k, line] of await readResultsRecord(file, warn)) out.set(k, line);
  return out;
}

/**
 * Appends the rank files' lines to the record (rewritten whole, atomically) and removes them;
 * nothing when there are none. A crash between the two leaves lines twice, which read the same.
 */
export async function foldRankRecords(path: string): Promise<void> {
  const files = await rankRecordFiles(path);
  if (files.length === 0) return;
  let text = '';
  for (const f of [path, ...files]) text += await readFileOr(f, '');
  await writeFileAtomic(path, text);
  for (const f of files) await rm(f, { force: true });
}

/** Removes the rank files (a benchmark that starts afresh). */
export async function removeRankRecords(path: string): Promise<void> {
  for (const f of await rankRecordFiles(path)) await rm(f, { force: true });
}

async function readFileOr(path: string, missing: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return missing;
    throw new SpotdiffError('ERR_IO', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}
