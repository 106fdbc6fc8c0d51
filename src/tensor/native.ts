import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { SpotdiffError } from '../util/errors.js';

/** An opaque reference to one libtorch tensor owned by the addon. */
export type NativeHandle = { readonly __nativeTensor: unique symbol };

/** What may cross into an op: handles, numbers, booleans, strings, null, and arrays of those. */
export type OpArg = NativeHandle | number | boolean | string | null | readonly number[] | readonly NativeHandle[];

export type HostArray = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | BigInt64Array;

export interface NativeMeta {
  shape: number[];
  dtype: string;
  device: string;
  requiresGrad: boolean;
}

export interface EngineInfo {
  torchVersion: string;
  cxx11Abi: boolean;
  builtWithCuda: boolean;
  systemLibtorch: boolean;
  cudaAvailable: boolean;
  cudaDeviceCount: number;
  mkldnn: boolean;
  openmp: boolean;
  threads: number;
  parallelInfo: string;
}

/** The addon's whole surface (native/src/addon.cc). */
export interface NativeAddon {
  fromData(data: HostArray, shape: readonly number[], dtype: string, device: string): NativeHandle;
  toData(t: NativeHandle): HostArray;
  meta(t: NativeHandle): NativeMeta;
  free(t: NativeHandle): void;
  op(name: string, args: readonly OpArg[]): unknown;
  opNames(): string[];
  backward(t: NativeHandle, grad: NativeHandle | null, retainGraph: boolean, createGraph: boolean): void;
  grad(t: NativeHandle): NativeHandle | null;
  setGrad(t: NativeHandle, g: NativeHandle | null): void;
  setRequiresGrad(t: NativeHandle, on: boolean): void;
  setGradEnabled(on: boolean): boolean;
  manualSeed(seed: number): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  liveCount(): number;
  info(): EngineInfo;
}

const addonPath = new URL('../../../native/build/Release/spotdiff.node', import.meta.url).pathname;

function load(): NativeAddon {
  if (!existsSync(addonPath)) {
    throw new SpotdiffError('ERR_NOT_FOUND', `the native addon is not built (${addonPath}); run: npm run build`);
  }
  const require = createRequire(import.meta.url);
  const addon = require(addonPath) as NativeAddon;
  // Debian's libtorch starts with one intra-op thread; use every core unless told otherwise.
  const fromEnv = Number(process.env.SPOTDIFF_THREADS ?? process.env.OMP_NUM_THREADS);
  addon.setNumThreads(Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : availableParallelism());
  return addon;
}

export const native: NativeAddon = load();

/**
 * Calls a native op. libtorch's own errors arrive with code ERR_TORCH and a message that
 * names the op and its argument shapes; argument-type mistakes arrive as TypeErrors. Both
 * become SpotdiffErrors so callers handle one error type.
 */
export function callOp(name: string, args: readonly OpArg[]): unknown {
  try {
    return native.op(name, args);
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.code === 'ERR_TORCH') throw new SpotdiffError('ERR_TORCH', err.message, { cause: e });
    throw new SpotdiffError('ERR_BAD_INPUT', `${name}: ${err.message}`, { cause: e });
  }
}
