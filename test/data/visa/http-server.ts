import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';

/**
 * An in-process HTTP server on 127.0.0.1 for the download tests. Each request goes to
 * `handle` with its 0-based index; `requests` records what the client sent.
 */
export interface TestServer {
  url(path: string): string;
  requests: { path: string; range: string | null; ifRange: string | null }[];
  close(): Promise<void>;
}

export async function startServer(handle: (req: http.IncomingMessage, res: http.ServerResponse, index: number) => void): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const server = http.createServer((req, res) => {
    const index = requests.length;
    requests.push({ path: req.url ?? '', range: req.headers.range ?? null, ifRange: (req.headers['if-range'] as string | undefined) ?? null });
    handle(req, res, index);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  after(close);
  return { url: (path) => `http://127.0.0.1:${port}${path}`, requests, close };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface ServeOptions {
  etag?: string | null;
  /** Answer 200 with the whole body whatever the Range header says. */
  ignoreRange?: boolean;
  /** Send this many bytes of the body, then close the connection (FIN: every byte sent arrives). */
  cutAt?: number;
  /** Send this many bytes of the body, then destroy the socket (bytes in flight may be lost). */
  resetAt?: number;
  /** Claim this total size in Content-Range instead of the real one. */
  claimTotal?: number;
  /** Send the body chunked (no Content-Length), ending it early after this many bytes. */
  chunkedEndAt?: number;
}

/**
 * Serves `body` as a static file server does: Range requests (bytes=N-) get 206 with
 * Content-Range, or 416 past the end; If-Range with another ETag gets the whole new file (200).
 */
export function serveBytes(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, options: ServeOptions = {}): void {
  const etag = options.etag === undefined ? '"v1"' : options.etag;
  const headers: Record<string, string> = { 'content-type': 'application/x-tar', 'accept-ranges': 'bytes' };
  if (etag !== null) headers.etag = etag;
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const ifRange = req.headers['if-range'];
  const rangeApplies = range !== null && !options.ignoreRange && (ifRange === undefined || ifRange === etag);
  let status = 200;
  let start = 0;
  if (rangeApplies) {
    start = Number(range[1]);
    if (start >= body.length) {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${options.claimTotal ?? body.length}` });
      res.end();
      return;
    }
    status = 206;
    headers['content-range'] = `bytes ${start}-${body.length - 1}/${options.claimTotal ?? body.length}`;
  }
  const slice = body.subarray(start);
  if (options.chunkedEndAt !== undefined) {
    res.writeHead(status, headers);
    res.end(slice.subarray(0, options.chunkedEndAt));
    return;
  }
  headers['content-length'] = String(slice.length);
  res.writeHead(status, headers);
  if (options.cutAt !== undefined) {
    // The first bytes, then the connection closes mid-body, as a failing proxy or network would.
    res.write(slice.subarray(0, options.cutAt), () => res.socket?.end());
    return;
  }
  if (options.resetAt !== undefined) {
    res.write(slice.subarray(0, options.resetAt), () => res.socket?.destroy());
    return;
  }
  res.end(slice);
}
