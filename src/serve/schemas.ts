/**
 * JSON schemas of the server's routes: fastify validates requests against them (400 on a
 * mismatch) and serialises responses through them (fields not listed are not sent).
 */

/** The media types POST /v1/score takes as its body (the image bytes, as is). */
export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/bmp', 'image/tiff', 'image/webp', 'application/octet-stream'] as const;

/** ?heatmap=1 (or true) asks for the heatmap; 0, false or absent does not. */
export type HeatmapFlag = '0' | '1' | 'false' | 'true';

const errorBody = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string' }, message: { type: 'string' } },
} as const;

const heatmap = {
  type: ['object', 'null'],
  required: ['overlay', 'mask', 'range'],
  properties: {
    overlay: { type: 'string', contentEncoding: 'base64', contentMediaType: 'image/png' },
    mask: { type: 'string', contentEncoding: 'base64', contentMediaType: 'image/png' },
    range: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 },
  },
} as const;

export const scoreSchema = {
  headers: {
    type: 'object',
    required: ['content-type'],
    properties: { 'content-type': { type: 'string' } },
  },
  querystring: {
    type: 'object',
    properties: { heatmap: { type: 'string', enum: ['0', '1', 'false', 'true'], default: '0' } },
    additionalProperties: false,
  },
  response: {
    200: {
      type: 'object',
      required: ['score', 'anomalous', 'threshold', 'method', 'model', 'width', 'height', 'batch', 'ms', 'heatmap'],
      properties: {
        score: { type: 'number' },
        anomalous: { type: 'boolean' },
        threshold: { type: 'number' },
        method: { type: 'string' },
        model: { type: 'string' },
        width: { type: 'integer' },
        height: { type: 'integer' },
        batch: { type: 'integer' },
        ms: { type: 'number' },
        heatmap,
      },
    },
    '4xx': errorBody,
    '5xx': errorBody,
  },
} as const;

export const healthSchema = {
  response: {
    200: {
      type: 'object',
      required: ['status', 'model', 'method', 'engine', 'device', 'version', 'uptimeS', 'queue'],
      properties: {
        status: { type: 'string' },
        model: { type: 'string' },
        method: { type: 'string' },
        engine: { type: 'string' },
        device: { type: 'string' },
        version: { type: 'string' },
        uptimeS: { type: 'number' },
        queue: {
          type: 'object',
          properties: {
            capacity: { type: 'integer' },
            maxBatch: { type: 'integer' },
            windowMs: { type: 'number' },
            waiting: { type: 'integer' },
            scoring: { type: 'integer' },
            batches: { type: 'integer' },
            images: { type: 'integer' },
            refused: { type: 'integer' },
            batchSizes: { type: 'object', additionalProperties: { type: 'integer' } },
          },
        },
      },
    },
  },
} as const;

export const modelSchema = {
  response: {
    200: {
      type: 'object',
      required: ['model', 'method', 'localises', 'engine', 'device', 'backbone', 'inputImages', 'preprocess', 'threshold'],
      properties: {
        model: { type: 'string' },
        method: { type: 'string' },
        localises: { type: 'boolean' },
        engine: { type: 'string' },
        device: { type: 'string' },
        backbone: { type: 'string' },
        inputImages: { type: 'object', properties: { width: { type: 'integer' }, height: { type: 'integer' }, channels: { type: 'integer' } } },
        preprocess: { type: 'object', properties: { width: { type: 'integer' }, height: { type: 'integer' }, normalize: { type: 'string' } } },
        tiling: { type: ['object', 'null'], properties: { size: { type: 'integer' }, overlap: { type: 'integer' } } },
        threshold: { type: 'object', properties: { value: { type: 'number' }, pixelValue: { type: 'number' }, source: { type: 'string' }, quantile: { type: ['number', 'null'] } } },
        // An exported graph records the object but not the training set's name, size or date: null.
        training: { type: 'object', properties: { dataset: { type: ['string', 'null'] }, object: { type: 'string' }, fitImages: { type: ['integer', 'null'] }, created: { type: ['string', 'null'] } } },
        spotdiffVersion: { type: 'string' },
      },
    },
  },
} as const;
