// Data-parallel scaling on CPU: one ResNet-18 training step (SGD, cross-entropy, 10 classes) on
// a global batch of DP_BATCH (16) images of DP_SIZE (112) px, in 1 process and in 2 processes of
// one thread each, on loopback (Gloo). Prints the median step time and, for 2 processes, the
// part spent averaging gradients (bucketed all_reduce of 11.2 M floats): blocking after
// backward (averageGradients), and overlapped with backward (GradientReducer: the time is what
// finish() still waits after backward). The script starts its own workers (RANK unset = the launcher).
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import * as T from '../src/tensor/index.js';
import { GradientReducer, ProcessGroup, averageGradients } from '../src/distributed/index.js';
import { resnet18 } from '../src/models/resnet.js';
import { SGD, crossEntropy } from '../src/nn/index.js';

const batch = Number(process.env.DP_BATCH ?? 16);
const size = Number(process.env.DP_SIZE ?? 112);
const steps = Number(process.env.DP_STEPS ?? 6);
// Gradient bucket size (DP_BUCKET_MB, default DDP's 25 MiB) for both ways of averaging.
const bucketBytes = Math.round(Number(process.env.DP_BUCKET_MB ?? 25) * 2 ** 20);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;

function worker(): void {
  const world = Number(process.env.WORLD_SIZE);
  const rank = Number(process.env.RANK);
  const g = world > 1 ? ProcessGroup.join({ host: '127.0.0.1', port: Number(process.env.MASTER_PORT), rank, worldSize: world, timeoutMs: 120_000 }) : null;
  T.manualSeed(0);
  const model = resnet18({ numClasses: 10 });
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const overlap = process.env.DP_MODE === 'overlap';
  const reducer = g !== null && overlap ? new GradientReducer(g, model, { bucketBytes }) : null;
  const average = (): void => (reducer !== null ? reducer.finish() : g !== null ? averageGradients(g, model, { bucketBytes }) : undefined);
  const local = batch / world;
  const x = T.keep(T.randn([local, 3, size, size]));
  const y = T.keep(T.tensor(Int32Array.from({ length: local }, (_, i) => i % 10), [local], { dtype: 'int64' }));
  const stepMs: number[] = [];
  const commMs: number[] = [];
  for (let s = 0; s < steps + 1; s++) {
    g?.barrier();
    const t0 = performance.now();
    let comm = 0;
    T.tidy(() => {
      model.zeroGrad();
      crossEntropy(model.forward(x), y).backward();
      const c0 = performance.now();
      average();
      comm = performance.now() - c0;
      opt.step();
    });
    if (s > 0) {
      stepMs.push(performance.now() - t0);
      commMs.push(comm);
    }
  }
  const launched = reducer?.stats();
  reducer?.dispose();
  g?.destroy();
  if (rank === 0) {
    const line = `${world} process${world > 1 ? 'es' : ''} × ${T.getNumThreads()} thread, ${local} images each: step median ${median(stepMs).toFixed(0)} ms`;
    const how = overlap ? `overlapped with backward (${launched!.launchedInBackward} of ${launched!.buckets} buckets started during backward), waiting in finish()` : 'blocking after backward, averaging gradients';
    console.log(world > 1 ? `${line}, ${how} ${median(commMs).toFixed(0)} ms` : line);
  }
}

async function run(world: number, mode: 'blocking' | 'overlap' = 'blocking'): Promise<void> {
  const port = await freePort();
  const env = { ...process.env, SPOTDIFF_THREADS: '1', OMP_NUM_THREADS: '1', MASTER_PORT: String(port), WORLD_SIZE: String(world), DP_MODE: mode };
  const codes = await Promise.all(Array.from({ length: world }, (_, rank) => new Promise<number | null>((resolve) => {
    spawn(process.execPath, [process.argv[1]!], { env: { ...env, RANK: String(rank) }, stdio: 'inherit' }).on('close', resolve);
  })));
  if (codes.some((c) => c !== 0)) process.exit(1);
}

if (process.env.RANK === undefined) {
  console.log(`ResNet-18, global batch ${batch} at ${size} px, ${steps} timed steps, buckets of ${(bucketBytes / 2 ** 20).toFixed(1)} MiB`);
  await run(1);
  await run(2, 'blocking');
  await run(2, 'overlap');
} else {
  worker();
}
