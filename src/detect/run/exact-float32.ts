import * as T from '../../tensor/index.js';

/**
 * Detectors compute in IEEE float32 on a GPU: their scores must equal the CPU's within float
 * tolerance (a model fitted on one device is scored on the other), and TensorFloat-32
 * convolutions, libtorch's default on Ampere and later, round every convolution's inputs to
 * 10-bit mantissas (errors near 1e-3 that compound through a WideResNet-50). Pre-training keeps
 * libtorch's default, as PyTorch does. A process-wide libtorch setting, made when a detector is
 * fitted or loaded on a CUDA device.
 */
export function useExactFloat32On(device: T.Device): void {
  if (device.startsWith('cuda')) T.setAllowTf32({ convolutions: false, matmul: false });
}
