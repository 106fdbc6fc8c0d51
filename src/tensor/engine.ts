import { native, buildConfig, type EngineInfo, type BuildConfig } from './native.js';
import { SpotdiffError } from '../util/errors.js';

export type { EngineInfo, BuildConfig };
/** The headers and libraries the addon was built against (null if the build did not record them). */
export { buildConfig };

/** What libtorch this build linked, and how it runs (for doctor and bug reports). */
export function engineInfo(): EngineInfo {
  return native.info();
}

const MAX_INT32 = 2 ** 31 - 1;

/**
 * Threads libtorch computes with: its intra-op pool and the pool of the OpenBLAS it multiplies
 * matrices with (sized apart, so both are set; Debian's build starts at 1 intra-op thread).
 */
export function setNumThreads(n: number): void {
  // libtorch takes an int and refuses n < 1.
  if (!Number.isInteger(n) || n < 1 || n > MAX_INT32) throw new SpotdiffError('ERR_BAD_INPUT', `setNumThreads: need an integer in [1, ${MAX_INT32}], got ${n}`);
  native.setNumThreads(n);
}

export function getNumThreads(): number {
  return native.getNumThreads();
}
