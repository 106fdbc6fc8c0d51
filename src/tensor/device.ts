import { native } from './native.js';
import { SpotdiffError } from '../util/errors.js';

/** 'cpu', 'cuda' or 'cuda:N'. */
export type Device = string;

let defaultDevice: Device = 'cpu';

/** Where new tensors go when an op is not told; the same model code runs on CPU and CUDA. */
export function getDefaultDevice(): Device {
  return defaultDevice;
}

export function setDefaultDevice(device: Device): void {
  checkDevice(device);
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

function checkDevice(device: string): void {
  if (device === 'cpu') return;
  if (!/^cuda(:\d+)?$/.test(device)) throw new SpotdiffError('ERR_BAD_INPUT', `unknown device "${device}" (use cpu, cuda, cuda:N or auto)`);
  if (!cudaAvailable()) throw new SpotdiffError('ERR_BAD_INPUT', `device ${device} asked for, but this build of libtorch has no usable CUDA (see spotdiff doctor)`);
}
