import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import type http from 'node:http';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { SpotdiffError } from '../../util/errors.js';
import { classifyNetworkError, contentLength, contentRange, httpGet, RetryableError } from './http-get.js';

/**
 * Downloads a URL to a file, resuming after interruptions.
 *
 * Bytes go to `<dest>.part`; `<dest>.part.json` records the URL, the server's validators (ETag,
 * Last-Modified) and the total size, and is written before any byte. A later attempt (in this
 * call, after a cut connection, or in a later run) asks for `Range: bytes=<part size>-` with
 * `If-Range: <validator>`, so a server whose file changed answers 200 with the whole new file:
 *   206  the rest: Content-Range must start at the part size and agree on the total; appended;
 *   200  the whole file (Range ignored or file changed): the part is truncated and rewritten;
 *   416  nothing left: complete if the part has exactly the recorded total.
 * The total comes from Content-Length (200) or Content-Range (206/416); the finished part must
 * have exactly that size before it is renamed to `dest`. A size the server contradicts is an
 * ERR_NETWORK "size mismatch" (the part is removed); connection cuts are retried `retries` times
 * in a row without progress, then reported with a hint to run again to resume.
 */

export interface ResumableDownloadOptions {
  /** Consecutive failed attempts (no new byte) retried before giving up (default 3). */
  retries?: number;
  /** Delay before the first retry, doubled after each (default 1000 ms). */
  retryDelayMs?: number;
  /** Socket idle time before an attempt is abandoned (default 60 s). */
  timeoutMs?: number;
  maxRedirects?: number;
  onProgress?: (bytes: number, total: number | null) => void;
  log?: (line: string) => void;
}

export interface ResumableDownloadResult {
  path: string;
  bytes: number;
  etag: string | null;
  /** The offset each resumed request started from (empty when it ran in one go). */
  resumedFrom: number[];
  /** Times the part was discarded and the download started over (file changed, Range ignored). */
  restarts: number;
  requests: number;
}

interface PartMeta {
  url: string;
  etag: string | null;
  lastModified: string | null;
  total: number | null;
}

type AttemptOutcome = 'complete' | 'partial' | 'restart';

export async function downloadResumable(url: string, dest: string, options: ResumableDownloadOptions = {}): Promise<ResumableDownloadResult> {
  const retries = options.retries ?? 3;
  const log = options.log ?? (() => {});
  const part = `${dest}.part`;
  const metaPath = `${part}.json`;
  await fsStep(dest, () => mkdir(dirname(dest), { recursive: true }));

  let meta = await readMeta(metaPath);
  let offset = await fileSize(part);
  if (offset > 0 && (meta === null || meta.url !== url || (meta.total !== null && offset > meta.total))) {
    log(`discarding ${part}: it does not belong to ${url}`);
    await discard(part, metaPath);
    meta = null;
    offset = 0;
  }
  const result: ResumableDownloadResult = { path: dest, bytes: 0, etag: null, resumedFrom: [], restarts: 0, requests: 0 };
  let failures = 0;

  for (;;) {
    const before = offset;
    try {
      if (offset > 0) result.resumedFrom.push(offset);
      result.requests++;
      const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'spotdiff' };
      if (offset > 0) {
        headers.range = `bytes=${offset}-`;
        const validator = meta?.etag && !meta.etag.startsWith('W/') ? meta.etag : meta?.lastModified;
        if (validator) headers['if-range'] = validator;
      }
      const { response } = await httpGet(url, { headers, timeoutMs: options.timeoutMs ?? 60_000, maxRedirects: options.maxRedirects ?? 10 });
      const step = await handleResponse(response, url, offset, meta, part, metaPath, options.onProgress, log);
      meta = step.meta;
      offset = step.offset;
      if (step.outcome === 'complete') break;
      if (step.outcome === 'restart') {
        result.restarts++;
        if (result.restarts > 3) throw new SpotdiffError('ERR_NETWORK', `${url} keeps changing while it downloads (started over ${result.restarts - 1} times); try again later`);
        continue;
      }
      if (offset === before) throw new RetryableError('the server sent no data');
      failures = 0;
    } catch (e) {
      const err = classifyNetworkError(e, url);
      if (!(err instanceof RetryableError)) throw err;
      // The attempt may have written the part and its record before it failed: reread both.
      meta = await readMeta(metaPath);
      offset = await fileSize(part);
      if (offset > before) failures = 0;
      if (failures >= retries) {
        const total = meta?.total ?? null;
        throw new SpotdiffError(
          'ERR_NETWORK',
          `download of ${url} interrupted at ${offset}${total !== null ? ` of ${total}` : ''} bytes; gave up after ${failures + 1} failed attempt(s) in a row ` +
            `(last error: ${err.message}). Run the same command again to resume from there.`,
          { cause: err },
        );
      }
      failures++;
      const wait = (options.retryDelayMs ?? 1000) * 2 ** (failures - 1);
      log(`download interrupted at ${offset} bytes (${err.message}); resuming${wait > 0 ? ` in ${(wait / 1000).toFixed(1)} s` : ''}`);
      if (wait > 0) await sleep(wait);
    }
  }
  const size = await fileSize(part);
  if (meta !== null && meta.total !== null && size !== meta.total) {
    await discard(part, metaPath);
    throw new SpotdiffError('ERR_NETWORK', `size mismatch: ${url} should have ${meta.total} bytes but ${size} arrived; the partial file was removed, run again to start over`);
  }
  if (meta?.total === null) log(`the server did not say how large ${url} is, so its size could not be checked`);
  await fsStep(part, async () => {
    const fh = await open(part, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(part, dest);
    await rm(metaPath, { force: true });
  });
  result.bytes = size;
  result.etag = meta?.etag ?? null;
  return result;
}

async function handleResponse(
  response: http.IncomingMessage,
  url: string,
  offset: number,
  meta: PartMeta | null,
  part: string,
  metaPath: string,
  onProgress: ResumableDownloadOptions['onProgress'],
  log: (line: string) => void,
): Promise<{ outcome: AttemptOutcome; offset: number; meta: PartMeta | null }> {
  const status = response.statusCode ?? 0;
  const etag = header(response, 'etag');
  const lastModified = header(response, 'last-modified');
  const mismatch = async (what: string): Promise<never> => {
    response.resume();
    await discard(part, metaPath);
    throw new SpotdiffError('ERR_NETWORK', `size mismatch: ${what} (${url}); the partial file was removed, run again to start over`);
  };

  // The same ETag with another total size is a contradiction, not a new file.
  const contradicts = (total: number | null): boolean => meta !== null && meta.total !== null && total !== null && total !== meta.total && etag !== null && etag === meta.etag;
  const restart = async (why: string): Promise<{ outcome: AttemptOutcome; offset: number; meta: null }> => {
    response.resume();
    log(`${why}; starting over`);
    await discard(part, metaPath);
    return { outcome: 'restart', offset: 0, meta: null };
  };

  if (status === 416) {
    response.resume();
    const total = contentRange(response)?.total ?? null;
    if (contradicts(total)) return mismatch(`the server now reports ${total} bytes in total, ${meta?.total} before, for the same ETag ${etag}`);
    if (meta !== null && total !== null && total === offset && (meta.total === null || meta.total === total)) return { outcome: 'complete', offset, meta: { ...meta, total } };
    return restart(`the server refused the range from byte ${offset} (416${total !== null ? `, it has ${total} bytes` : ''})`);
  }

  if (status === 206) {
    const range = contentRange(response);
    if (range === null || range.start === null || range.end === null) return mismatch(`a 206 answer without a usable Content-Range (${header(response, 'content-range') ?? 'none'})`);
    if (range.start !== offset) return mismatch(`asked for bytes from ${offset}, the server sent bytes ${range.start}-${range.end}`);
    const length = contentLength(response);
    if (length !== null && length !== range.end - range.start + 1) return mismatch(`Content-Length ${length} disagrees with Content-Range bytes ${range.start}-${range.end}`);
    if (contradicts(range.total)) return mismatch(`the server now reports ${range.total} bytes in total, ${meta?.total} before, for the same ETag ${etag}`);
    if (meta === null) return restart('a partial answer to a request for the whole file');
    const changed = (etag !== null && meta.etag !== null && etag !== meta.etag) || (range.total !== null && meta.total !== null && range.total !== meta.total);
    if (changed) return restart(`${url} changed on the server since the partial download began`);
    const current: PartMeta = { ...meta, total: meta.total ?? range.total };
    if (current.total !== meta.total) await writeMeta(metaPath, current);
    const end = await streamBody(response, part, 'a', offset, current.total, onProgress);
    if (end < range.end + 1) return mismatch(`the answer ended at byte ${end}, Content-Range promised bytes up to ${range.end + 1}`);
    return { outcome: current.total !== null && end >= current.total ? 'complete' : 'partial', offset: end, meta: current };
  }

  // 200 (or another 2xx): the whole file from byte 0.
  if (offset > 0) log(`the server sent the whole file instead of the rest (no resume); starting over from byte 0`);
  const fresh: PartMeta = { url, etag, lastModified, total: contentLength(response) };
  await writeMeta(metaPath, fresh);
  const end = await streamBody(response, part, 'w', 0, fresh.total, onProgress);
  if (fresh.total !== null && end !== fresh.total) return mismatch(`Content-Length was ${fresh.total}, ${end} bytes arrived`);
  return { outcome: 'complete', offset: end, meta: fresh };
}

/**
 * Appends (or writes) the body to the part file; resolves with the part's new size. Chunks are
 * queued as they arrive and written in order, so when the connection fails every byte that
 * arrived is still stored before the error is passed on (a stream iterator would drop the ones
 * still buffered). Reading pauses while more than QUEUE_HIGH bytes wait for the disk.
 */
const QUEUE_HIGH = 16 * 1024 * 1024;

async function streamBody(
  response: http.IncomingMessage,
  part: string,
  flags: 'a' | 'w',
  offset: number,
  total: number | null,
  onProgress: ResumableDownloadOptions['onProgress'],
): Promise<number> {
  const fh = await fsStep(part, () => open(part, flags));
  let size = offset;
  try {
    await new Promise<void>((resolvePromise, reject) => {
      const queue: Buffer[] = [];
      let queued = 0;
      let writing = false;
      let ended = false;
      let failure: { error: unknown } | null = null;
      let settled = false;
      const settle = (error: unknown | null): void => {
        if (settled) return;
        settled = true;
        if (error === null) resolvePromise();
        else reject(error);
      };
      const maybeDone = (): void => {
        if (writing || queue.length > 0) return;
        if (failure !== null) settle(failure.error);
        else if (ended) settle(null);
      };
      const pump = async (): Promise<void> => {
        if (writing) return;
        writing = true;
        try {
          for (let chunk = queue.shift(); chunk !== undefined; chunk = queue.shift()) {
            queued -= chunk.length;
            const bytes = chunk;
            await fsStep(part, () => fh.write(bytes));
            size += bytes.length;
            onProgress?.(size, total);
            if (queued <= QUEUE_HIGH / 2 && response.isPaused() && !ended) response.resume();
          }
        } catch (e) {
          response.destroy();
          settle(e);
          return;
        } finally {
          writing = false;
        }
        maybeDone();
      };
      response.on('data', (chunk: Buffer) => {
        queue.push(chunk);
        queued += chunk.length;
        if (queued > QUEUE_HIGH) response.pause();
        void pump();
      });
      response.on('end', () => {
        ended = true;
        maybeDone();
      });
      response.on('error', (error) => {
        failure ??= { error };
        maybeDone();
      });
      const cut = (): Error => Object.assign(new Error('the connection closed before the answer was complete'), { code: 'ECONNRESET' });
      response.on('close', () => {
        if (!ended && failure === null) failure = { error: cut() };
        maybeDone();
      });
      // The connection may have failed while the part file was being opened: those events are
      // gone, but the stream says so. (A normal end cannot have passed: it waits for a reader.)
      if (response.destroyed) {
        failure ??= { error: response.errored ?? cut() };
        maybeDone();
      }
    });
  } finally {
    await fh.close();
  }
  return size;
}

function header(response: http.IncomingMessage, name: string): string | null {
  const v = response.headers[name];
  return typeof v === 'string' && v !== '' ? v : null;
}

async function readMeta(path: string): Promise<PartMeta | null> {
  try {
    const m = JSON.parse(await readFile(path, 'utf8')) as Partial<PartMeta>;
    if (typeof m.url !== 'string') return null;
    return { url: m.url, etag: m.etag ?? null, lastModified: m.lastModified ?? null, total: typeof m.total === 'number' ? m.total : null };
  } catch {
    return null;
  }
}

async function writeMeta(path: string, meta: PartMeta): Promise<void> {
  await fsStep(path, () => writeFileAtomic(path, JSON.stringify(meta, null, 2) + '\n'));
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function discard(part: string, metaPath: string): Promise<void> {
  await rm(part, { force: true });
  await rm(metaPath, { force: true });
}

/** Runs a file-system step; its failures are local (disk full, permissions), never retried. */
async function fsStep<T>(path: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (e instanceof SpotdiffError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOSPC' ? 'the disk is full' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (e as Error).message;
    throw new SpotdiffError('ERR_IO', `cannot write ${path}: ${why}`, { cause: e });
  }
}
