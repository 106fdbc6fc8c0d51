import type { Device, DeviceMemory } from '../tensor/index.js';
import { SpotdiffError } from '../util/errors.js';
import { defaultCacheBytes } from './image-cache.js';

/**
 * Where a training run keeps its decoded images: 'host', the loader's cache of 8-bit images
 * (image-cache.ts), filled up to its limit, every batch stacked and copied to the device each
 * step; or 'device', every image in one uint8 tensor on the training device
 * (device-image-store.ts), batches gathered there. 'auto' takes the device when it is a GPU and
 * the whole set fits in a quarter of its free memory (training needs the rest), else the host
 * (also when the build cannot ask the GPU: doctor says so).
 */
export const CACHE_PLACES = ['auto', 'host', 'device'] as const;
export type CachePlace = (typeof CACHE_PLACES)[number];

export interface CacheRequest {
  place: CachePlace;
  device: Device;
  /** Images in the training set and the bytes one takes at the training size (H × W × 3). */
  images: number;
  imageBytes: number;
  /** The user's limit in bytes (0: no cache at all); undefined: the default (a quarter of free host memory, or of the GPU's). */
  limitBytes?: number;
  /** The device's memory now, or null when it cannot be asked; asked only for a GPU. */
  deviceMemory: () => DeviceMemory | null;
}

export type CachePlan = { place: 'device'; bytes: number } | { place: 'host'; bytes: number };

const MiB = 2 ** 20;

export function planImageCache(r: CacheRequest): CachePlan {
  const need = r.images * r.imageBytes;
  if (r.limitBytes === 0) return { place: 'host', bytes: 0 };
  const host: CachePlan = { place: 'host', bytes: r.limitBytes ?? defaultCacheBytes() };
  const gpu = r.device.startsWith('cuda');
  if (r.place === 'host' || (r.place === 'auto' && !gpu)) return host;
  const fitsLimit = r.limitBytes === undefined || need <= r.limitBytes;
  if (r.place === 'auto') return fitsLimit && need <= (r.deviceMemory()?.free ?? 0) / 4 ? { place: 'device', bytes: need } : host;
  // Asked for the device: it must hold the whole set.
  if (!fitsLimit) throw new SpotdiffError('ERR_BAD_INPUT', `the images need ${mib(need)} on ${r.device}, over the cache limit of ${mib(r.limitBytes ?? 0)}`);
  if (gpu) {
    // Unknown free memory: allocating the store is the test.
    const free = r.deviceMemory()?.free ?? Infinity;
    if (need > free) throw new SpotdiffError('ERR_BAD_INPUT', `the images need ${mib(need)} on ${r.device}, which has ${mib(free)} free; cache them on the host`);
  }
  return { place: 'device', bytes: need };
}

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(0)} MiB`;
}
