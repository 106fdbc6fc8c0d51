import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planImageCache, type CacheRequest } from '../../src/data/cache-plan.js';
import { defaultCacheBytes } from '../../src/data/image-cache.js';
import { isSpotdiffError } from '../../src/util/errors.js';

const GiB = 2 ** 30;

/** 1,000 images of 1 MiB on a GPU with `free` GiB free; counts how often its memory is asked. */
function request(over: Partial<CacheRequest>, free = 8): CacheRequest & { asked: () => number } {
  let asked = 0;
  return {
    place: 'auto',
    device: 'cuda',
    images: 1000,
    imageBytes: 2 ** 20,
    deviceMemory: () => (asked++, { free: free * GiB, total: 80 * GiB }),
    ...over,
    asked: () => asked,
  };
}

test('cache plan: auto takes a GPU when the whole set fits in a quarter of its free memory, else the host; the CPU is always host', () => {
  assert.deepEqual(planImageCache(request({}, 8)), { place: 'device', bytes: 1000 * 2 ** 20 });
  const tight = request({}, 3.5);
  assert.equal(planImageCache(tight).place, 'host', '~1 GB of images, 3.5 GB free: over a quarter');
  assert.equal(tight.asked(), 1);
  const cpu = request({ device: 'cpu' });
  assert.equal(planImageCache(cpu).place, 'host');
  assert.equal(cpu.asked(), 0, 'no device memory asked on the CPU');
  assert.ok(Math.abs(planImageCache(cpu).bytes - defaultCacheBytes()) < 256 * 2 ** 20, 'the host default: a quarter of free memory');
  assert.equal(planImageCache(request({ limitBytes: 500 * 2 ** 20 }, 80)).place, 'host', 'the user’s limit binds the device too');
  assert.deepEqual(planImageCache(request({ limitBytes: 0 }, 80)), { place: 'host', bytes: 0 }, 'limit 0: no cache anywhere');
  assert.deepEqual(planImageCache(request({ place: 'host', limitBytes: 123 }, 80)), { place: 'host', bytes: 123 });
  assert.equal(planImageCache(request({ deviceMemory: () => null })).place, 'host', 'a build that cannot ask the GPU keeps auto on the host');
});

test('cache plan: device asked for must hold the whole set (free memory, the limit); on the CPU it is one host tensor', () => {
  assert.deepEqual(planImageCache(request({ place: 'device' }, 1.5)), { place: 'device', bytes: 1000 * 2 ** 20 }, 'fits the free memory, past the quarter');
  assert.throws(() => planImageCache(request({ place: 'device' }, 0.5)), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /need 1000 MiB on cuda, which has 512 MiB free/.test(e.message));
  assert.throws(() => planImageCache(request({ place: 'device', limitBytes: 2 ** 20 }, 80)), /over the cache limit of 1 MiB/);
  assert.equal(planImageCache(request({ place: 'device', deviceMemory: () => null })).place, 'device', 'unknown free memory: allocating is the test');
  const cpu = request({ place: 'device', device: 'cpu' });
  assert.deepEqual(planImageCache(cpu), { place: 'device', bytes: 1000 * 2 ** 20 });
  assert.equal(cpu.asked(), 0);
});
