// Coreset selection time for a 200-image PatchCore bank: 200 × 28 × 28 = 156,800 patches of
// 1024 values (WideResNet-50-2 layer2+3 at 224 px), 10% kept = 15,680 greedy k-center picks on
// a 128-d random projection. Prints the projection and selection times.
// Options (env): CORESET_IMAGES (200), CORESET_BLOCK_ROWS (2048), CORESET_EAGER_STEPS (0: if > 0,
// also times that many steps of the official eager loop and extrapolates it), CORESET_SKIP_LAZY (0).
// --device cpu|cuda (default cpu): where the bank lives and the selection runs.
import { parseArgs } from 'node:util';
import * as T from '../src/tensor/index.js';
import { benchDevice, useDevice, waitForDevice } from './lib/device.js';
import { coresetProjection, coresetSize, coresetStartIndices, greedyCoreset } from '../src/detect/patchcore/coreset.js';

const device = benchDevice(parseArgs({ options: { device: { type: 'string' } } }).values.device);
useDevice(device);
const images = Number(process.env.CORESET_IMAGES ?? 200);
const blockRows = Number(process.env.CORESET_BLOCK_ROWS ?? 2048);
const eagerSteps = Number(process.env.CORESET_EAGER_STEPS ?? 0);
const skipLazy = process.env.CORESET_SKIP_LAZY === '1';
const n = images * 28 * 28;
const dim = 1024;
const count = coresetSize(n, 0.1);

T.manualSeed(0);
// Random features stand in for real ones: a worst case for the lazy update (no clusters, all
// blocks alike), so real banks select at least this fast.
const bank = T.keep(T.randn([n, dim]));
const t0 = performance.now();
const projection = coresetProjection(dim, 128, 0);
const points = T.keep(T.mm(bank, projection));
waitForDevice(device);
const t1 = performance.now();
const cpu1 = process.cpuUsage();
let last = 0;
const indices = skipLazy ? Int32Array.of(0) : greedyCoreset(points, {
  count,
  startIndices: coresetStartIndices(n, 10, 0),
  blockRows,
  onProgress: (done, total) => {
    const now = performance.now();
    if (now - last > 5000) {
      process.stderr.write(`  ${done}/${total} after ${((now - t1) / 1000).toFixed(1)} s\n`);
      last = now;
    }
  },
});
const t2 = performance.now();
const cpu = process.cpuUsage(cpu1);
const load = (await import('node:os')).loadavg()[0]!;
console.log(`engine: libtorch ${T.engineInfo().torchVersion}, ${T.getNumThreads()} threads, device ${device}`);
console.log(`bank: ${n} patches × ${dim} (${images} images × 28×28), keep 10% = ${count}`);
console.log(`projection to 128-d: ${((t1 - t0) / 1000).toFixed(2)} s`);
console.log(`greedy coreset selection (lazy blocks of ${blockRows} rows): ${((t2 - t1) / 1000).toFixed(2)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU (${indices.length} picks, ${(((t2 - t1) / count) * 1000).toFixed(0)} µs per pick)`);
console.log(`machine load average at the end: ${load.toFixed(1)} on ${(await import('node:os')).availableParallelism()} cores (timings scale with contention)`);

if (eagerSteps > 0) {
  // The official loop: every step a [N, 128] × [128, 1] product over the whole bank, then a min.
  let minDist = T.keep(T.tidy(() => T.full([n], Infinity)));
  const norms = T.keep(T.sum(T.mul(points, points), 1));
  const t3 = performance.now();
  let idx = indices[0]!;
  const cpuEager = process.cpuUsage();
  for (let s = 0; s < eagerSteps; s++) {
    const next = T.tidy(() => {
      const c = T.narrow(points, 0, idx, 1);
      const sq = T.squeeze(T.addmm(T.unsqueeze(norms, 1), points, T.transpose(c, 0, 1), 1, -2), 1);
      const d = T.sqrt(T.clamp(T.add(sq, T.narrow(norms, 0, idx, 1)), 0));
      const m = T.minimum(minDist, d);
      return { m, i: T.argmax(m) };
    });
    minDist.dispose();
    minDist = T.keep(next.m);
    idx = next.i.item();
    next.i.dispose();
  }
  const per = (performance.now() - t3) / eagerSteps;
  const c = process.cpuUsage(cpuEager);
  const perCpu = (c.user + c.system) / 1000 / eagerSteps;
  console.log(`official eager loop: ${per.toFixed(1)} ms wall, ${perCpu.toFixed(1)} ms CPU per pick -> ${((per * count) / 1000).toFixed(0)} s wall, ${((perCpu * count) / 1000).toFixed(0)} s CPU extrapolated for ${count} picks`);
}
