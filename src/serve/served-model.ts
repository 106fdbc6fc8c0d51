import { basename, resolve } from 'node:path';
import type { ModelManifest } from '../detect/run/model-folder.js';
import type { Scorer } from './scorer.js';

/** What the server serves: the model folder's manifest, a name for responses, and its scorer. */
export interface ServedModel {
  /** The model's name in responses (the folder's name). */
  name: string;
  manifest: ModelManifest;
  /** Whether its maps localise defects (methodInfo(method).localises): no heatmaps otherwise. */
  localises: boolean;
  scorer: Scorer;
}

/**
 * Loads a model folder for serving on `device`, scored by libtorch. An ONNX-exported model
 * plugs in here as another Scorer; the rest of the server does not change.
 */
export async function loadServedModel(dir: string, device: string): Promise<ServedModel> {
  const { loadModelFolder } = await import('../detect/run/model-folder.js');
  const { methodInfo } = await import('../detect/registry.js');
  const { libtorchScorer } = await import('./libtorch-scorer.js');
  const model = await loadModelFolder(dir, { device });
  const manifest = model.manifest;
  return { name: basename(resolve(dir)), manifest, localises: methodInfo(manifest.method).localises, scorer: libtorchScorer(model, manifest.tiling ?? null) };
}

/** The manifest summary GET /v1/model returns. */
export function modelSummary(m: ServedModel) {
  const { manifest } = m;
  const [height, width] = manifest.preprocess.resize;
  return {
    model: m.name,
    method: manifest.method,
    localises: m.localises,
    engine: m.scorer.engine,
    device: m.scorer.device,
    backbone: manifest.backbone.arch,
    inputImages: manifest.inputImages,
    preprocess: { width, height, normalize: manifest.preprocess.normalize },
    tiling: manifest.tiling ?? null,
    threshold: { value: manifest.threshold.value, pixelValue: manifest.threshold.pixelValue, source: manifest.threshold.source, quantile: manifest.threshold.quantile },
    training: { dataset: manifest.training.dataset, object: manifest.training.object, fitImages: manifest.training.fitImages, created: manifest.training.created },
    spotdiffVersion: manifest.spotdiffVersion,
  };
}

export type ModelSummary = ReturnType<typeof modelSummary>;
