import * as T from '../tensor/index.js';
import type { ResNet, ResNetArch } from '../models/resnet.js';
import { extractFeatures } from '../models/feature-extractor.js';
import { PadimFitter } from '../detect/padim/index.js';
import { PatchcoreFitter } from '../detect/patchcore/index.js';
import { batchFeatures, disposeFeatures } from '../models/feature-extractor.js';
import { fitHead, type FeatureHead, type FeatureHeadFitter } from '../detect/common/feature-head.js';
import type { FeatureMaps } from '../detect/common/features.js';
import { padimInfo } from '../detect/padim/info.js';
import { patchcoreInfo } from '../detect/patchcore/info.js';
import type { InputConfig } from '../detect/common/config.js';
import { binaryMetrics, mapsInMemory, pixelMetrics, type ScoreMap } from '../metrics/index.js';
import { disposeGaussian, fitShrunkGaussian, mahalanobis } from './gaussian.js';
import { knnScores } from './knn.js';
import { pooledEmbedding } from './step.js';
import type { ImageBatch } from './images.js';

export const SCORE_METHODS = ['gaussian', 'knn', 'padim', 'patchcore'] as const;
export type ScoreMethod = (typeof SCORE_METHODS)[number];

export interface ScoreOptions {
  method: ScoreMethod;
  arch: ResNetArch;
  /** Where the backbone came from, for the detector's input record. */
  weights: string | null;
  size: number;
  /** knn: neighbours averaged (default 5). */
  neighbours?: number;
  /** patchcore: coreset share (default 0.1). */
  coresetRatio?: number;
  seed?: number;
  /** Images per backbone call (default 16). */
  chunk?: number;
}

export interface TestScores {
  imageScores: Float64Array;
  /** One map per test image (size × size), padim/patchcore only. */
  maps: Float32Array[] | null;
}

/** Pooled embeddings [N, C] of normalised images, in chunks, without gradients. */
export function embedImages(backbone: ResNet, images: T.Tensor, chunk = 16): T.Tensor {
  backbone.eval();
  return T.noGrad(() =>
    T.tidy(() => {
      const n = images.shape[0] as number;
      const parts: T.Tensor[] = [];
      for (let i = 0; i < n; i += chunk) parts.push(pooledEmbedding(backbone, T.narrow(images, 0, i, Math.min(chunk, n - i))));
      return T.cat(parts, 0);
    }),
  );
}

function embedBatches(backbone: ResNet, test: readonly ImageBatch[]): T.Tensor {
  return T.tidy(() => T.cat(test.map((b) => embedImages(backbone, T.tensor(b.images, [...b.shape]))), 0));
}

/** The PaDiM or PatchCore head fitted on the support set's features, with the layers `spotdiff fit` gives it. */
function fitDetector(backbone: ResNet, support: T.Tensor, o: ScoreOptions): FeatureHead {
  const input: InputConfig = { backbone: o.arch, weights: o.weights, resize: null, crop: null, imageSize: [o.size, o.size] };
  const chunk = o.chunk ?? 16;
  const n = support.shape[0] as number;
  const layers = [...(o.method === 'padim' ? padimInfo : patchcoreInfo).defaultLayers];
  const fitter: FeatureHeadFitter<FeatureHead> =
    o.method === 'padim' ? new PadimFitter({ input, layers, seed: 1024 }) : new PatchcoreFitter({ input, layers, coreset: { ratio: o.coresetRatio ?? 0.1, seed: o.seed ?? 0 } });
  function* batches(): Generator<FeatureMaps> {
    for (let i = 0; i < n; i += chunk) {
      const f = T.noGrad(() => T.tidy(() => extractFeatures(backbone, T.narrow(support, 0, i, Math.min(chunk, n - i)), layers)));
      try {
        yield f;
      } finally {
        disposeFeatures(f);
      }
    }
  }
  return fitHead(fitter, batches());
}

/**
 * Scores the test images with the (fine-tuned) backbone, the scorer fitted on the support set
 * (normalised images [M, 3, H, W]): Gaussian (Mahalanobis), kNN, or the PaDiM / PatchCore
 * detectors on the backbone's feature maps (which also give pixel maps).
 */
export function scoreTestSet(backbone: ResNet, support: T.Tensor, test: readonly ImageBatch[], o: ScoreOptions): TestScores {
  backbone.eval();
  if (o.method === 'gaussian' || o.method === 'knn') {
    return T.tidy(() => {
      const normal = embedImages(backbone, support, o.chunk);
      const emb = embedBatches(backbone, test);
      if (o.method === 'knn') return { imageScores: knnScores(normal, emb, o.neighbours ?? 5), maps: null };
      const g = fitShrunkGaussian(normal);
      try {
        return { imageScores: mahalanobis(g, emb), maps: null };
      } finally {
        disposeGaussian(g);
      }
    });
  }
  const detector = fitDetector(backbone, support, o);
  try {
    const scores: number[] = [];
    const maps: Float32Array[] = [];
    const layers = detector.config.layers;
    for (const b of test) {
      const features = batchFeatures(backbone, b.images, b.shape, layers);
      try {
        const s = detector.scores(features);
        const plane = s.height * s.width;
        for (let i = 0; i < b.shape[0]; i++) {
          scores.push(s.imageScores[i] as number);
          maps.push(s.maps.slice(i * plane, (i + 1) * plane));
        }
      } finally {
        disposeFeatures(features);
      }
    }
    return { imageScores: Float64Array.from(scores), maps };
  } finally {
    detector.dispose();
  }
}

export interface RunMetrics {
  image: { aupr: number; auroc: number };
  /** Null without maps or without masks. */
  pixel: { aupr: number; auroc: number; aupro: number | null } | null;
}

/** Image AU-PR / AU-ROC, and pixel AU-PR / AU-ROC / AUPRO when there are maps and masks. */
export async function testMetrics(test: readonly ImageBatch[], scores: TestScores, size: number): Promise<RunMetrics> {
  const labels = test.flatMap((b) => Array.from(b.labels));
  const image = binaryMetrics(labels, scores.imageScores);
  let pixel: RunMetrics['pixel'] = null;
  const hasMasks = test.some((b) => b.masks !== null && b.masks.some((v) => v !== 0));
  if (scores.maps !== null && hasMasks) {
    const plane = size * size;
    const maps: ScoreMap[] = [];
    let i = 0;
    for (const b of test) {
      for (let j = 0; j < b.shape[0]; j++, i++) {
        const mask = b.labels[j] === 1 && b.masks !== null ? b.masks.slice(j * plane, (j + 1) * plane) : null;
        maps.push({ scores: scores.maps[i] as Float32Array, mask, width: size, height: size, name: b.samples[j]?.image });
      }
    }
    const p = await pixelMetrics(mapsInMemory(maps));
    pixel = { aupr: p.aupr, auroc: p.auroc, aupro: p.aupro };
  }
  return { image: { aupr: image.aupr, auroc: image.auroc }, pixel };
}
