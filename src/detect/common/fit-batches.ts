import { DataLoader } from '../../data/loader.js';
import { Progress } from '../../util/progress.js';
import type { FitContext } from '../method.js';
import { forEachTileBatch, imagesPerBatch } from './tiling.js';

/**
 * One pass over a fit's images as the network sees them: whole images resized to ctx.resize,
 * or (ctx.tile) the tiles of the resized images, at most ctx.batchSize per call of `use`.
 * Decoding runs ahead on the loader's threads; `use` gets host batches [n, 3, h, w] (ImageNet
 * normalised) and may free what it made of one as soon as it returns.
 */
export async function forEachFitBatch(ctx: FitContext, use: (images: Float32Array, shape: [number, number, number, number]) => void, label = 'features'): Promise<void> {
  const tile = ctx.tile;
  const images = tile === null ? ctx.batchSize : imagesPerBatch(ctx.resize[0], ctx.resize[1], tile, ctx.batchSize);
  const loader = new DataLoader(ctx.samples, { batchSize: images, preprocess: { resize: ctx.resize } });
  const progress = new Progress({ total: ctx.samples.length, label, unit: 'img', enabled: !ctx.quiet });
  for await (const batch of loader) {
    if (tile === null) use(batch.images, [...batch.shape]);
    else forEachTileBatch(batch.images, batch.shape, tile, ctx.batchSize, use);
    progress.tick(batch.samples.length);
  }
  progress.finish();
}
