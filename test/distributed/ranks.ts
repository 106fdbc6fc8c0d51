import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A TCP port that was free a moment ago on loopback (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface RankResult {
  rank: number;
  code: number | null;
  stdout: string;
  stderr: string;
  /** The JSON line the worker printed last (null when it printed none). */
  result: unknown;
}

const workerPath = new URL('./worker.js', import.meta.url).pathname;

/**
 * Runs test/distributed/worker.ts as `world` processes on loopback, one thread each, with the
 * rank variables a launcher sets (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT); resolves when all
 * have exited. A worker still running after `killAfterMs` is killed (a hang fails the test, not CI).
 */
export async function runRanks(scenario: string, world: number, opts: { killAfterMs?: number; env?: Record<string, string> } = {}): Promise<RankResult[]> {
  const port = await freePort();
  const runs = Array.from({ length: world }, (_, rank) => runOne(scenario, rank, world, port, opts));
  return Promise.all(runs);
}

function runOne(scenario: string, rank: number, world: number, port: number, opts: { killAfterMs?: number; env?: Record<string, string> }): Promise<RankResult> {
  const threads = { SPOTDIFF_THREADS: '1', OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const env = { ...process.env, ...threads, RANK: String(rank), WORLD_SIZE: String(world), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), ...opts.env };
  const child = spawn(process.execPath, [workerPath, scenario], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 60_000);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').at(-1) ?? '';
      let result: unknown = null;
      try {
        result = JSON.parse(last);
      } catch {
        result = null;
      }
      resolve({ rank, code, stdout, stderr, result });
    });
  });
}
