import { DataLoader } from '../../data/loader.js';
import type { Sample } from '../../data/datasets/sample.js';
import { Progress } from '../../util/progress.js';
import * as T from '../../tensor/index.js';
import { withDefaultDeviceAsync } from '../../nn/device.js';
import { imagesPerBatch, type TileConfig } from '../common/tiling.js';
import type { AnomalyDetector } from '../method.js';
import { scoreTiled, type HostScores } from './tiles.js';

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
  /** Images per network batch; with tiling, tiles per network batch (default 8). */
  batchSize?: number;
  /** Score by overlapping tiles of the model's input size and stitch the maps (null: whole images). */
  tiling?: TileConfig | null;
  masks?: boolean;
  progressLabel?: string;
  quiet?: boolean;
}

/**
 * Decodes, preprocesses (resize to `size`, ImageNet normalisation) and scores with the
 * detector: whole images (`size` is the model's input size), or with `tiling` tiles of the
 * model's input size whose maps are stitched into maps of `size`. Runs on the detector's
 * device; decoding and the results are on the host.
 */
export async function scoreSamples(detector: AnomalyDetector, samples: readonly Sample[], size: readonly [number, number], o: ScoreOptions = {}): Promise<ScoredSamples> {
  return withDefaultDeviceAsync(detector.device, () => scoreOnDevice(detector, samples, size, o));
}

/** Whole images [N, 3, H, W] scored in one call, copied to the host. */
function scoreWhole(detector: AnomalyDetector, images: Float32Array, shape: readonly [number, 3, number, number]): HostScores {
  return T.tidy(() => {
    const s = detector.score(T.tensor(images, [...shape], { device: detector.device }));
    const [, height, width] = s.maps.shape as [number, number, number];
    return { imageScores: s.imageScores.toFloat32(), maps: s.maps.toFloat32(), height, width };
  });
}

async function scoreOnDevice(detector: AnomalyDetector, samples: readonly Sample[], size: readonly [number, number], o: ScoreOptions): Promise<ScoredSamples> {
  const batchSize = o.batchSize ?? 8;
  const tiling = o.tiling ?? null;
  const images = tiling === null ? batchSize : imagesPerBatch(size[0], size[1], tiling, batchSize);
  const loader = new DataLoader(samples, { batchSize: images, preprocess: { resize: [size[0], size[1]] }, masks: o.masks ?? false });
  const progress = new Progress({ total: samples.length, label: o.progressLabel ?? 'scoring', unit: 'img', enabled: !(o.quiet ?? false) });
  const out: ScoredSamples = { samples: [], imageScores: new Float32Array(samples.length), maps: [], masks: [], height: size[0], width: size[1] };
  for await (const batch of loader) {
    const s = tiling === null ? scoreWhole(detector, batch.images, batch.shape) : scoreTiled(detector, batch.images, batch.shape, tiling, batchSize);
    const plane = s.height * s.width;
    for (let i = 0; i < batch.samples.length; i++) {
      out.imageScores[out.samples.length] = s.imageScores[i] as number;
      out.samples.push(batch.samples[i] as Sample);
      out.maps.push(s.maps.slice(i * plane, (i + 1) * plane));
      out.masks.push(batch.masks !== null && batch.labels[i] === 1 ? batch.masks.slice(i * plane, (i + 1) * plane) : null);
    }
    progress.tick(batch.samples.length);
  }
  progress.finish();
  return out;
}
