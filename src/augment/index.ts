/**
 * The augmentations' public surface: import * as A from '../augment/index.js'.
 *
 * All work on batches [N, 3, H, W] of float images in [0, 1] (normalise afterwards with
 * normalizeImages) on whatever device the batch is on. Randomness: every image draws its own
 * parameters from the project's seeded generator (src/util/random.ts, `Random`), on the host,
 * never from libtorch's global generator: the same seed gives the same augmentations on CPU and
 * CUDA, and augmenting does not shift the stream that initialises weights or drops out units.
 * Use one Random per purpose, e.g. `Random.derive(seed, 'spd', epoch, step)`. Each function
 * returns the parameters it drew, and the apply* functions replay given parameters.
 */
export { checkImages } from './check.js';
export { normalizeImages } from './normalize.js';
export * from './gaussian-blur.js';
export * from './color-jitter.js';
export * from './patch.js';
export * from './resized-crop.js';
export * from './global.js';
export * from './smooth-blend.js';
export * from './cutpaste.js';
export * from './kinds.js';
export { previewAugment, toRgbImages, type AugmentPreview } from './preview.js';
