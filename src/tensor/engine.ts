import { native, type EngineInfo } from './native.js';

export type { EngineInfo };

/** What libtorch this build linked, and how it runs (for doctor and bug reports). */
export function engineInfo(): EngineInfo {
  return native.info();
}

/** Intra-op threads libtorch uses (Debian's build starts at 1 here: set it for speed). */
export function setNumThreads(n: number): void {
  native.setNumThreads(n);
}

export function getNumThreads(): number {
  return native.getNumThreads();
}
