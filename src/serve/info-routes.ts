import type { FastifyInstance } from 'fastify';
import { spotdiffVersion } from '../util/version.js';
import type { Batcher, BatcherOptions } from './batcher.js';
import { healthSchema, modelSchema } from './schemas.js';
import { modelSummary, type ServedModel } from './served-model.js';

/** GET /v1/health (liveness, queue depth and batch counters) and GET /v1/model (the model's summary). */
export function infoRoutes(app: FastifyInstance, model: ServedModel, batcher: Batcher, limits: BatcherOptions): void {
  const started = performance.now();
  app.get('/v1/health', { schema: healthSchema }, async () => ({
    status: 'ok',
    model: model.name,
    method: model.info.method,
    engine: model.scorer.engine,
    device: model.scorer.device,
    version: spotdiffVersion(),
    uptimeS: Math.round(performance.now() - started) / 1000,
    queue: { capacity: limits.queue, maxBatch: limits.maxBatch, windowMs: limits.windowMs, ...batcher.stats() },
  }));
  const summary = modelSummary(model);
  app.get('/v1/model', { schema: modelSchema }, async () => summary);
}
