import http from 'node:http';
import https from 'node:https';
import { SpotdiffError } from '../../util/errors.js';

/**
 * One HTTP GET with redirects followed, for the resumable downloader. Connection failures that
 * mean "this machine cannot reach the server" (DNS, refused, no route) become ERR_NETWORK with
 * the URL at once; failures worth retrying (reset, timeout, 5xx) become `RetryableError`.
 */

export class RetryableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RetryableError';
  }
}

const UNREACHABLE: Record<string, string> = {
  ENOTFOUND: 'the host name does not resolve (DNS failure)',
  EAI_AGAIN: 'the host name could not be resolved (DNS lookup failed)',
  EAI_NODATA: 'the host name has no address',
  ECONNREFUSED: 'the connection was refused',
  ENETUNREACH: 'the network is unreachable (no route)',
  EHOSTUNREACH: 'the host is unreachable (no route)',
  ENETDOWN: 'the network is down',
};

/** Turns a socket-level error into the right error type, naming the URL. */
export function classifyNetworkError(e: unknown, url: string): Error {
  if (e instanceof SpotdiffError || e instanceof RetryableError) return e;
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const unreachable = UNREACHABLE[code];
  if (unreachable !== undefined) {
    return new SpotdiffError('ERR_NETWORK', `cannot reach ${url}: ${unreachable} (${code}). Check the network connection (are you offline?) or pass --url with a reachable copy.`, { cause: e });
  }
  return new RetryableError(`${code ? code + ': ' : ''}${(e as Error).message}`, { cause: e });
}

export interface GetOptions {
  headers: Record<string, string>;
  /** Socket idle time before the request is abandoned (and retried). */
  timeoutMs: number;
  maxRedirects: number;
}

/** GETs `url`, following 301/302/303/307/308; resolves with the final response (any 2xx or 416). */
export async function httpGet(url: string, options: GetOptions): Promise<{ response: http.IncomingMessage; finalUrl: string }> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const response = await getOnce(current, options);
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if ([301, 302, 303, 307, 308].includes(status) && location !== undefined) {
      response.resume();
      if (hop >= options.maxRedirects) throw new SpotdiffError('ERR_NETWORK', `too many redirects (more than ${options.maxRedirects}) starting at ${url}`);
      current = new URL(location, current).toString();
      continue;
    }
    if ((status >= 200 && status < 300) || status === 416) return { response, finalUrl: current };
    response.resume();
    const what = `HTTP ${status} ${response.statusMessage ?? ''}`.trim();
    if (status >= 500 || status === 429 || status === 408) throw new RetryableError(`${what} from ${current}`);
    throw new SpotdiffError('ERR_NETWORK', `${what} from ${current}${current !== url ? ` (redirected from ${url})` : ''}`);
  }
}

function getOnce(url: string, options: GetOptions): Promise<http.IncomingMessage> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SpotdiffError('ERR_USAGE', `not a URL: "${url}"`);
  }
  const client = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : null;
  if (client === null) throw new SpotdiffError('ERR_USAGE', `only http:// and https:// URLs can be downloaded, got "${url}"`);
  return new Promise((resolvePromise, reject) => {
    // No connection pooling: a download is a handful of long requests, and a pooled socket that
    // the server has cut would fail the next request for no reason.
    const request = client.get(parsed, { headers: options.headers, agent: false }, resolvePromise);
    request.setTimeout(options.timeoutMs, () => {
      request.destroy(Object.assign(new Error(`no data from the server for ${Math.round(options.timeoutMs / 1000)} s`), { code: 'ETIMEDOUT' }));
    });
    request.on('error', (e) => reject(classifyNetworkError(e, url)));
  });
}

/** Content-Length as a number, or null when absent or malformed. */
export function contentLength(response: http.IncomingMessage): number | null {
  const v = response.headers['content-length'];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
}

/** A parsed Content-Range: "bytes START-END/TOTAL" or, on a 416, "bytes * /TOTAL" (start and end null). */
export function contentRange(response: http.IncomingMessage): { start: number | null; end: number | null; total: number | null } | null {
  const v = response.headers['content-range'];
  if (v === undefined) return null;
  const m = /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/.exec(v.trim());
  if (!m) return null;
  const num = (s: string | undefined): number | null => (s === undefined || s === '*' ? null : Number(s));
  return { start: num(m[1]), end: num(m[2]), total: num(m[3]) };
}
