import * as T from '../tensor/index.js';
import { withDefaultDevice } from '../nn/device.js';
import { disposeModel, type LoadedModel } from '../detect/run/model-folder.js';
import { scoreTiled } from '../detect/run/tiles.js';
import type { TileConfig } from '../detect/common/tiling.js';
import { SpotdiffError } from '../util/errors.js';
import type { HostScores, Scorer } from './scorer.js';

/** Tiles per network call when a tiled model scores (scoreSamples' default batch). */
const TILES_PER_CALL = 8;

/**
 * The libtorch model folder as a Scorer: whole images through detector.score, or with
 * `tiling` through the tiled glue (tiles of the model's input size, stitched to full maps),
 * as predict scores them. It owns `model` and disposes it.
 */
export function libtorchScorer(model: LoadedModel, tiling: TileConfig | null): Scorer {
  const { detector } = model;
  let disposed = false;
  const whole = (images: Float32Array, shape: readonly [number, 3, number, number]): HostScores =>
    T.tidy(() => {
      const s = detector.score(T.tensor(images, [...shape], { device: detector.device }));
      const [, height, width] = s.maps.shape as [number, number, number];
      return { imageScores: s.imageScores.toFloat32(), maps: s.maps.toFloat32(), height, width };
    });
  return {
    engine: 'libtorch',
    device: detector.device,
    normalize: 'imagenet',
    async score(images, shape) {
      if (disposed) throw new SpotdiffError('ERR_DISPOSED', 'the model was disposed; the server is shutting down');
      return withDefaultDevice(detector.device, () => (tiling === null ? whole(images, shape) : scoreTiled(detector, images, shape, tiling, TILES_PER_CALL)));
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      disposeModel(model);
    },
  };
}
