import * as T from '../../tensor/index.js';
import type { Sample } from '../../data/datasets/sample.js';
import { trainSamples } from '../../data/datasets/object-splits.js';
import { checkArch, createBackbone, type BackboneRecord } from '../../models/backbone.js';
import { withDefaultDeviceAsync } from '../../nn/device.js';
import { SpotdiffError } from '../../util/errors.js';
import type { ProcessGroup } from '../../distributed/process-group.js';
import type { InputConfig } from '../common/config.js';
import { checkTileConfig, tileLayout, type TileConfig } from '../common/tiling.js';
import type { AnomalyDetector, DetectorMethod, FitContext } from '../method.js';
import { detectorMethod } from '../registry.js';
import { holdOutValidation } from './holdout.js';
import { checkInputImages } from './input-images.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, saveModelFolder, type InputImages, type ModelManifest } from './model-folder.js';
import { spotdiffVersion } from '../../util/version.js';
import { checkModelOutput } from './model-output.js';
import { scoreSamples, type ScoredSamples } from './score.js';
import { chooseThreshold, quantile } from './threshold.js';
import { useExactFloat32On } from './exact-float32.js';

export interface FitRequest {
  /** A registered method (src/detect/registry.ts). */
  method: string;
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
  /** Share of the train normals (and, for a two-class method, of the anomalies) held out for the threshold (default 0.1, at least 1 image). */
  validationFraction?: number;
  /** Quantile of held-out normal scores used as threshold (default 0.99). */
  quantile?: number;
  /** The method's own options (PatchCore: coresetRatio), checked by the method. */
  options?: Record<string, unknown>;
  /** Where a long fit keeps checkpoints and its log; `resume` continues from them. */
  work?: { dir: string; resume: boolean };
  batchSize?: number;
  /** Where the network runs: 'cpu' (default), 'cuda', 'cuda:N' or 'auto'. The saved folder does not depend on it. */
  device?: string;
  quiet?: boolean;
  /** Test hook: runs inside the atomic save, before the folder is renamed into place. */
  beforeSave?: () => Promise<void>;
}

export interface FitResult {
  manifest: ModelManifest;
  out: string;
}

/** What is decided before any network runs: checked inputs, the samples and their split. */
interface FitPlan {
  method: DetectorMethod;
  arch: ReturnType<typeof checkArch>;
  tile: TileConfig | null;
  seed: number;
  quantile: number;
  object: string;
  dataset: string;
  inputImages: InputImages;
  resize: [number, number];
  inputSize: number;
  batchSize: number;
  fit: Sample[];
  validation: Sample[];
}

/**
 * Fits a detector of any registered method on the train split minus a held-out validation
 * part, picks the threshold on that part (never on test data), and saves the model folder
 * atomically. `out` is checked first (checkModelOutput: missing, empty or a model folder),
 * and again just before saving. The method and the device are checked before anything else.
 */
export async function fitModel(req: FitRequest): Promise<FitResult> {
  return (await fitModelOnRank(req, null)) as FitResult;
}

/**
 * fitModel as one rank of a data-parallel job (two-class methods): every rank trains (see
 * trainTwoClass's group); rank 0 alone then scores the validation part, picks the threshold
 * and saves the model folder. The other ranks get null once training is done. A null group is
 * fitModel.
 */
export async function fitModelOnRank(req: FitRequest, group: ProcessGroup | null): Promise<FitResult | null> {
  const method = await detectorMethod(req.method);
  if (group !== null && method.kind !== 'two-class') throw new SpotdiffError('ERR_BAD_INPUT', `${method.name} fits in one pass; data-parallel training is for the two-class methods`);
  const device = T.resolveDevice(req.device ?? 'cpu');
  useExactFloat32On(device);
  return withDefaultDeviceAsync(device, () => fitOnDevice(req, method, device, group));
}

async function planFit(req: FitRequest, method: DetectorMethod): Promise<FitPlan> {
  const arch = checkArch(req.backbone);
  const tile = req.tile == null ? null : checkTileConfig(req.tile, 'tile');
  const seed = req.seed ?? 0;
  const q = req.quantile ?? 0.99;
  if (!(q >= 0 && q <= 1)) throw new SpotdiffError('ERR_BAD_INPUT', `the threshold quantile must be in [0, 1], got ${q}`);
  await checkModelOutput(req.out);
  const { samples, object, dataset } = await trainSamples(req.data, req.object);
  const inputImages = await checkInputImages(samples.map((s) => s.image), null, 'training images');
  // Whole images go to the network at size × size; tiled ones at their own size (or --size), cut into tiles.
  const resize: [number, number] = tile === null ? [req.size ?? 224, req.size ?? 224] : req.size !== undefined ? [req.size, req.size] : [inputImages.height, inputImages.width];
  const inputSize = tile === null ? resize[0] : tile.size;
  if (tile !== null) tileLayout(resize[0], resize[1], tile); // an image smaller than a tile fails here, before any work
  const { fit, validation } = holdOutValidation(samples, req.validationFraction ?? 0.1, seed, method.kind);
  return { method, arch, tile, seed, quantile: q, object, dataset, inputImages, resize, inputSize, batchSize: req.batchSize ?? 8, fit, validation };
}

async function fitOnDevice(req: FitRequest, method: DetectorMethod, device: T.Device, group: ProcessGroup | null): Promise<FitResult | null> {
  const started = Date.now();
  const plan = await planFit(req, method);
  const { model: backbone, record } = await createBackbone(plan.arch, req.weights, plan.seed, device);
  const input: InputConfig = { backbone: plan.arch, weights: record.weightsSha256 === null ? null : `${record.weightsFile} sha256:${record.weightsSha256}`, resize: null, crop: null, imageSize: [plan.inputSize, plan.inputSize] };
  const ctx: FitContext = {
    samples: plan.fit,
    backbone,
    arch: plan.arch,
    input,
    resize: plan.resize,
    tile: plan.tile,
    seed: plan.seed,
    batchSize: plan.batchSize,
    device,
    quiet: req.quiet ?? false,
    options: req.options ?? {},
    work: req.work ?? null,
    group,
  };
  let detector: AnomalyDetector;
  try {
    detector = await method.fit(ctx); // owns the backbone from here on
  } catch (e) {
    backbone.dispose(); // a failed fit leaves it to the glue (a second dispose is harmless)
    throw e;
  }
  if (group !== null && group.rank !== 0) {
    detector.dispose();
    return null;
  }
  try {
    const scored = await scoreSamples(detector, plan.validation, plan.resize, { progressLabel: 'validation', quiet: req.quiet, tiling: plan.tile, batchSize: plan.batchSize });
    checkValidationScores(scored, method.name);
    const manifest = buildManifest(plan, record, detector, scored, started);
    await checkModelOutput(req.out); // the fit took a while: the path may have been taken meanwhile
    await saveModelFolder(req.out, manifest, detector, req.beforeSave);
    return { manifest, out: req.out };
  } finally {
    detector.dispose();
  }
}

/** A method whose scores are not finite (a diverged network) cannot be thresholded: refuse to save it. */
function checkValidationScores(scored: ScoredSamples, method: string): void {
  const bad = scored.imageScores.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new SpotdiffError('ERR_BAD_INPUT', `${method}: the validation image ${scored.samples[bad]?.image} scored ${scored.imageScores[bad]}; the fitted model is unusable`);
}

function buildManifest(plan: FitPlan, record: BackboneRecord, detector: AnomalyDetector, scored: ScoredSamples, started: number): ModelManifest {
  const q = plan.quantile;
  const labels = scored.samples.map((s) => (s.label === 'anomaly' ? 1 : 0));
  const choice = chooseThreshold(labels, scored.imageScores, q);
  const normalMapMax = scored.maps.filter((_, i) => labels[i] === 0).map((m) => m.reduce((a, v) => (v > a ? v : a), -Infinity));
  return {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    spotdiffVersion: spotdiffVersion(),
    method: plan.method.name,
    backbone: record,
    preprocess: { resize: plan.resize, crop: null, normalize: 'imagenet' },
    tiling: plan.tile,
    inputImages: plan.inputImages,
    detector: detector.config,
    threshold: {
      ...choice,
      pixelValue: quantile(normalMapMax, q),
      quantile: q,
      validation: { normal: labels.filter((l) => l === 0).length, anomalous: labels.filter((l) => l === 1).length },
    },
    training: { dataset: plan.dataset, object: plan.object, fitImages: plan.fit.length, validationImages: plan.validation.length, seed: plan.seed, seconds: (Date.now() - started) / 1000, created: new Date().toISOString() },
  };
}
