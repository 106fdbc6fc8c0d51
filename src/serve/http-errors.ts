import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isSpotdiffError } from '../util/errors.js';
import { QueueFullError } from './batcher.js';
import { IMAGE_TYPES } from './schemas.js';

/** What an error response carries: a stable code and a message saying what to do. */
export interface ErrorBody {
  error: string;
  message: string;
}

/** Seconds a client is told to wait (Retry-After) when the queue is full. */
export const RETRY_AFTER_S = 1;

const BAD_INPUT = new Set(['ERR_BAD_IMAGE', 'ERR_SHAPE', 'ERR_BAD_INPUT']);

function describe(e: FastifyError | Error, req: FastifyRequest, maxBytes: number): { status: number; body: ErrorBody } {
  if (e instanceof QueueFullError) return { status: 503, body: { error: 'ERR_BUSY', message: e.message } };
  if (isSpotdiffError(e) && BAD_INPUT.has(e.code)) return { status: 400, body: { error: e.code, message: e.message } };
  const f = e as FastifyError;
  if (f.validation !== undefined) return { status: 400, body: { error: 'ERR_BAD_REQUEST', message: f.message } };
  if (f.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, body: { error: 'ERR_TOO_LARGE', message: `the upload is larger than this server takes (${maxBytes} bytes at most)` } };
  }
  if (f.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || f.code === 'FST_ERR_CTP_EMPTY_TYPE') {
    const got = req.headers['content-type'] === undefined ? 'none' : JSON.stringify(req.headers['content-type']);
    return { status: 415, body: { error: 'ERR_MEDIA_TYPE', message: `send the image's bytes with Content-Type ${IMAGE_TYPES.join(', ')}; got ${got}` } };
  }
  if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) return { status: f.statusCode, body: { error: f.code ?? 'ERR_BAD_REQUEST', message: f.message } };
  return { status: 500, body: { error: 'ERR_INTERNAL', message: `scoring failed: ${e.message}` } };
}

/** The server's error handler: request problems become 4xx with a clear message, a full queue 503 with Retry-After. */
export function errorHandler(maxBytes: number) {
  return (e: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): ErrorBody => {
    const { status, body } = describe(e, req, maxBytes);
    if (status === 503) reply.header('retry-after', String(RETRY_AFTER_S));
    if (status >= 500 && status !== 503) req.log.error(e);
    reply.code(status);
    return body;
  };
}
