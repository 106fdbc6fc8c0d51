import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as T from '../../tensor/index.js';
import { tensorSource } from '../../tensor/host.js';
import { readSafetensors, writeSafetensors, type TensorSource } from '../../tensor/io/index.js';
import { checkArch, type BackboneRecord } from '../../models/backbone.js';
import { SpotdiffError } from '../../util/errors.js';
import { spotdiffVersion } from '../../util/version.js';
import { writeDirAtomic, writeFileAtomic } from '../../util/atomic-write.js';
import type { AnomalyDetector, DetectorConfig } from '../method.js';
import { detectorMethod, methodNames } from '../registry.js';
import type { ThresholdChoice } from './threshold.js';
import { checkTileConfig, type TileConfig } from '../common/tiling.js';
import { useExactFloat32On } from './exact-float32.js';

/**
 * A model folder: model.json (what was fitted, how, and the threshold) and weights.safetensors
 * (the detector's stateDict(): for the 1-class methods its head's tensors under "detector."
 * and the backbone's under "backbone.", so the folder needs nothing else). Written whole or not at all, from host copies of the tensors: a folder
 * is the same bytes whichever device the model was fitted on.
 */
export const MODEL_FORMAT = 'spotdiff.model';
export const MODEL_FORMAT_VERSION = 1;
export const MODEL_JSON = 'model.json';
export const MODEL_WEIGHTS = 'weights.safetensors';

/** The images a model was fitted on: others must match (size before resizing, colour channels). */
export interface InputImages {
  width: number;
  height: number;
  channels: number;
}

export interface ModelThreshold extends ThresholdChoice {
  /** Anomaly-map threshold for predicted masks (same rule, on the held-out maps' maxima). */
  pixelValue: number;
  quantile: number;
  validation: { normal: number; anomalous: number };
}

export interface ModelManifest {
  format: typeof MODEL_FORMAT;
  formatVersion: typeof MODEL_FORMAT_VERSION;
  spotdiffVersion: string;
  /** A registered method (src/detect/registry.ts). */
  method: string;
  backbone: BackboneRecord;
  /**
   * Preprocessing: resize to [height, width] (bilinear, antialiased), no crop, ImageNet
   * normalisation. Without tiling this is the detector's input size; with tiling, the size of
   * the whole image that is cut into tiles.
   */
  preprocess: { resize: [number, number]; crop: number | null; normalize: 'imagenet' };
  /**
   * Tiles of the detector's input size (`size` = detector.input.imageSize) with at least
   * `overlap` px shared by neighbours, or null for whole images. Fitting, validation, eval and
   * predict all use it. Absent in folders from before tiling existed: read as null.
   */
  tiling?: TileConfig | null;
  inputImages: InputImages;
  detector: DetectorConfig;
  threshold: ModelThreshold;
  training: { dataset: string; object: string; fitImages: number; validationImages: number; seed: number; seconds: number; created: string };
}

export interface LoadedModel {
  manifest: ModelManifest;
  detector: AnomalyDetector;
}

export function disposeModel(m: LoadedModel): void {
  m.detector.dispose();
}


/**
 * Writes the folder atomically: an interrupted save leaves the old folder (or none), never half
 * a model. The weights stream tensor by tensor (64 MiB blocks) from the engine to the file, so
 * saving needs the model plus one block of memory, not a second copy (PaDiM on WideResNet-50-2
 * at 256 px holds ~5 GB of inverse covariances).
 */
export async function saveModelFolder(dir: string, manifest: ModelManifest, detector: AnomalyDetector, beforeRename?: () => Promise<void>): Promise<void> {
  const tensors = new Map<string, TensorSource>();
  for (const [name, t] of detector.stateDict()) tensors.set(name, tensorSource(t));
  await writeDirAtomic(dir, async (tmp) => {
    await writeSafetensors(join(tmp, MODEL_WEIGHTS), tensors, { format: 'pt', 'spotdiff.model': MODEL_FORMAT, method: manifest.method });
    await writeFileAtomic(join(tmp, MODEL_JSON), JSON.stringify(manifest, null, 2) + '\n');
    await beforeRename?.();
  });
}

/** Reads and checks model.json only (no tensors). */
export async function readManifest(dir: string): Promise<ModelManifest> {
  let text: string;
  try {
    text = await readFile(join(dir, MODEL_JSON), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new SpotdiffError('ERR_NOT_FOUND', `${dir} is not a model folder (no ${MODEL_JSON}); fit one with spotdiff fit`, { cause: e });
    throw new SpotdiffError('ERR_IO', `cannot read ${join(dir, MODEL_JSON)}: ${(e as Error).message}`, { cause: e });
  }
  let m: ModelManifest;
  try {
    m = JSON.parse(text) as ModelManifest;
  } catch (e) {
    throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${join(dir, MODEL_JSON)} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (m?.format !== MODEL_FORMAT) throw new SpotdiffError('ERR_VERSION', `${dir}: not a spotdiff model folder (format ${JSON.stringify(m?.format)})`);
  if (m.formatVersion !== MODEL_FORMAT_VERSION) {
    throw new SpotdiffError(
      'ERR_VERSION',
      `${dir}: model folder format version ${JSON.stringify(m.formatVersion)} (written by spotdiff ${m.spotdiffVersion ?? 'unknown'}); this spotdiff ${spotdiffVersion()} reads version ${MODEL_FORMAT_VERSION}: fit the model again`,
    );
  }
  if (typeof m.method !== 'string' || !methodNames().includes(m.method)) {
    throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${dir}: unknown method ${JSON.stringify(m.method)} (this spotdiff knows ${methodNames().join(', ')})`);
  }
  checkArch(m.backbone?.arch);
  if (!Number.isFinite(m.threshold?.value) || !Number.isFinite(m.threshold?.pixelValue)) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${dir}: model.json has no valid threshold`);
  const [h, w] = m.preprocess?.resize ?? [];
  const [dh, dw] = m.detector?.input?.imageSize ?? [];
  m.tiling ??= null;
  if (m.tiling === null) {
    if (h !== dh || w !== dw) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${dir}: preprocess.resize ${JSON.stringify(m.preprocess?.resize)} disagrees with the detector's input size ${JSON.stringify(m.detector?.input?.imageSize)}`);
  } else {
    try {
      checkTileConfig(m.tiling, 'tiling');
    } catch (e) {
      throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${dir}: model.json ${(e as Error).message}`, { cause: e });
    }
    if (m.tiling.size !== dh || m.tiling.size !== dw) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${dir}: tiles of ${m.tiling.size} px disagree with the detector's input size ${JSON.stringify(m.detector?.input?.imageSize)}`);
    if (!(h! >= m.tiling.size && w! >= m.tiling.size)) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${dir}: preprocess.resize ${JSON.stringify(m.preprocess?.resize)} is smaller than a ${m.tiling.size} px tile`);
  }
  return m;
}

/**
 * Loads a model folder: checks versions and config, rebuilds the detector (through its
 * method in the registry) on `device` (default cpu). The folder holds no device: one fitted anywhere loads anywhere.
 */
export async function loadModelFolder(dir: string, opts: { device?: T.Device } = {}): Promise<LoadedModel> {
  const device = opts.device ?? 'cpu';
  useExactFloat32On(device);
  const manifest = await readManifest(dir);
  const path = join(dir, MODEL_WEIGHTS);
  let content;
  try {
    content = await readSafetensors(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new SpotdiffError('ERR_NOT_FOUND', `${dir}: ${MODEL_WEIGHTS} is missing`, { cause: e });
    throw e;
  }
  const detector = (await detectorMethod(manifest.method)).load(manifest.detector, content.tensors, device, path);
  return { manifest, detector };
}
