import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { SpotdiffError } from '../util/errors.js';
import { intFlag } from './args.js';
import type { ProcessGroup } from '../distributed/process-group.js';

/** The flags of a multi-process run, as torchrun's: parseFlags options to spread into a command's. */
export const LAUNCH_FLAGS = {
  nproc: { type: 'string' },
  nnodes: { type: 'string' },
  'node-rank': { type: 'string' },
  master: { type: 'string' },
} as const;

export const LAUNCH_USAGE = `  --nproc N             run as N processes on this machine (data-parallel, as torchrun):
                        the batch is split across them, gradients are averaged each
                        step, the first process writes the files; one that fails stops
                        the others (exit code 1, naming its rank); with --device cuda
                        each process takes its own GPU and averages through NCCL
  --nnodes M --node-rank R --master ADDR:PORT
                        the same across M machines: start spotdiff on each with its R
                        (0..M-1); rank 0 listens on ADDR:PORT (default with one machine:
                        a free port on 127.0.0.1); GLOO_SOCKET_IFNAME=IF[,IF] names the
                        network interfaces to use, as with torch`;

export interface LaunchFlags {
  nproc: number;
  nnodes: number;
  nodeRank: number;
  master: { host: string; port: number } | null;
}

type LaunchValues = { nproc?: string; nnodes?: string; 'node-rank'?: string; master?: string };

/** The launch flags, checked; null when --nproc is not given (one process, as before). */
export function launchFlags(values: LaunchValues): LaunchFlags | null {
  if (values.nproc === undefined) {
    for (const f of ['nnodes', 'node-rank', 'master'] as const) {
      if (values[f] !== undefined) throw new SpotdiffError('ERR_USAGE', `--${f} needs --nproc`);
    }
    return null;
  }
  const nproc = intFlag(values.nproc, 'nproc', 1, 1, 1024);
  const nnodes = intFlag(values.nnodes, 'nnodes', 1, 1, 4096);
  const nodeRank = intFlag(values['node-rank'], 'node-rank', 0, 0, nnodes - 1);
  let master: LaunchFlags['master'] = null;
  if (values.master !== undefined) {
    const m = /^(.+):(\d+)$/.exec(values.master);
    const port = m ? Number(m[2]) : NaN;
    if (m === null || !(port >= 1 && port <= 65535)) throw new SpotdiffError('ERR_USAGE', `--master must be ADDR:PORT (port 1..65535), got "${values.master}"`);
    master = { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
  }
  if (nnodes > 1 && master === null) throw new SpotdiffError('ERR_USAGE', '--nnodes above 1 needs --master ADDR:PORT (where rank 0 listens)');
  return { nproc, nnodes, nodeRank, master };
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

/**
 * The launcher's side: starts this machine's workers, each running `spotdiff <verb> argv` with
 * its rank in the environment, and waits for them. Ctrl-C reaches the workers themselves (they
 * stop together after the current step); the launcher outlives them.
 */
export async function runLauncher(verb: string, argv: readonly string[], flags: LaunchFlags): Promise<number> {
  const { launchWorkers } = await import('../distributed/launch.js');
  const { requireBackend } = await import('../distributed/process-group.js');
  requireBackend('gloo');
  const master = flags.master ?? { host: '127.0.0.1', port: await freeLoopbackPort() };
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  try {
    const r = await launchWorkers({
      nproc: flags.nproc,
      nnodes: flags.nnodes,
      nodeRank: flags.nodeRank,
      masterHost: master.host,
      masterPort: master.port,
      command: process.execPath,
      args: [main, verb, ...argv],
      letOthersFinish: () => interrupted,
    });
    // After Ctrl-C the workers said themselves how they stopped.
    if (r.failed !== null && !interrupted) {
      const how = r.failed.signal !== null ? `was killed by ${r.failed.signal}` : `exited with code ${r.failed.exitCode}`;
      process.stderr.write(`spotdiff: rank ${r.failed.rank} ${how}; the other processes on this machine were stopped\n`);
    }
    return r.code;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/**
 * Inside a worker the launcher started: joins the job's group (null when not a worker), with
 * NCCL beside Gloo when the worker computes on a CUDA device. `timeoutMs`: how long each
 * collective may wait, `joinTimeoutMs` joining (defaults: ProcessGroup's).
 */
export async function joinLaunchedGroup(opts: { timeoutMs?: number; joinTimeoutMs?: number; device?: string } = {}): Promise<ProcessGroup | null> {
  const { workerPlaceFromEnv } = await import('../distributed/env.js');
  const place = workerPlaceFromEnv();
  if (place === null) return null;
  const { ProcessGroup } = await import('../distributed/process-group.js');
  const backend = opts.device?.startsWith('cuda') === true ? 'nccl' : 'gloo';
  return ProcessGroup.join({
    host: place.host, port: place.port, rank: place.rank, worldSize: place.worldSize, interfaces: place.interfaces, backend,
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.joinTimeoutMs !== undefined ? { joinTimeoutMs: opts.joinTimeoutMs } : {}),
  });
}

/** This worker's device: --device cuda becomes its own GPU (cuda:<local rank mod GPUs>). */
export async function launchedWorkerDevice(device: string): Promise<string> {
  if (device !== 'cuda') return device;
  const { engineInfo } = await import('../tensor/index.js');
  const { workerDevice, workerPlaceFromEnv } = await import('../distributed/env.js');
  return workerDevice(device, workerPlaceFromEnv()?.localRank ?? 0, engineInfo().cudaDeviceCount);
}

/** The launcher's check that --nproc workers on --device can each have a GPU (NCCL needs it). */
export async function checkLaunchDevice(device: string, launch: LaunchFlags): Promise<void> {
  const { engineInfo } = await import('../tensor/index.js');
  const { oneGpuPerWorker } = await import('../distributed/env.js');
  const why = oneGpuPerWorker(device, launch.nproc, engineInfo().cudaDeviceCount);
  if (why !== null) throw new SpotdiffError('ERR_USAGE', `--nproc ${launch.nproc} with --device ${device}: ${why}`);
}
