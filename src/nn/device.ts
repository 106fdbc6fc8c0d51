import * as T from '../tensor/index.js';
import type { Module } from './module.js';

/**
 * Device helpers for pipelines that run on one device. They name the device of every tensor
 * they create (it follows the features, the model or the backbone) and also make `device` the
 * default while they fit or score, so that a creation deeper down which names none (an op of
 * another module) lands there too instead of on the CPU beside the device's tensors.
 */

/** Runs `f` with `device` as the default for new tensors; the previous default comes back after, also on a throw. */
export function withDefaultDevice<R>(device: T.Device, f: () => R): R {
  const previous = T.getDefaultDevice();
  T.setDefaultDevice(device);
  try {
    return f();
  } finally {
    T.setDefaultDevice(previous);
  }
}

/** The same around async work: the default is restored when the promise settles. */
export async function withDefaultDeviceAsync<R>(device: T.Device, f: () => Promise<R>): Promise<R> {
  const previous = T.getDefaultDevice();
  T.setDefaultDevice(device);
  try {
    return await f();
  } finally {
    T.setDefaultDevice(previous);
  }
}

/** The device a module's parameters live on ('cpu' for a module without any). */
export function moduleDevice(m: Module): T.Device {
  return m.parameters()[0]?.device ?? 'cpu';
}
