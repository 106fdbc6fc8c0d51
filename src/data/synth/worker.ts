import { parentPort } from 'node:worker_threads';
import { renderAndEncode, type RenderJob } from './encode.js';

/** Worker thread of the synth render pool: draws and encodes the images it is sent. */
if (parentPort) {
  const port = parentPort;
  port.on('message', (msg: { id: number; job: RenderJob }) => {
    renderAndEncode(msg.job).then(
      (r) => {
        const transfer = [r.jpeg.buffer, ...(r.maskPng ? [r.maskPng.buffer] : [])] as ArrayBuffer[];
        port.postMessage({ id: msg.id, result: r }, transfer);
      },
      (e: unknown) => port.postMessage({ id: msg.id, error: (e as Error)?.message ?? String(e) }),
    );
  });
}
