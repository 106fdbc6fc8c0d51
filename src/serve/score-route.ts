import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DecodeSlots } from '../data/decode-slots.js';
import type { Batcher } from './batcher.js';
import { heatmapPayload, type HeatmapPayload } from './heatmap.js';
import { scoreSchema, type HeatmapFlag } from './schemas.js';
import type { ServedModel } from './served-model.js';
import { prepareUpload } from './upload.js';

/** The JSON POST /v1/score answers. */
export interface ScoreResponse {
  score: number;
  /** score >= threshold. */
  anomalous: boolean;
  threshold: number;
  method: string;
  model: string;
  /** The uploaded image's size. */
  width: number;
  height: number;
  /** How many images were scored in the same call as this one. */
  batch: number;
  /** Time in the server, from the request's arrival to the response, in ms. */
  ms: number;
  /** With ?heatmap=1 (or true) for a model that localises defects; null otherwise. */
  heatmap: HeatmapPayload | null;
}

/**
 * POST /v1/score: the body is the image's bytes. The request takes a place in the queue
 * first (a full queue answers 503 before any decoding), decodes and preprocesses in parallel
 * with other requests (bounded by `slots`), then waits for its batch to be scored.
 */
export function scoreRoute(app: FastifyInstance, model: ServedModel, batcher: Batcher, slots: DecodeSlots): void {
  const { info } = model;
  const threshold = info.threshold.value;
  // Arrival times, so that `ms` includes reading the upload.
  const arrived = new WeakMap<FastifyRequest, number>();
  app.addHook('onRequest', async (req) => {
    arrived.set(req, performance.now());
  });
  app.post<{ Body: Buffer; Querystring: { heatmap: HeatmapFlag } }>('/v1/score', { schema: scoreSchema }, async (req): Promise<ScoreResponse> => {
    const place = batcher.reserve();
    let prepared;
    try {
      prepared = await slots.run(() => prepareUpload(req.body, info.inputImages, info.resize, model.scorer.normalize));
    } catch (e) {
      place.release();
      throw e;
    }
    const r = await place.submit(prepared.chw);
    const heatmap = (req.query.heatmap === 'true' || req.query.heatmap === '1') && info.localises ? await heatmapPayload(prepared.rgb, { width: r.width, height: r.height, data: r.map }, info.threshold.pixelValue) : null;
    return {
      score: r.score,
      anomalous: r.score >= threshold,
      threshold,
      method: info.method,
      model: model.name,
      width: prepared.info.width,
      height: prepared.info.height,
      batch: r.batchSize,
      ms: Math.round((performance.now() - (arrived.get(req) ?? 0)) * 100) / 100,
      heatmap,
    };
  });
}
