import { availableParallelism } from 'node:os';

/**
 * The thread count the engine starts with (libtorch's intra-op pool and OpenBLAS's):
 * SPOTDIFF_THREADS, else OMP_NUM_THREADS, else every core. Debian's libtorch would start with
 * one intra-op thread. A count libtorch's int cannot hold falls back to every core.
 */
export function startThreads(env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = Number(env.SPOTDIFF_THREADS ?? env.OMP_NUM_THREADS);
  return Number.isInteger(fromEnv) && fromEnv > 0 && fromEnv < 2 ** 31 ? fromEnv : availableParallelism();
}
