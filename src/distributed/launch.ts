import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { SpotdiffError } from '../util/errors.js';

export interface LaunchOptions {
  /** Workers on this machine. */
  nproc: number;
  /** Machines in the job, and this one's index (each runs its own launcher). */
  nnodes?: number;
  nodeRank?: number;
  /** Where rank 0 hosts the store (on node 0). */
  masterHost: string;
  masterPort: number;
  /** The program each worker runs and its arguments. */
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** How long stopped workers get between SIGTERM and SIGKILL (ms). */
  killGraceMs?: number;
  /**
   * Asked when a worker fails: true leaves the others running (after Ctrl-C every worker is
   * stopping on its own, at the same step, and must be let finish). Default: stop them.
   */
  letOthersFinish?: () => boolean;
}

export interface LaunchResult {
  /** 0 when every worker exited 0, else 1. */
  code: number;
  /** The global rank of the first worker that failed, and how (null when none failed). */
  failed: { rank: number; exitCode: number | null; signal: NodeJS.Signals | null } | null;
}

/** The variables torchrun gives each worker; src/distributed/env.ts reads them back. */
export function workerEnv(o: LaunchOptions, localRank: number): NodeJS.ProcessEnv {
  const nnodes = o.nnodes ?? 1;
  const rank = (o.nodeRank ?? 0) * o.nproc + localRank;
  const env: NodeJS.ProcessEnv = {
    ...(o.env ?? process.env),
    RANK: String(rank),
    LOCAL_RANK: String(localRank),
    WORLD_SIZE: String(nnodes * o.nproc),
    LOCAL_WORLD_SIZE: String(o.nproc),
    GROUP_RANK: String(o.nodeRank ?? 0),
    MASTER_ADDR: o.masterHost,
    MASTER_PORT: String(o.masterPort),
  };
  // Workers on one machine share its cores unless told otherwise (torchrun gives each one thread).
  if (o.nproc > 1 && env.SPOTDIFF_THREADS === undefined && env.OMP_NUM_THREADS === undefined) {
    env.SPOTDIFF_THREADS = String(Math.max(1, Math.floor(availableParallelism() / o.nproc)));
  }
  return env;
}

function checkLaunch(o: LaunchOptions): void {
  const int = (v: number | undefined, min: number): boolean => v === undefined || (Number.isInteger(v) && v >= min);
  if (!int(o.nproc, 1)) throw new SpotdiffError('ERR_BAD_INPUT', `workers per machine must be a positive integer, got ${o.nproc}`);
  if (!int(o.nnodes, 1)) throw new SpotdiffError('ERR_BAD_INPUT', `machines must be a positive integer, got ${o.nnodes}`);
  if (!int(o.nodeRank, 0) || (o.nodeRank ?? 0) >= (o.nnodes ?? 1)) {
    throw new SpotdiffError('ERR_BAD_INPUT', `the machine's rank must be in 0..${(o.nnodes ?? 1) - 1}, got ${o.nodeRank}`);
  }
}

/**
 * Starts this machine's workers, as torchrun does, and waits for them. When one fails (a
 * non-zero exit or a signal) the others are stopped (SIGTERM, then SIGKILL after the grace
 * period): a job with a dead rank cannot finish, and its peers would otherwise wait out their
 * timeouts. Resolves when every worker has exited.
 */
export async function launchWorkers(o: LaunchOptions): Promise<LaunchResult> {
  checkLaunch(o);
  const base = (o.nodeRank ?? 0) * o.nproc;
  const children: ChildProcess[] = [];
  let failed: LaunchResult['failed'] = null;
  let running = o.nproc;
  return new Promise((resolve) => {
    const stopOthers = (): void => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      const timer = setTimeout(() => {
        for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      }, o.killGraceMs ?? 5000);
      timer.unref();
    };
    for (let local = 0; local < o.nproc; local++) {
      const child = spawn(o.command, [...o.args], { env: workerEnv(o, local), stdio: 'inherit' });
      children.push(child);
      let ended = false;
      const onEnd = (exitCode: number | null, signal: NodeJS.Signals | null): void => {
        if (ended) return;
        ended = true;
        if ((exitCode !== 0 || signal !== null) && failed === null) {
          failed = { rank: base + local, exitCode, signal };
          if (o.letOthersFinish?.() !== true) stopOthers();
        }
        if (--running === 0) resolve({ code: failed === null ? 0 : 1, failed });
      };
      child.once('error', () => onEnd(null, null));
      child.once('exit', onEnd);
    }
  });
}
