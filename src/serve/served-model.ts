import { basename, dirname, extname, resolve } from 'node:path';
import { SpotdiffError, isSpotdiffError } from '../util/errors.js';
import type { OnnxSource } from './model-onnx.js';
import { infoFromManifest, infoFromOnnx, type ServedModelInfo } from './model-info.js';
import type { Scorer } from './scorer.js';

/** What the server serves: a name for responses, what it reports of the model, its scorer, and its ONNX form for the page. */
export interface ServedModel {
  /** The model's name in responses (the folder's name, or the .onnx file's). */
  name: string;
  info: ServedModelInfo;
  scorer: Scorer;
  /** The bytes GET /v1/model.onnx sends. */
  onnx: OnnxSource;
}

/** The engine that scores: libtorch on `device` (a model folder), or ONNX Runtime on the CPU (an exported .onnx file). */
export type ServeEngine = { engine: 'libtorch'; device: string } | { engine: 'onnx' };

/**
 * Loads a model for serving: a model folder for libtorch, an .onnx file for ONNX Runtime (whose
 * path loads no libtorch). Everything past this point is the same for both engines.
 */
export async function loadServedModel(model: string, how: ServeEngine): Promise<ServedModel> {
  return how.engine === 'onnx' ? loadOnnx(model) : loadLibtorch(model, how.device);
}

async function loadLibtorch(dir: string, device: string): Promise<ServedModel> {
  const { loadModelFolder } = await import('../detect/run/model-folder.js');
  const { methodInfo } = await import('../detect/registry.js');
  const { libtorchScorer } = await import('./libtorch-scorer.js');
  const { onnxOfModelFolder } = await import('./model-onnx.js');
  const model = await loadModelFolder(dir, { device });
  const { manifest } = model;
  const info = infoFromManifest(manifest, methodInfo(manifest.method).localises);
  return { name: basename(resolve(dir)), info, scorer: libtorchScorer(model, manifest.tiling ?? null), onnx: onnxOfModelFolder(dir) };
}

/**
 * The file's bytes are read once: the session is made from them and the page is sent them, so
 * the browser scores exactly the served graph.
 */
async function loadOnnx(file: string): Promise<ServedModel> {
  const { readFile } = await import('node:fs/promises');
  const { openOnnxScorer } = await import('../export/onnx/index.js');
  const { onnxScorer } = await import('./onnx-scorer.js');
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SpotdiffError(code === 'ENOENT' ? 'ERR_NOT_FOUND' : 'ERR_IO', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  let session;
  try {
    session = await openOnnxScorer(bytes);
  } catch (e) {
    // Opened from bytes, its messages name no file.
    if (isSpotdiffError(e)) throw new SpotdiffError(e.code, `${file}: ${e.message}`, { cause: e });
    throw e;
  }
  let info: ServedModelInfo;
  try {
    info = infoFromOnnx(session.info, file);
  } catch (e) {
    await session.close();
    throw e;
  }
  return { name: onnxModelName(file), info, scorer: onnxScorer(session), onnx: () => Promise.resolve(bytes) };
}

/** FOLDER/model.onnx is named after FOLDER (as the folder is on libtorch); any other file after itself, less .onnx. */
function onnxModelName(file: string): string {
  const path = resolve(file);
  const base = basename(path);
  if (base === 'model.onnx') return basename(dirname(path));
  return extname(base) === '.onnx' ? base.slice(0, -'.onnx'.length) : base;
}

/** The summary GET /v1/model returns. */
export function modelSummary(m: ServedModel) {
  const { info } = m;
  const [height, width] = info.resize;
  return {
    model: m.name,
    method: info.method,
    localises: info.localises,
    engine: m.scorer.engine,
    device: m.scorer.device,
    backbone: info.backbone,
    inputImages: info.inputImages,
    preprocess: { width, height, normalize: info.normalize },
    tiling: info.tiling,
    threshold: info.threshold,
    training: info.training,
    spotdiffVersion: info.spotdiffVersion,
  };
}

export type ModelSummary = ReturnType<typeof modelSummary>;
