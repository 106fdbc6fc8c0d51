// The tensor engine's public surface: import * as T from '../tensor/index.js'.
export { Tensor, liveTensorCount } from './tensor.js';
export { tidy, keep, dispose } from './scope.js';
export { noGrad, enableGrad } from './grad-mode.js';
export { withAutocast, autocastState, autocastDtypeOf, checkPrecision, PRECISIONS, type AutocastDType, type AutocastState, type Precision } from './autocast.js';
export { engineInfo, setNumThreads, getNumThreads } from './engine.js';
export { getDefaultDevice, setDefaultDevice, resolveDevice, cudaAvailable, cudaMemoryInfo, allowTf32, setAllowTf32, type Device, type DeviceMemory, type Tf32 } from './device.js';
export { type DType, type FloatDType, type IntDType, isFloatDType, DTYPES } from './dtype.js';
export * from './ops/creation.js';
export * from './ops/random.js';
export * from './ops/pointwise.js';
export * from './ops/reduce.js';
export * from './ops/shape.js';
export * from './ops/nn.js';
export * from './ops/loss.js';
export * from './ops/linalg.js';
export * from './ops/inplace.js';
export * from './ops/optim.js';
export * from './ops/memory-format.js';
