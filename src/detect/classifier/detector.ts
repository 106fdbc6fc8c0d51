import * as T from '../../tensor/index.js';
import type { ImageScores } from '../method.js';
import { maxPerImage } from '../common/anomaly-map.js';
import { constantMaps, TwoClassDetector } from '../twoclass/detector-base.js';
import type { ClassifierConfig } from './config.js';

/**
 * A trained 2-way ResNet: image score = softmax P(anomalous); its map is that score everywhere
 * (it does not localise). Tiled scoring: each tile's map is the tile's score, the stitched map
 * their cross-faded average, and the image score its maximum (the most anomalous region).
 */
export class ClassifierDetector extends TwoClassDetector<ClassifierConfig> {
  score(images: T.Tensor, opts: { imageSize?: readonly [number, number] } = {}): ImageScores {
    const [h, w] = opts.imageSize ?? this.config.input.imageSize;
    return T.noGrad(() =>
      T.tidy(() => {
        const p = this.probabilities(images);
        return { imageScores: p, maps: constantMaps(p, h, w) };
      }),
    );
  }

  tileMaps(tiles: T.Tensor): T.Tensor {
    return T.noGrad(() => T.tidy(() => constantMaps(this.probabilities(tiles), tiles.shape[2] as number, tiles.shape[3] as number)));
  }

  finishStitched(stitched: T.Tensor): ImageScores {
    return T.noGrad(() => T.tidy(() => ({ imageScores: maxPerImage(stitched), maps: T.clone(stitched) })));
  }

  /** P(anomalous) per image, [B]. */
  private probabilities(images: T.Tensor): T.Tensor {
    return T.tidy(() => T.clone(T.select(T.softmax(this.network.forward(images), 1), 1, 1)));
  }
}
