import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { SpotdiffError } from '../util/errors.js';
import { startThreads } from './start-threads.js';

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
  /** The addon makes its own CUDA runtime calls (cuda_mem_info): built with CUDA's runtime headers. */
  cudaRuntime: boolean;
  systemLibtorch: boolean;
  /** The libtorch library file this process loaded ('' when the platform cannot say). */
  libraryPath: string;
  cudaAvailable: boolean;
  cudaDeviceCount: number;
  mkldnn: boolean;
  openmp: boolean;
  threads: number;
  /** The pool size of the OpenBLAS that libtorch multiplies matrices with (0 when it uses another BLAS). */
  blasThreads: number;
  parallelInfo: string;
  malloc: MallocSetting;
}

/**
 * The glibc allocator thresholds the addon chose at load (native/src/malloc_tuning.cc): 'tuned'
 * (set by spotdiff), 'user' (MALLOC_*_THRESHOLD_ or GLIBC_TUNABLES set them; the figures are the
 * user's), 'default' (SPOTDIFF_MALLOC=default) or 'unsupported' (not glibc). null: glibc's own.
 */
export interface MallocSetting {
  mode: 'tuned' | 'user' | 'default' | 'unsupported';
  mmapThreshold: number | null;
  trimThreshold: number | null;
}

/** Which libtorch the addon was built against, as scripts/build-native.mjs recorded it. */
export interface BuildConfig {
  source: 'system' | 'LIBTORCH';
  /** The folder holding ATen/ATen.h. */
  headers: string;
  include: string[];
  libdir: string;
  cuda: boolean;
  /** The addon's own CUDA runtime calls (device memory for the image cache); absent in builds before it. */
  cudaRuntime?: { on: boolean; reason: string };
  cxx11Abi: string;
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
const buildConfigPath = new URL('../../../native/build/Release/build-config.json', import.meta.url).pathname;

function load(): NativeAddon {
  if (!existsSync(addonPath)) {
    throw new SpotdiffError('ERR_NOT_FOUND', `the native addon is not built (${addonPath}); run: npm run build`);
  }
  const require = createRequire(import.meta.url);
  const addon = require(addonPath) as NativeAddon;
  addon.setNumThreads(startThreads());
  return addon;
}

export const native: NativeAddon = load();

/** The libtorch the addon was built against, or null when the build did not record it. */
export function buildConfig(): BuildConfig | null {
  if (!existsSync(buildConfigPath)) return null;
  try {
    const c = JSON.parse(readFileSync(buildConfigPath, 'utf8')) as Partial<BuildConfig>;
    return typeof c.headers === 'string' && typeof c.libdir === 'string' ? (c as BuildConfig) : null;
  } catch {
    return null;
  }
}

/**
 * Calls a native op. Its errors name the op and its arguments' shapes, with code ERR_TORCH
 * (libtorch or C++ failed) or ERR_BAD_INPUT (an argument of the wrong kind, a non-integer
 * where an integer belongs); both become SpotdiffErrors so callers handle one error type.
 */
export function callOp(name: string, args: readonly OpArg[]): unknown {
  try {
    return native.op(name, args);
  } catch (e) {
    const err = e as Error & { code?: string; op?: string };
    const message = err.op === undefined ? `${name}: ${err.message}` : err.message;
    throw new SpotdiffError(err.code === 'ERR_TORCH' ? 'ERR_TORCH' : 'ERR_BAD_INPUT', message, { cause: e });
  }
}
