import * as T from '../../tensor/index.js';
import { DataLoader } from '../../data/loader.js';
import { openDataset } from '../../data/datasets/open.js';
import type { Sample } from '../../data/datasets/sample.js';
import { SpotdiffError } from '../../util/errors.js';
import { Progress } from '../../util/progress.js';
import { PadimFitter } from '../padim/index.js';
import { PatchcoreFitter } from '../patchcore/index.js';
import type { InputConfig } from '../common/config.js';
import { checkTileConfig, tileLayout, type TileConfig } from '../common/tiling.js';
import { batchFeatures, checkArch, createBackbone, disposeFeatures } from './backbone.js';
import type { Detector, Method } from './detector.js';
import { checkInputImages } from './input-images.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, saveModelFolder, spotdiffVersion, type ModelManifest } from './model-folder.js';
import { checkModelOutput } from './model-output.js';
import { withDefaultDeviceAsync } from './device.js';
import { scoreSamples } from './score.js';
import { forEachTileFeatures, imagesPerBatch } from './tiles.js';
import { chooseThreshold, holdOutValidation, quantile } from './threshold.js';

export interface FitRequest {
  method: Method;
  data: string;
  /** Which object of a multi-object dataset (required when it holds several). */
  object?: string;
  backbone: string;
  weights?: string;
  /**
   * Square input side (default 224). With `tile`: the side whole images are resized to before
   * tiling (default: no resize, the images' own size).
   */
  size?: number;
  /** Fit on (and later score by) overlapping tiles of `tile.size` px, the model's input size; null/absent: whole images. */
  tile?: TileConfig | null;
  seed?: number;
  out: string;
  /** Share of the train normals held out for the threshold (default 0.1, at least 1 image). */
  validationFraction?: number;
  /** Quantile of held-out normal scores used as threshold (default 0.99). */
  quantile?: number;
  /** PatchCore coreset share (default 0.1). */
  coresetRatio?: number;
  batchSize?: number;
  /** Where the backbone and the detector run: 'cpu' (default), 'cuda', 'cuda:N' or 'auto'. The saved folder does not depend on it. */
  device?: string;
  quiet?: boolean;
  /** Test hook: runs inside the atomic save, before the folder is renamed into place. */
  beforeSave?: () => Promise<void>;
}

export interface FitResult {
  manifest: ModelManifest;
  out: string;
}

/** The train-split samples of one object; ERR_BAD_INPUT when there are none. */
export async function trainSamples(data: string, object: string | undefined): Promise<{ samples: Sample[]; object: string; dataset: string }> {
  const ds = await openDataset(data, object === undefined ? {} : { objects: [object] });
  const obj = object ?? (ds.objects.length === 1 ? (ds.objects[0] as string) : undefined);
  if (obj === undefined) throw new SpotdiffError('ERR_USAGE', `${data} holds ${ds.objects.length} objects (${ds.objects.join(', ')}); choose one with --object`);
  const train = ds.samples.filter((s) => s.object === obj && (s.split === 'train' || (s.split === null && s.label === 'normal')));
  if (!train.some((s) => s.label === 'normal')) throw new SpotdiffError('ERR_BAD_INPUT', `no normal training images for "${obj}" in ${data} (the train folder is empty)`);
  return { samples: train, object: obj, dataset: `${ds.layout} ${ds.root}` };
}

/**
 * Fits a detector on the train normals minus a held-out validation part, picks the threshold
 * on that part (never on test data), and saves the model folder atomically. `out` is checked
 * first (checkModelOutput: missing, empty or a model folder), and again just before saving.
 * The device is checked before anything else (ERR_BAD_INPUT when it is not there).
 */
export async function fitModel(req: FitRequest): Promise<FitResult> {
  const device = T.resolveDevice(req.device ?? 'cpu');
  return withDefaultDeviceAsync(device, () => fitOnDevice(req, device));
}

async function fitOnDevice(req: FitRequest, device: T.Device): Promise<FitResult> {
  const started = Date.now();
  const arch = checkArch(req.backbone);
  const tile = req.tile == null ? null : checkTileConfig(req.tile, 'tile');
  const seed = req.seed ?? 0;
  const q = req.quantile ?? 0.99;
  if (!(q >= 0 && q <= 1)) throw new SpotdiffError('ERR_BAD_INPUT', `the threshold quantile must be in [0, 1], got ${q}`);
  await checkModelOutput(req.out);
  const { samples, object, dataset } = await trainSamples(req.data, req.object);
  const inputImages = await checkInputImages(samples.map((s) => s.image), null, 'training images');
  // Whole images go to the backbone at size × size; tiled ones at their own size (or --size), cut into tiles.
  const resize: [number, number] = tile === null ? [req.size ?? 224, req.size ?? 224] : req.size !== undefined ? [req.size, req.size] : [inputImages.height, inputImages.width];
  const inputSize = tile === null ? resize[0] : tile.size;
  if (tile !== null) tileLayout(resize[0], resize[1], tile); // an image smaller than a tile fails here, before any work
  const batchSize = req.batchSize ?? 8;
  const { fit, validation } = holdOutValidation(samples, req.validationFraction ?? 0.1, seed);

  const { model: backbone, record } = await createBackbone(arch, req.weights, seed, device);
  let detector: Detector | null = null;
  try {
    const input: InputConfig = { backbone: arch, weights: record.weightsSha256 === null ? null : `${record.weightsFile} sha256:${record.weightsSha256}`, resize: null, crop: null, imageSize: [inputSize, inputSize] };
    const padim = req.method === 'padim' ? new PadimFitter({ input, seed: 1024 }) : null;
    const patchcore = req.method === 'patchcore' ? new PatchcoreFitter({ input, coreset: { ratio: req.coresetRatio ?? 0.1, seed } }) : null;
    const layers = padim !== null ? ['layer1', 'layer2', 'layer3'] : ['layer2', 'layer3'];
    try {
      const images = tile === null ? batchSize : imagesPerBatch(resize[0], resize[1], tile, batchSize);
      const loader = new DataLoader(fit, { batchSize: images, preprocess: { resize } });
      const progress = new Progress({ total: fit.length, label: 'features', unit: 'img', enabled: !req.quiet });
      const fitter = (padim ?? patchcore)!;
      for await (const batch of loader) {
        if (tile !== null) forEachTileFeatures(backbone, batch.images, batch.shape, tile, layers, batchSize, (features) => fitter.add(features));
        else {
          const features = batchFeatures(backbone, batch.images, batch.shape, layers);
          try {
            fitter.add(features);
          } finally {
            disposeFeatures(features);
          }
        }
        progress.tick(batch.samples.length);
      }
      progress.finish();
      if (padim !== null) detector = { method: 'padim', model: padim.finish() };
      else {
        let coresetBar: Progress | null = null;
        let shown = 0;
        const model = patchcore!.finish({
          onProgress: (done, total) => {
            coresetBar ??= new Progress({ total, label: 'coreset', unit: 'pt', enabled: !req.quiet });
            coresetBar.tick(done - shown);
            shown = done;
            if (done === total) coresetBar.finish();
          },
        });
        detector = { method: 'patchcore', model };
      }
    } finally {
      padim?.dispose();
      patchcore?.dispose();
    }

    const scored = await scoreSamples(detector, backbone, validation, resize, { progressLabel: 'validation', quiet: req.quiet, tiling: tile, batchSize });
    const labels = scored.samples.map((s) => (s.label === 'anomaly' ? 1 : 0));
    const choice = chooseThreshold(labels, scored.imageScores, q);
    const normalMapMax = scored.maps.filter((_, i) => labels[i] === 0).map((m) => m.reduce((a, v) => (v > a ? v : a), -Infinity));
    const manifest: ModelManifest = {
      format: MODEL_FORMAT,
      formatVersion: MODEL_FORMAT_VERSION,
      spotdiffVersion: spotdiffVersion(),
      method: req.method,
      backbone: record,
      preprocess: { resize, crop: null, normalize: 'imagenet' },
      tiling: tile,
      inputImages,
      detector: detector.model.config,
      threshold: {
        ...choice,
        pixelValue: quantile(normalMapMax, q),
        quantile: q,
        validation: { normal: labels.filter((l) => l === 0).length, anomalous: labels.filter((l) => l === 1).length },
      },
      training: { dataset, object, fitImages: fit.length, validationImages: validation.length, seed, seconds: (Date.now() - started) / 1000, created: new Date().toISOString() },
    };
    await checkModelOutput(req.out); // the fit took a while: the path may have been taken meanwhile
    await saveModelFolder(req.out, manifest, detector, backbone, req.beforeSave);
    return { manifest, out: req.out };
  } finally {
    detector?.model.dispose();
    backbone.dispose();
  }
}
