import { availableParallelism } from 'node:os';

/**
 * The thread counts this test process computes with, which a PyTorch reference must share:
 * libtorch splits reductions (BatchNorm statistics, oneDNN convolution gradients, GEMMs) by
 * thread count, and another split rounds differently. Two pools count:
 * - libtorch's intra-op threads, which the engine sets at load from SPOTDIFF_THREADS, else
 *   OMP_NUM_THREADS, else every core (src/tensor/native.ts);
 * - OpenBLAS's own pool (Debian's libtorch links its pthread build): OpenBLAS sizes it once,
 *   when the library loads, from OPENBLAS_NUM_THREADS, GOTO_NUM_THREADS or OMP_NUM_THREADS,
 *   else every core, and at::set_num_threads never changes it. So a test that calls
 *   T.setNumThreads(1) still multiplies matrices on every core; a test that needs one thread
 *   imports ./one-thread.js first, which sets both before the engine loads.
 * Tests that compare with PyTorch therefore leave T.setNumThreads alone: the counts below hold
 * for the whole process, and runPython gives them to Python.
 */
export interface EngineThreads {
  intraOp: number;
  blas: number;
}

function positive(v: string | undefined): number | undefined {
  const n = Number(v);
  return v !== undefined && Number.isInteger(n) && n > 0 ? n : undefined;
}

/** The counts this process's engine uses (read from the environment it loaded with). */
export function engineThreads(env: NodeJS.ProcessEnv = process.env): EngineThreads {
  const cores = availableParallelism();
  return {
    intraOp: positive(env.SPOTDIFF_THREADS) ?? positive(env.OMP_NUM_THREADS) ?? cores,
    blas: positive(env.OPENBLAS_NUM_THREADS) ?? positive(env.GOTO_NUM_THREADS) ?? positive(env.OMP_NUM_THREADS) ?? cores,
  };
}

/**
 * Environment for a reference Python so that its torch runs with this process's counts:
 * OpenBLAS reads OPENBLAS_NUM_THREADS when it loads; torch starts at OMP_NUM_THREADS intra-op
 * threads, and the reference programs also call torch.set_num_threads with it (REFERENCE_THREADS).
 */
export function referenceThreadEnv(): Record<string, string> {
  const t = engineThreads();
  return { OMP_NUM_THREADS: String(t.intraOp), MKL_NUM_THREADS: String(t.intraOp), OPENBLAS_NUM_THREADS: String(t.blas) };
}

/** Python that sets torch's intra-op threads to this process's count (after `import torch`). */
export const PY_REFERENCE_THREADS = `torch.set_num_threads(int(__import__('os').environ['OMP_NUM_THREADS']))`;
