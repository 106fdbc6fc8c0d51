// Checkpoint I/O in plain TypeScript (no engine): host tensors, safetensors, PyTorch .pth.
export {
  type HostTensor,
  type TypedView,
  type TypedViewOf,
  ITEMSIZE,
  numelOf,
  hostTensor,
  hostTensorFrom,
  typedView,
  toFloat32,
  fromFloat32,
  float16BitsToNumber,
  numberToFloat16Bits,
  bfloat16BitsToNumber,
  numberToBfloat16Bits,
} from './host-tensor.js';
export { type StateDict, checkStateDict } from './state-dict.js';
export { type SafetensorsContent, type TensorSource, readSafetensors, decodeSafetensors, encodeSafetensors, writeSafetensors, hostSource } from './safetensors.js';
export { type ReadPthOptions, readPth, decodePth } from './pth.js';
