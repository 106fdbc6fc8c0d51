import Fastify, { type FastifyInstance } from 'fastify';
import { DecodeSlots, defaultDecodeSlots } from '../data/decode-slots.js';
import { SpotdiffError } from '../util/errors.js';
import { Batcher } from './batcher.js';
import { errorHandler } from './http-errors.js';
import { infoRoutes } from './info-routes.js';
import { IMAGE_TYPES } from './schemas.js';
import { scoreRoute } from './score-route.js';
import type { ServedModel } from './served-model.js';

export interface ServeLimits {
  /** The most images scored in one call. */
  maxBatch: number;
  /** The most requests waiting to be scored; more get 503 with Retry-After. */
  queue: number;
  /** The largest upload in bytes; larger ones get 413. */
  maxBytes: number;
  /** How long a lone request waits for others to share its batch, in ms (default 5). */
  windowMs?: number;
  /** Uploads decoded at once (default twice libuv's thread pool). */
  decodeSlots?: number;
}

/** The batching window when none is given: long enough for requests sent together to meet, short beside a network forward. */
export const DEFAULT_WINDOW_MS = 5;

function checkLimits(l: ServeLimits): void {
  if (!Number.isInteger(l.maxBytes) || l.maxBytes < 1) throw new SpotdiffError('ERR_BAD_INPUT', `the upload limit must be a positive integer of bytes, got ${l.maxBytes}`);
}

/**
 * The inspection server as a fastify instance (not listening: call listen(), or inject() in
 * tests; more routes may be registered before either): POST /v1/score, GET /v1/health, GET /v1/model. It owns the model's scorer: close()
 * stops taking requests (new ones get 503, idle connections are closed), lets every accepted
 * request finish, then disposes the scorer.
 */
export function createServeApp(model: ServedModel, limits: ServeLimits): FastifyInstance {
  checkLimits(limits);
  const [height, width] = model.info.resize;
  const batching = { maxBatch: limits.maxBatch, queue: limits.queue, windowMs: limits.windowMs ?? DEFAULT_WINDOW_MS };
  const batcher = new Batcher(model.scorer, [3, height, width], batching);
  const slots = new DecodeSlots(limits.decodeSlots ?? defaultDecodeSlots());
  const app = Fastify({ logger: false, bodyLimit: limits.maxBytes, return503OnClosing: true, forceCloseConnections: 'idle' });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([...IMAGE_TYPES], { parseAs: 'buffer', bodyLimit: limits.maxBytes }, (_req, body, done) => done(null, body));
  app.setErrorHandler(errorHandler(limits.maxBytes));
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: 'ERR_NOT_FOUND', message: `no route ${req.method} ${req.url}; the routes are POST /v1/score, GET /v1/health, GET /v1/model` });
  });
  scoreRoute(app, model, batcher, slots);
  infoRoutes(app, model, batcher, batching);
  // While closing, answered connections are closed too: a client's idle keep-alive connection
  // would otherwise hold close() open until its timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('onClose', async () => {
    await batcher.idle();
    await model.scorer.dispose();
  });
  return app;
}
