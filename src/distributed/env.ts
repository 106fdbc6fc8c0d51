import { SpotdiffError } from '../util/errors.js';

/** This process's place in a job, as a launcher (spotdiff's, or torchrun) describes it. */
export interface WorkerPlace {
  rank: number;
  worldSize: number;
  localRank: number;
  host: string;
  port: number;
  /** The network interfaces Gloo binds to (GLOO_SOCKET_IFNAME, as torch reads it); [] = not named. */
  interfaces: string[];
}

/**
 * Reads RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT (torch's env:// convention);
 * and GLOO_SOCKET_IFNAME; null when RANK is not set (not started by a launcher). A set but
 * malformed value is an error.
 */
export function workerPlaceFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerPlace | null {
  if (env.RANK === undefined) return null;
  const int = (name: string, min: number): number => {
    const text = env[name];
    const v = Number(text);
    if (text === undefined || text.trim() === '' || !Number.isInteger(v) || v < min) {
      throw new SpotdiffError('ERR_BAD_INPUT', `${name} must be an integer ≥ ${min} (RANK is set, so a launcher must set ${name} too), got ${text === undefined ? 'nothing' : `"${text}"`}`);
    }
    return v;
  };
  const rank = int('RANK', 0);
  const worldSize = int('WORLD_SIZE', 1);
  if (rank >= worldSize) throw new SpotdiffError('ERR_BAD_INPUT', `RANK ${rank} is not below WORLD_SIZE ${worldSize}`);
  const host = env.MASTER_ADDR ?? '';
  if (host === '') throw new SpotdiffError('ERR_BAD_INPUT', 'MASTER_ADDR must be set (RANK is set, so a launcher must set it too)');
  const port = int('MASTER_PORT', 1);
  const localRank = env.LOCAL_RANK === undefined ? rank : int('LOCAL_RANK', 0);
  const interfaces = (env.GLOO_SOCKET_IFNAME ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  return { rank, worldSize, localRank, host, port, interfaces };
}

/**
 * The device of a worker asked to run on `device`: plain "cuda" on a machine of several workers
 * becomes cuda:<local rank mod the GPUs>, one GPU a worker as torchrun's jobs do; an explicit
 * cuda:N, cpu or a machine without GPUs is left as it is.
 */
export function workerDevice(device: string, localRank: number, cudaDevices: number): string {
  return device === 'cuda' && cudaDevices > 0 ? `cuda:${localRank % cudaDevices}` : device;
}

/**
 * Why `workers` processes on one machine cannot train on `device`, or null when they can. CUDA
 * ranks average through NCCL, which refuses two ranks on one GPU ("duplicate GPU"): each
 * worker needs a GPU of its own, so plain "cuda" with at most as many workers as GPUs, and an
 * explicit cuda:N for one worker only.
 */
export function oneGpuPerWorker(device: string, workers: number, cudaDevices: number): string | null {
  if (!device.startsWith('cuda') || workers <= 1) return null;
  if (device !== 'cuda') return `${workers} workers cannot share ${device}: NCCL takes one GPU a worker (ask for cuda, and each worker takes cuda:<local rank>)`;
  if (workers > cudaDevices) return `${workers} workers a machine need ${workers} GPUs for NCCL (one each), this machine has ${cudaDevices}`;
  return null;
}
