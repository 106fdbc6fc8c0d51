import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../../tensor/index.js';
import { fromHost, tensorSource } from '../../tensor/host.js';
import { readSafetensors, writeSafetensors, type HostTensor, type TensorSource } from '../../tensor/io/index.js';
import type { ResNet } from '../../models/resnet.js';
import { SpotdiffError } from '../../util/errors.js';
import { writeDirAtomic, writeFileAtomic } from '../../util/atomic-write.js';
import { backboneFromState, checkArch, type BackboneRecord } from './backbone.js';
import { detectorFromState, detectorState, METHODS, type Detector, type DetectorConfig, type Method } from './detector.js';
import type { ThresholdChoice } from './threshold.js';
import { checkTileConfig, type TileConfig } from '../common/tiling.js';

/**
 * A model folder: model.json (what was fitted, how, and the threshold) and weights.safetensors
 * (the detector's tensors under "detector." and the backbone's under "backbone.", so the folder
 * needs nothing else). Written whole or not at all, from host copies of the tensors: a folder
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
  method: Method;
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
  detector: Detector;
  backbone: ResNet;
}

export function disposeModel(m: LoadedModel): void {
  m.detector.model.dispose();
  m.backbone.dispose();
}

let cachedVersion: string | null = null;
/** This spotdiff's version (package.json). */
export function spotdiffVersion(): string {
  if (cachedVersion === null) {
    try {
      cachedVersion = (JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      cachedVersion = 'unknown';
    }
  }
  return cachedVersion;
}

/**
 * Writes the folder atomically: an interrupted save leaves the old folder (or none), never half
 * a model. The weights stream tensor by tensor (64 MiB blocks) from the engine to the file, so
 * saving needs the model plus one block of memory, not a second copy (PaDiM on WideResNet-50-2
 * at 256 px holds ~5 GB of inverse covariances).
 */
export async function saveModelFolder(dir: string, manifest: ModelManifest, detector: Detector, backbone: ResNet, beforeRename?: () => Promise<void>): Promise<void> {
  const tensors = new Map<string, TensorSource>();
  for (const [name, t] of detectorState(detector)) tensors.set(`detector.${name}`, tensorSource(t));
  for (const [name, t] of backbone.stateDict()) tensors.set(`backbone.${name}`, tensorSource(t));
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
  if (!(METHODS as readonly string[]).includes(m.method)) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${dir}: unknown method ${JSON.stringify(m.method)}`);
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
 * Loads a model folder: checks versions and config, rebuilds the detector and the backbone on
 * `device` (default cpu). The folder holds no device: one fitted anywhere loads anywhere.
 */
export async function loadModelFolder(dir: string, opts: { device?: T.Device } = {}): Promise<LoadedModel> {
  const device = opts.device ?? 'cpu';
  const manifest = await readManifest(dir);
  const path = join(dir, MODEL_WEIGHTS);
  let content;
  try {
    content = await readSafetensors(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new SpotdiffError('ERR_NOT_FOUND', `${dir}: ${MODEL_WEIGHTS} is missing`, { cause: e });
    throw e;
  }
  const backboneHost = new Map<string, HostTensor>();
  const detectorHost = new Map<string, HostTensor>();
  for (const [name, t] of content.tensors) {
    if (name.startsWith('backbone.')) backboneHost.set(name.slice('backbone.'.length), t);
    else if (name.startsWith('detector.')) detectorHost.set(name.slice('detector.'.length), t);
  }
  const backbone = backboneFromState(manifest.backbone.arch, backboneHost, path, device);
  try {
    const tensors = new Map<string, T.Tensor>();
    for (const [name, h] of detectorHost) tensors.set(name, T.keep(fromHost(h, device)));
    const detector = detectorFromState(manifest.method, manifest.detector, tensors);
    return { manifest, detector, backbone };
  } catch (e) {
    backbone.dispose();
    throw e;
  }
}
