import { DataLoader } from '../../data/loader.js';
import type { Sample } from '../../data/datasets/sample.js';
import { Progress } from '../../util/progress.js';
import { batchFeatures, disposeFeatures } from './backbone.js';
import { detectorLayers, detectorScores, type Detector } from './detector.js';
import type { ResNet } from '../../models/resnet.js';
import type { TileConfig } from '../common/tiling.js';
import { imagesPerBatch, scoreTiled } from './tiles.js';
import { moduleDevice, withDefaultDeviceAsync } from './device.js';

/** Scores and maps of a list of images, in order, on the host. */
export interface ScoredSamples {
  samples: Sample[];
  imageScores: Float32Array;
  /** One map per image (height × width: the size scored at, the model's input size unless tiled). */
  maps: Float32Array[];
  /** Ground-truth masks at the map size when asked for (null for normal images). */
  masks: (Uint8Array | null)[];
  height: number;
  width: number;
}

export interface ScoreOptions {
  /** Images per backbone batch; with tiling, tiles per backbone batch (default 8). */
  batchSize?: number;
  /** Score by overlapping tiles of the model's input size and stitch the maps (null: whole images). */
  tiling?: TileConfig | null;
  masks?: boolean;
  progressLabel?: string;
  quiet?: boolean;
}

/**
 * Decodes, preprocesses (resize to `size`, ImageNet normalisation), runs the backbone and the
 * detector: on whole images (`size` is the model's input size), or with `tiling` on tiles of
 * the model's input size whose maps are stitched into maps of `size`. Runs on the backbone's
 * device (the detector must be on the same one); decoding and the results are on the host.
 */
export async function scoreSamples(detector: Detector, backbone: ResNet, samples: readonly Sample[], size: readonly [number, number], o: ScoreOptions = {}): Promise<ScoredSamples> {
  return withDefaultDeviceAsync(moduleDevice(backbone), () => scoreOnDevice(detector, backbone, samples, size, o));
}

async function scoreOnDevice(detector: Detector, backbone: ResNet, samples: readonly Sample[], size: readonly [number, number], o: ScoreOptions): Promise<ScoredSamples> {
  const batchSize = o.batchSize ?? 8;
  const tiling = o.tiling ?? null;
  const images = tiling === null ? batchSize : imagesPerBatch(size[0], size[1], tiling, batchSize);
  const loader = new DataLoader(samples, { batchSize: images, preprocess: { resize: [size[0], size[1]] }, masks: o.masks ?? false });
  const progress = new Progress({ total: samples.length, label: o.progressLabel ?? 'scoring', unit: 'img', enabled: !(o.quiet ?? false) });
  const out: ScoredSamples = { samples: [], imageScores: new Float32Array(samples.length), maps: [], masks: [], height: size[0], width: size[1] };
  const layers = detectorLayers(detector);
  for await (const batch of loader) {
    const features = tiling === null ? batchFeatures(backbone, batch.images, batch.shape, layers) : null;
    try {
      const s = features === null ? scoreTiled(detector, backbone, batch.images, batch.shape, tiling!, batchSize) : detectorScores(detector, features);
      const plane = s.height * s.width;
      for (let i = 0; i < batch.samples.length; i++) {
        out.imageScores[out.samples.length] = s.imageScores[i] as number;
        out.samples.push(batch.samples[i] as Sample);
        out.maps.push(s.maps.slice(i * plane, (i + 1) * plane));
        out.masks.push(batch.masks !== null && batch.labels[i] === 1 ? batch.masks.slice(i * plane, (i + 1) * plane) : null);
      }
    } finally {
      if (features !== null) disposeFeatures(features);
    }
    progress.tick(batch.samples.length);
  }
  progress.finish();
  return out;
}
