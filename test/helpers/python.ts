import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { referenceThreadEnv } from './threads.js';

/**
 * The Python that has Debian's python3-torch, torchvision, numpy and scikit-learn: the
 * independent references the tests compare against. PATH may hold another python3 (pyenv),
 * so the system one is preferred; SPOTDIFF_PYTHON overrides.
 */
export const python: string = process.env.SPOTDIFF_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

/**
 * Runs Python source with arguments; returns stdout. Throws with stderr on failure. Python's
 * torch and BLAS get this process's thread counts (./threads.ts), so the two sides reduce alike.
 */
export function runPython(source: string, args: string[] = [], timeoutMs = 300_000): string {
  const r = spawnSync(python, ['-c', source, ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, ...referenceThreadEnv(), PYTHONHASHSEED: '0' },
  });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Runs Python source that prints one JSON value; returns it parsed. */
export function pythonJson<T>(source: string, args: string[] = [], timeoutMs?: number): T {
  return JSON.parse(runPython(source, args, timeoutMs)) as T;
}
