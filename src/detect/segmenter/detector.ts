import * as T from '../../tensor/index.js';
import type { ImageScores } from '../method.js';
import { maxPerImage, upsampleScores } from '../common/anomaly-map.js';
import { TwoClassDetector } from '../twoclass/detector-base.js';
import type { SegmenterConfig, SegmenterImageScore } from './config.js';

/**
 * A trained U-Net: pixel score = sigmoid(logit) at the input size (bilinear to another size
 * when asked), image score = the map's maximum or its top-k mean. Tiled scoring: each tile's
 * sigmoid map, stitched; nothing is smoothed afterwards, so finishing is the image score alone.
 */
export class SegmenterDetector extends TwoClassDetector<SegmenterConfig> {
  score(images: T.Tensor, opts: { imageSize?: readonly [number, number] } = {}): ImageScores {
    const size = opts.imageSize ?? this.config.input.imageSize;
    return T.noGrad(() =>
      T.tidy(() => {
        const maps = this.pixelMaps(images, size);
        return { imageScores: imageScores(maps, this.config.imageScore), maps };
      }),
    );
  }

  tileMaps(tiles: T.Tensor): T.Tensor {
    return T.noGrad(() => T.tidy(() => this.pixelMaps(tiles, [tiles.shape[2] as number, tiles.shape[3] as number])));
  }

  finishStitched(stitched: T.Tensor): ImageScores {
    return T.noGrad(() => T.tidy(() => ({ imageScores: imageScores(stitched, this.config.imageScore), maps: T.clone(stitched) })));
  }

  /** sigmoid(logits) as [B, H, W] at `size`. */
  private pixelMaps(images: T.Tensor, size: readonly [number, number]): T.Tensor {
    return T.tidy(() => {
      const p = T.squeeze(T.sigmoid(this.network.forward(images)), 1);
      return p.shape[1] === size[0] && p.shape[2] === size[1] ? p : upsampleScores(p, size);
    });
  }
}

/** [B, H, W] maps → [B] image scores by the configured rule. */
export function imageScores(maps: T.Tensor, rule: SegmenterImageScore): T.Tensor {
  if (rule.rule === 'max') return maxPerImage(maps);
  return T.tidy(() => {
    const flat = T.reshape(maps, [maps.shape[0] as number, -1]);
    const k = Math.min(rule.topK, flat.shape[1] as number);
    return T.mean(T.topk(flat, k, 1)[0], 1);
  });
}
