import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// What the benchmarks share: each measurement runs in its own process (so its peak RSS is its
// own), spotdiff and the PyTorch reference in turn, on the same thread count.

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The Python with Debian's torch/torchvision (PATH may hold another); SPOTDIFF_PYTHON overrides. */
export const referencePython: string = process.env.SPOTDIFF_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * Runs one measurement child limited to `threads` (libtorch, OpenMP and MKL alike) and parses
 * the JSON object on the last line of its stdout (or, when that line is no whole object, all of
 * stdout: a CLI's pretty-printed --json). `showProgress` passes the child's stderr
 * through (long runs); otherwise it is kept for the error message.
 */
export function runMeasurement<M>(cmd: string, args: readonly string[], threads: number, showProgress = false): M {
  const env = { ...process.env, SPOTDIFF_THREADS: String(threads), OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, cwd: repoRoot, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', showProgress ? 'inherit' : 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status})${showProgress ? '' : `:\n${r.stderr}`}`);
  const out = r.stdout.trim();
  try {
    return JSON.parse(out.split('\n').pop() ?? '') as M;
  } catch {
    return JSON.parse(out) as M;
  }
}
