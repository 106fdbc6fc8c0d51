import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { isSpotdiffError } from '../util/errors.js';
import type { OnnxSource } from './model-onnx.js';

/** dist/web/inspect, built by scripts/build-web.mjs beside dist/src. */
export const PAGE_DIR = fileURLToPath(new URL('../../web/inspect/', import.meta.url));

/** Where GET / sends a browser: the page, with the server's own model preselected. */
export const PAGE_URL = '/page/index.html?model=/v1/model.onnx';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
};

/**
 * Cross-origin isolation lets ONNX Runtime Web use threads (SharedArrayBuffer); every resource
 * the page loads is same-origin, so nothing is blocked by it.
 */
function isolate(reply: FastifyReply): FastifyReply {
  return reply.header('cross-origin-opener-policy', 'same-origin').header('cross-origin-embedder-policy', 'require-corp');
}

function pageFiles(dir: string): Set<string> {
  try {
    return new Set(readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile() && TYPES[extname(e.name)] !== undefined).map((e) => e.name));
  } catch {
    return new Set();
  }
}

/**
 * The inspection page: GET / (redirect), GET /page/NAME (only the files the page build wrote,
 * listed once at start: no path from a request reaches the file system) and GET /v1/model.onnx
 * (the served model for the page to score with in the browser).
 */
export function pageRoutes(app: FastifyInstance, opts: { onnx: OnnxSource; modelName: string; dir?: string }): void {
  const dir = opts.dir ?? PAGE_DIR;
  const files = pageFiles(dir);
  const notBuilt = { error: 'ERR_NOT_FOUND', message: `the inspection page is not built (${dir} has no index.html): run node scripts/build-web.mjs` };
  app.get('/', async (_req, reply) => (files.has('index.html') ? reply.redirect(PAGE_URL) : reply.code(404).send(notBuilt)));
  app.get<{ Params: { name: string } }>('/page/:name', async (req, reply) => {
    const { name } = req.params;
    if (!files.has(name)) return reply.code(404).send(files.size === 0 ? notBuilt : { error: 'ERR_NOT_FOUND', message: `the page has no file ${JSON.stringify(name)}` });
    return isolate(reply).type(TYPES[extname(name)] as string).send(await readFile(join(dir, name)));
  });
  app.get('/page/', async (_req, reply) => reply.redirect(PAGE_URL));
  app.get('/v1/model.onnx', async (_req, reply) => {
    let bytes: Uint8Array;
    try {
      bytes = await opts.onnx();
    } catch (e) {
      // A model the exporter cannot write (a tiled one) is still served by POST /v1/score.
      const body = { error: isSpotdiffError(e) ? e.code : 'ERR_EXPORT', message: `this model has no ONNX form for the page: ${(e as Error).message}` };
      return reply.code(501).send(body);
    }
    return isolate(reply).type('application/octet-stream').header('content-disposition', `attachment; filename="${opts.modelName.replace(/[^\w.-]/g, '_')}.onnx"`).send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });
}
