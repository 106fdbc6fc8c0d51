import { callOp, native, type NativeHandle } from './native.js';
import { Tensor } from './tensor.js';
import { SpotdiffError } from '../util/errors.js';

/** 'cpu', 'cuda' or 'cuda:N'. */
export type Device = string;

let defaultDevice: Device = 'cpu';

/** Where new tensors go when an op is not told; the same model code runs on CPU and CUDA. */
export function getDefaultDevice(): Device {
  return defaultDevice;
}

/** cuda:N also becomes the current CUDA device (torch.cuda.set_device), where work that names no device goes. */
export function setDefaultDevice(device: Device): void {
  checkDevice(device);
  if (/^cuda:\d+$/.test(device) && device !== defaultDevice) callOp('set_current_cuda_device', [device]);
  defaultDevice = device;
}

export function cudaAvailable(): boolean {
  return native.info().cudaAvailable;
}

/** 'auto' picks CUDA when the linked libtorch has it and a GPU is present. */
export function resolveDevice(requested: string): Device {
  if (requested === 'auto') return cudaAvailable() ? 'cuda' : 'cpu';
  checkDevice(requested);
  return requested;
}

/** A CUDA device's memory as its driver reports it now (every process's use counted), in bytes. */
export interface DeviceMemory {
  free: number;
  total: number;
}

/**
 * The memory of a CUDA device; null where this addon cannot ask (a CUDA build without CUDA's
 * runtime headers: see doctor). An error for the CPU.
 */
export function cudaMemoryInfo(device: Device): DeviceMemory | null {
  checkDevice(device);
  if (!device.startsWith('cuda')) throw new SpotdiffError('ERR_BAD_INPUT', `${device} is not a CUDA device: it has no device memory of its own`);
  if (!native.info().cudaRuntime) return null;
  const t = new Tensor(callOp('cuda_mem_info', [device]) as NativeHandle);
  try {
    const [free, total] = t.data();
    return { free: Number(free), total: Number(total) };
  } finally {
    t.dispose();
  }
}

/** Whether float32 CUDA work may use TensorFloat-32 tensor cores (10-bit mantissas; Ampere and later). */
export interface Tf32 {
  /** cuDNN convolutions (libtorch's and PyTorch's default: yes). */
  convolutions: boolean;
  /** cuBLAS matrix products (default: no). */
  matmul: boolean;
}

export function allowTf32(): Tf32 {
  const bits = callOp('allow_tf32', []) as number;
  return { convolutions: (bits & 2) !== 0, matmul: (bits & 1) !== 0 };
}

/** For the whole process (libtorch keeps one setting); no effect on CPU work. */
export function setAllowTf32(t: Tf32): void {
  callOp('set_allow_tf32', [t.convolutions, t.matmul]);
}

function checkDevice(device: string): void {
  if (device === 'cpu') return;
  if (!/^cuda(:\d+)?$/.test(device)) throw new SpotdiffError('ERR_BAD_INPUT', `unknown device "${device}" (use cpu, cuda, cuda:N or auto)`);
  if (!cudaAvailable()) throw new SpotdiffError('ERR_BAD_INPUT', `device ${device} asked for, but this build of libtorch has no usable CUDA (see spotdiff doctor)`);
}
