import type { Command } from './command.js';
import { intFlag, parseFlags, requireFlag } from './args.js';
import { deviceFlag } from './device-flag.js';
import { engineFlag, onnxModelFile } from './engine-flag.js';
import { SpotdiffError } from '../util/errors.js';

const DEFAULTS = { port: 8080, host: '127.0.0.1', maxBatch: 8, queue: 64, maxBytes: 32 * 1024 * 1024 };

const usage = `usage: spotdiff serve --model MODEL [--port N] [--host H] [--max-batch B] [--queue Q]
                      [--max-bytes N] [--device cpu|cuda|auto] [--engine libtorch|onnx]

Serves a model folder from spotdiff fit over HTTP (JSON):
  POST /v1/score     body: the image's bytes (Content-Type image/png, image/jpeg, image/bmp,
                     image/tiff, image/webp or application/octet-stream) →
                     {score, anomalous, threshold, method, model, width, height, batch, ms, heatmap}.
                     anomalous is score >= the model's stored threshold. With ?heatmap=true a
                     model that localises defects also returns heatmap: {overlay, mask, range}
                     (base64 PNGs: the map over the image, coloured on the fixed scale range =
                     [0, 2 × pixel threshold], and the map thresholded at the pixel threshold).
  GET  /v1/health    status, model, version, queue depth and batch counters.
  GET  /v1/model     the model: method, input size, threshold, training data.
  GET  /             the inspection page, for a browser: scores a picked or dropped image
                     in the browser (ONNX Runtime Web) with GET /v1/model.onnx, the served
                     model as ONNX (exported on first request, then kept in memory; with
                     --engine onnx, the very file the server scores with).
Images must have the size and colour type of the model's training images (400 otherwise), as
in predict; a corrupt image is 400, an upload over --max-bytes 413, an unknown Content-Type 415.

Requests are decoded in parallel and scored in batches of up to --max-batch images (default
${DEFAULTS.maxBatch}): a batch waits at most 5 ms for more requests after its first one, and
requests that arrive while a batch is scored form the next. At most --queue requests (default
${DEFAULTS.queue}) wait to be scored; more get 503 with Retry-After. --max-bytes defaults to
${DEFAULTS.maxBytes} (32 MiB). --host defaults to ${DEFAULTS.host} (this machine only; 0.0.0.0
for every interface), --port to ${DEFAULTS.port} (0: any free port; the address is printed).
--device D (cpu, the default; cuda, cuda:N or auto) is where the model runs.
--engine onnx scores on ONNX Runtime (CPU, threads from SPOTDIFF_THREADS) without loading
libtorch: MODEL is a file from spotdiff export, or a model folder holding one as model.onnx.
Same scores and maps as the default engine (libtorch); --device is for libtorch only.

SIGINT or SIGTERM shuts down gracefully: no new requests are taken (503, new connections
refused), every accepted one is answered, the model is freed and the exit code is 0. A
second signal exits at once.`;

export const command: Command = {
  summary: 'serve a model over HTTP: POST an image, get its score, verdict and heatmap',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, {
      model: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'max-batch': { type: 'string' },
      queue: { type: 'string' },
      'max-bytes': { type: 'string' },
      device: { type: 'string' },
      engine: { type: 'string' },
    });
    const engine = engineFlag(values.engine);
    if (engine === 'onnx' && values.device !== undefined) throw new SpotdiffError('ERR_USAGE', '--device is for --engine libtorch; the ONNX engine runs on the CPU');
    const modelPath = requireFlag(values.model, 'model');
    const port = intFlag(values.port, 'port', DEFAULTS.port, 0, 65535);
    const host = values.host ?? DEFAULTS.host;
    const limits = {
      maxBatch: intFlag(values['max-batch'], 'max-batch', DEFAULTS.maxBatch, 1, 1024),
      queue: intFlag(values.queue, 'queue', DEFAULTS.queue, 1, 1_000_000),
      maxBytes: intFlag(values['max-bytes'], 'max-bytes', DEFAULTS.maxBytes, 1, 2 ** 31 - 1),
    };
    const { loadServedModel } = await import('../serve/served-model.js');
    const { createServeApp } = await import('../serve/app.js');
    const model = engine === 'onnx' ? await loadServedModel(onnxModelFile(modelPath), { engine }) : await loadServedModel(modelPath, { engine, device: await deviceFlag(values.device) });
    const app = createServeApp(model, limits);
    const { pageRoutes } = await import('../serve/page-routes.js');
    pageRoutes(app, { onnx: model.onnx, modelName: model.name });
    let address: string;
    try {
      address = await app.listen({ port, host });
    } catch (e) {
      await app.close();
      throw e;
    }
    process.stdout.write(`spotdiff serve: ${model.name} (${model.info.method}, ${model.scorer.engine} on ${model.scorer.device}) on ${address}\n`);
    const signal = await firstSignal();
    process.stderr.write(`spotdiff serve: ${signal}: finishing accepted requests (${signal} again to quit now)\n`);
    await app.close();
    process.stderr.write('spotdiff serve: stopped\n');
    return 0;
  },
};

/** Resolves on the first SIGINT or SIGTERM; a second one exits at once (128 + signal number). */
function firstSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const on = (signal: NodeJS.Signals): void => {
      if (received) process.exit(signal === 'SIGINT' ? 130 : 143);
      received = true;
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
