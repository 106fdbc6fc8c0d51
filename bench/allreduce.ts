// all_reduce (sum) over Gloo on loopback between 2 processes of one thread each: 25 MiB (one
// DDP-sized bucket), 100 MiB, and a small tensor for the fixed cost; then averageGradients of
// ResNet-18's parameter shapes (11.7 M floats, 25 MiB buckets). Prints median and minimum ms as
// rank 0 sees them. The script starts its second rank itself (RANK unset = the launcher).
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import * as T from '../src/tensor/index.js';
import { ProcessGroup, averageGradients } from '../src/distributed/index.js';
import { resnet18 } from '../src/models/resnet.js';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

function time(label: string, reps: number, g: ProcessGroup, run: () => void): void {
  const ms: number[] = [];
  for (let r = 0; r < reps; r++) {
    g.barrier();
    const t0 = process.hrtime.bigint();
    run();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((x, y) => x - y);
  if (g.rank === 0) console.log(`${label.padEnd(44)} median ${ms[ms.length >> 1]!.toFixed(2).padStart(9)} ms   min ${ms[0]!.toFixed(2).padStart(9)} ms`);
}

function worker(): void {
  const g = ProcessGroup.join({ host: '127.0.0.1', port: Number(process.env.MASTER_PORT), rank: Number(process.env.RANK), worldSize: 2, timeoutMs: 60_000 });
  if (g.rank === 0) console.log(`2 ranks, threads ${T.getNumThreads()} each, backend ${g.backend}`);
  const small = T.ones([256]);
  const mb25 = T.ones([(25 * 1024 * 1024) / 4]);
  const mb100 = T.ones([(100 * 1024 * 1024) / 4]);
  time('all_reduce 1 KiB', 50, g, () => g.allReduce([small]));
  time('all_reduce 25 MiB float32', 10, g, () => g.allReduce([mb25]));
  time('all_reduce 100 MiB float32', 5, g, () => g.allReduce([mb100]));
  const model = resnet18();
  for (const p of model.parameters()) p.setGrad(T.onesLike(p));
  const floats = model.parameters().reduce((n, p) => n + p.size, 0);
  time(`averageGradients ResNet-18 (${(floats / 1e6).toFixed(1)} M floats)`, 5, g, () => averageGradients(g, model));
  g.destroy();
}

async function launch(): Promise<void> {
  const port = await freePort();
  const env = { ...process.env, SPOTDIFF_THREADS: '1', OMP_NUM_THREADS: '1', MASTER_PORT: String(port) };
  const codes = await Promise.all([0, 1].map((rank) => new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [process.argv[1]!], { env: { ...env, RANK: String(rank) }, stdio: 'inherit' });
    child.on('close', resolve);
  })));
  if (codes.some((c) => c !== 0)) process.exit(1);
}

if (process.env.RANK === undefined) await launch();
else worker();
