import { DataLoader } from '../../data/loader.js';
import type { Sample } from '../../data/datasets/sample.js';
import { Progress } from '../../util/progress.js';
import { batchFeatures, disposeFeatures } from './backbone.js';
import { detectorLayers, detectorScores, type Detector } from './detector.js';
import type { ResNet } from '../../models/resnet.js';

/** Scores and maps of a list of images, in order, on the host. */
export interface ScoredSamples {
  samples: Sample[];
  imageScores: Float32Array;
  /** One map per image (height × width, the model's input size). */
  maps: Float32Array[];
  /** Ground-truth masks at the map size when asked for (null for normal images). */
  masks: (Uint8Array | null)[];
  height: number;
  width: number;
}

export interface ScoreOptions {
  batchSize?: number;
  masks?: boolean;
  progressLabel?: string;
  quiet?: boolean;
}

/** Decodes, preprocesses (resize to the model's size, ImageNet normalisation), runs the backbone and the detector. */
export async function scoreSamples(detector: Detector, backbone: ResNet, samples: readonly Sample[], size: readonly [number, number], o: ScoreOptions = {}): Promise<ScoredSamples> {
  const loader = new DataLoader(samples, { batchSize: o.batchSize ?? 8, preprocess: { resize: [size[0], size[1]] }, masks: o.masks ?? false });
  const progress = new Progress({ total: samples.length, label: o.progressLabel ?? 'scoring', unit: 'img', enabled: !(o.quiet ?? false) });
  const out: ScoredSamples = { samples: [], imageScores: new Float32Array(samples.length), maps: [], masks: [], height: size[0], width: size[1] };
  const layers = detectorLayers(detector);
  for await (const batch of loader) {
    const features = batchFeatures(backbone, batch.images, batch.shape, layers);
    try {
      const s = detectorScores(detector, features);
      const plane = s.height * s.width;
      for (let i = 0; i < batch.samples.length; i++) {
        out.imageScores[out.samples.length] = s.imageScores[i] as number;
        out.samples.push(batch.samples[i] as Sample);
        out.maps.push(s.maps.slice(i * plane, (i + 1) * plane));
        out.masks.push(batch.masks !== null && batch.labels[i] === 1 ? batch.masks.slice(i * plane, (i + 1) * plane) : null);
      }
    } finally {
      disposeFeatures(features);
    }
    progress.tick(batch.samples.length);
  }
  progress.finish();
  return out;
}
