// The device a bench runs on (--device cpu|cuda, default cpu): both sides, spotdiff and the
// PyTorch reference, run there. On CUDA kernels are queued, so a timer read must wait for the
// device first. The engine has no synchronize op (native/src has none); reading a scalar with
// item() copies it to the host on the same stream, which waits for all work queued before it.
// waitForDevice() does that; the Python references call torch.cuda.synchronize().
import * as T from '../../src/tensor/index.js';
import { usageExit, type BenchDevice } from './device-flag.js';

export { benchDevice, type BenchDevice } from './device-flag.js';

/**
 * Fails clearly (exit 2, "no CUDA device") when CUDA is asked for and the loaded libtorch has
 * no usable CUDA, before any child process starts; otherwise makes it the engine's default.
 */
export function useDevice(device: BenchDevice): void {
  if (device === 'cuda' && !T.cudaAvailable()) {
    const info = T.engineInfo();
    usageExit(`no CUDA device: the loaded libtorch ${info.torchVersion} ${info.builtWithCuda ? 'was built with CUDA but sees no GPU' : 'was built without CUDA'} (see spotdiff doctor; build against a CUDA libtorch with LIBTORCH=<dir>)`);
  }
  T.setDefaultDevice(device);
}

/** Waits until the work queued on `device` has run (a no-op on the CPU). */
export function waitForDevice(device: BenchDevice): void {
  if (device === 'cpu') return;
  T.tidy(() => T.zeros([1], { device }).item());
}
