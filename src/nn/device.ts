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

/**
 * Builds what `make` makes (a module, or something that holds one: `moduleOf` finds it) on the
 * CPU and, for another device, a twin there that takes the CPU one's state: random
 * initialisations then do not depend on the device (CUDA's generator draws other numbers for
 * the same seed), as the backbones are drawn. On the CPU it is one build, as before.
 */
export function drawnOnCpu<M extends Module>(make: () => M, device: T.Device): M;
export function drawnOnCpu<M>(make: () => M, device: T.Device, moduleOf: (m: M) => Module): M;
export function drawnOnCpu<M>(make: () => M, device: T.Device, moduleOf: (m: M) => Module = (m) => m as unknown as Module): M {
  const cpu = withDefaultDevice('cpu', make);
  if (device === 'cpu') return cpu;
  try {
    const moved = withDefaultDevice(device, make);
    moduleOf(moved).loadStateDict(moduleOf(cpu).stateDict());
    return moved;
  } finally {
    moduleOf(cpu).dispose();
  }
}

/** The device a module's parameters live on ('cpu' for a module without any). */
export function moduleDevice(m: Module): T.Device {
  return m.parameters()[0]?.device ?? 'cpu';
}
