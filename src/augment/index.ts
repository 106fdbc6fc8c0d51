// The augmentations' public surface: import * as A from '../augment/index.js'.
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
