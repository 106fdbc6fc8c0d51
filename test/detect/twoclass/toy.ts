import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, ReLU, Sequential } from '../../../src/nn/index.js';
import type { Sample } from '../../../src/data/datasets/sample.js';
import type { TwoClassNetwork } from '../../../src/detect/twoclass/index.js';
import { Random } from '../../../src/util/random.js';

/**
 * A learnable toy task for the 2-class trainer: dark noisy images; an anomalous one has a
 * bright square (its mask marks the square). Files are PNGs of `size`×`size` pixels.
 */
export async function writeToyDataset(root: string, opts: { perClass?: number; size?: number; seed?: number; object?: string } = {}): Promise<Sample[]> {
  const n = opts.perClass ?? 12;
  const size = opts.size ?? 16;
  const object = opts.object ?? 'toy';
  const rng = new Random(opts.seed ?? 3);
  const samples: Sample[] = [];
  mkdirSync(join(root, object), { recursive: true });
  for (const label of ['normal', 'anomaly'] as const) {
    for (let i = 0; i < n; i++) {
      const px = Buffer.alloc(size * size * 3);
      for (let k = 0; k < px.length; k++) px[k] = Math.round(rng.uniform(20, 90));
      const mask = Buffer.alloc(size * size);
      if (label === 'anomaly') {
        const side = Math.max(3, Math.round(size / 3));
        const [top, left] = [rng.int(size - side + 1), rng.int(size - side + 1)];
        for (let y = top; y < top + side; y++) {
          for (let x = left; x < left + side; x++) {
            mask[y * size + x] = 255;
            px.fill(240, (y * size + x) * 3, (y * size + x) * 3 + 3);
          }
        }
      }
      const image = join(root, object, `${label}-${String(i).padStart(3, '0')}.png`);
      await sharp(px, { raw: { width: size, height: size, channels: 3 } }).png().toFile(image);
      let maskPath: string | null = null;
      if (label === 'anomaly') {
        maskPath = join(root, object, `${label}-${String(i).padStart(3, '0')}_mask.png`);
        await sharp(mask, { raw: { width: size, height: size, channels: 1 } }).png().toFile(maskPath);
      }
      samples.push({ image, label, mask: maskPath, object, defect: label === 'anomaly' ? 'square' : null, split: 'train' });
    }
  }
  return samples;
}

/** [B, 3, H, W] → [B, 1, H, W] logits: conv, BatchNorm (a buffer a resume must restore), ReLU, 1×1 conv. */
export function tinySegmenter(): TwoClassNetwork {
  return new Sequential(new Conv2d(3, 8, 3, { padding: 1, bias: false }), new BatchNorm2d(8), new ReLU(), new Conv2d(8, 1, 1));
}

/** [B, 3, H, W] → [B, 2] logits. */
export function tinyClassifier(): TwoClassNetwork {
  return new Sequential(new Conv2d(3, 8, 3, { padding: 1, bias: false }), new BatchNorm2d(8), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(8, 2));
}
