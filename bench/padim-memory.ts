// PaDiM fit memory and time at WideResNet-50-2 sizes: layer1/2/3 = 256/512/1024 channels on
// 64/32/16-px grids (256 px input), 550 kept channels. Random features stand in for the
// backbone. Prints the model's bytes, the analytic peak and the measured peak RSS.
// Options (env): PADIM_GRID (64: the layer-1 grid side), PADIM_IMAGES (8), PADIM_BATCH (4),
// PADIM_SAVE (a folder: also saves the model there as safetensors, streamed tensor by tensor,
// and prints the RSS the save adds). --device cpu|cuda (default cpu): where the features and the
// fit live (on CUDA the peak RSS is host memory only).
import { parseArgs } from 'node:util';
import * as T from '../src/tensor/index.js';
import { benchDevice, useDevice } from './lib/device.js';
import { PadimFitter } from '../src/detect/padim/index.js';

const device = benchDevice(parseArgs({ options: { device: { type: 'string' } } }).values.device);
useDevice(device);
const grid = Number(process.env.PADIM_GRID ?? 64);
const images = Number(process.env.PADIM_IMAGES ?? 8);
const batch = Number(process.env.PADIM_BATCH ?? 4);
const d = 550;
const positions = grid * grid;
const gb = (b: number): string => `${(b / 1e9).toFixed(2)} GB`;

T.manualSeed(0);
const rssBefore = process.memoryUsage().rss;
const t0 = performance.now();
const fitter = new PadimFitter({ input: { backbone: 'wide_resnet50_2', weights: null, resize: null, crop: null, imageSize: [grid * 4, grid * 4] } });
let peak = 0;
const sample = (): void => {
  peak = Math.max(peak, process.memoryUsage().rss);
};
for (let seen = 0; seen < images; seen += batch) {
  const b = Math.min(batch, images - seen);
  T.tidy(() => {
    fitter.add(
      new Map([
        ['layer1', T.relu(T.randn([b, 256, grid, grid]))],
        ['layer2', T.relu(T.randn([b, 512, grid / 2, grid / 2]))],
        ['layer3', T.relu(T.randn([b, 1024, grid / 4, grid / 4]))],
      ]),
    );
  });
  sample();
}
const t1 = performance.now();
const model = fitter.finish();
sample();
const t2 = performance.now();
const probe = T.tidy(() => new Map([
  ['layer1', T.relu(T.randn([batch, 256, grid, grid]))],
  ['layer2', T.relu(T.randn([batch, 512, grid / 2, grid / 2]))],
  ['layer3', T.relu(T.randn([batch, 1024, grid / 4, grid / 4]))],
]));
for (const t of probe.values()) T.keep(t);
const s = model.scores(probe);
const t3 = performance.now();
const peakRss = Math.max(peak, process.resourceUsage().maxRSS * 1024);
const inverse = positions * d * d * 4;
const packed = positions * ((d * (d + 1)) / 2) * 8;
console.log(`engine: libtorch ${T.engineInfo().torchVersion}, ${T.getNumThreads()} threads, ${device}`);
console.log(`grid ${grid}×${grid} (${positions} positions), d = ${d}, ${images} random training images`);
console.log(`model: ${gb(model.bytes)} (inverse covariances ${gb(inverse)} float32 + mean)`);
console.log(`running sums: packed float64 upper triangles ${gb(packed)} (full float64 would be ${gb(positions * d * d * 8)})`);
console.log(`peak RSS: ${gb(peakRss)} (process before fit ${gb(rssBefore)}; analytic peak ≈ ${gb(Math.max(inverse, packed) + 2 * 64 * 2 ** 20)} + one batch)`);
console.log(`time: accumulate ${((t1 - t0) / 1000).toFixed(1)} s, finish (covariance + inverse) ${((t2 - t1) / 1000).toFixed(1)} s, score ${batch} images ${((t3 - t2) / 1000).toFixed(2)} s`);
console.log(`score check: ${s.imageScores.length} scores, first ${s.imageScores[0]?.toFixed(2)}`);
if (process.env.PADIM_SAVE !== undefined) {
  const { join } = await import('node:path');
  const { rm } = await import('node:fs/promises');
  const { tensorSource } = await import('../src/tensor/host.js');
  const { writeSafetensors } = await import('../src/tensor/io/index.js');
  const path = join(process.env.PADIM_SAVE, 'padim-memory.safetensors');
  const before = process.memoryUsage().rss;
  let high = before;
  const timer = setInterval(() => (high = Math.max(high, process.memoryUsage().rss)), 20);
  const t4 = performance.now();
  await writeSafetensors(path, new Map([...model.stateDict()].map(([k, v]) => [k, tensorSource(v)])));
  clearInterval(timer);
  high = Math.max(high, process.memoryUsage().rss);
  console.log(`save (streamed): ${gb(model.bytes)} in ${((performance.now() - t4) / 1000).toFixed(1)} s; RSS ${gb(before)} before, at most ${gb(high)} during (+${gb(high - before)})`);
  await rm(path, { force: true });
}
model.dispose();
