import { startThreads } from '../../src/tensor/start-threads.js';

/**
 * The thread count this test process computes with, which a PyTorch reference must share:
 * libtorch splits reductions (BatchNorm statistics, oneDNN convolution gradients, GEMMs) by
 * thread count, and another split rounds differently. The engine sets it at load, for its
 * intra-op pool and for OpenBLAS's own pool (Debian's libtorch links OpenBLAS, which
 * at::set_num_threads does not size), from SPOTDIFF_THREADS, else OMP_NUM_THREADS, else every
 * core. A test that needs one thread imports ./one-thread.js first, which sets it before the
 * engine loads. Tests that compare with PyTorch leave T.setNumThreads alone: the count holds
 * for the whole process, and runPython gives it to Python.
 */
export function engineThreads(env: NodeJS.ProcessEnv = process.env): number {
  return startThreads(env);
}

/**
 * Environment for a reference Python so that its torch runs with this process's counts:
 * OpenBLAS reads OPENBLAS_NUM_THREADS when it loads; torch starts at OMP_NUM_THREADS intra-op
 * threads, and the reference programs also call torch.set_num_threads with it (REFERENCE_THREADS).
 */
export function referenceThreadEnv(): Record<string, string> {
  const n = String(engineThreads());
  return { OMP_NUM_THREADS: n, MKL_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n };
}

/** Python that sets torch's intra-op threads to this process's count (after `import torch`). */
export const PY_REFERENCE_THREADS = `torch.set_num_threads(int(__import__('os').environ['OMP_NUM_THREADS']))`;
