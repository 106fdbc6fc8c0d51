import { DataLoader } from '../../data/loader.js';
import type { Sample } from '../../data/datasets/sample.js';
import { Progress } from '../../util/progress.js';
import type { OnnxScorer } from './runtime.js';

/** Scores and maps of a list of images on the host (what detect/run/score.ts returns, without masks). */
export interface OnnxScoredImages {
  imageScores: Float32Array;
  /** One height × width map per image. */
  maps: Float32Array[];
  height: number;
  width: number;
}

/**
 * Decodes and resizes images as the libtorch path does (detect/run/score.ts: the same loader
 * and resize) but leaves them in [0, 1], since the graph normalises, and scores them in batches.
 */
export async function scoreSamplesOnnx(scorer: OnnxScorer, samples: readonly Sample[], o: { batchSize?: number; progressLabel?: string; quiet?: boolean } = {}): Promise<OnnxScoredImages> {
  const [height, width] = scorer.imageSize;
  const loader = new DataLoader(samples, { batchSize: o.batchSize ?? 8, preprocess: { resize: [height, width], normalize: null }, masks: false });
  const progress = new Progress({ total: samples.length, label: o.progressLabel ?? 'scoring', unit: 'img', enabled: !(o.quiet ?? false) });
  const out: OnnxScoredImages = { imageScores: new Float32Array(samples.length), maps: [], height, width };
  const plane = height * width;
  for await (const batch of loader) {
    const s = await scorer.score(batch.images, batch.samples.length);
    for (let i = 0; i < batch.samples.length; i++) {
      out.imageScores[out.maps.length] = s.imageScores[i] as number;
      out.maps.push(s.maps.slice(i * plane, (i + 1) * plane));
    }
    progress.tick(batch.samples.length);
  }
  progress.finish();
  return out;
}
