import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Random } from '../../src/util/random.js';

/**
 * A tiny folder-layout dataset for pre-training tests: `objects` products with `perObject`
 * normal PNGs each (smooth seeded colour fields with noise), `size`×`size` pixels.
 * Returns the root (a folder of product folders).
 */
export async function writeTinyImages(root: string, opts: { objects?: readonly string[]; perObject?: number; size?: number; seed?: number } = {}): Promise<string> {
  const objects = opts.objects ?? ['alpha', 'beta'];
  const n = opts.perObject ?? 4;
  const size = opts.size ?? 32;
  const rng = new Random(opts.seed ?? 7);
  for (const [o, object] of objects.entries()) {
    const dir = join(root, object, 'good');
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < n; i++) {
      const px = Buffer.alloc(size * size * 3);
      const [fx, fy] = [rng.uniform(0.1, 0.5), rng.uniform(0.1, 0.5)];
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          for (let c = 0; c < 3; c++) {
            const v = 128 + 80 * Math.sin(fx * x + (c + o) * 1.3) * Math.cos(fy * y + i) + rng.normal(0, 12);
            px[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
          }
        }
      }
      await sharp(px, { raw: { width: size, height: size, channels: 3 } }).png().toFile(join(dir, `${String(i).padStart(3, '0')}.png`));
    }
  }
  return root;
}
