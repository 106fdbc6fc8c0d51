import type { Random } from '../../util/random.js';
import type { Canvas } from './raster.js';

/** VisA's three kinds of object. */
export type Domain = 'complex structure' | 'multiple instances' | 'single instance';

export interface SceneContext {
  /** This image's random stream: the scene and its defects are drawn from it. */
  rng: Random;
  /** Image side in pixels. */
  size: number;
  /** Seed of the product design shared by all images of the object (e.g. the board layout). */
  designSeed: number;
  /** Defect class ids (1-based indices into defectClasses) to apply, in order; [] for a normal image. */
  defects: readonly number[];
}

/** One sampled image: its scene and defects are fixed; `render(k)` draws it with the first k defects. */
export interface Scene {
  render(defectsApplied: number): Canvas;
}

/** A synthetic product: how to draw a normal image and each of its defect classes. */
export interface SynthObject {
  name: string;
  domain: Domain;
  /** Defect class names; the class id in masks is index + 1 (0 is background). */
  defectClasses: readonly string[];
  scene(ctx: SceneContext): Scene;
}
