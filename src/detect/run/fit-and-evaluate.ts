import * as T from '../../tensor/index.js';
import { evaluateModel, type EvalResult } from './evaluate.js';
import { fitModel, type FitRequest } from './fit.js';
import { disposeModel, loadModelFolder, type ModelManifest } from './model-folder.js';

export interface FitAndEvaluateResult {
  manifest: ModelManifest;
  result: EvalResult;
  fitSeconds: number;
  evalSeconds: number;
}

/**
 * Fits a model into request.out, loads it back from the folder (what eval would see) on the
 * request's device and evaluates it on the test split of the same data and object; the
 * loaded model is freed before returning.
 */
export async function fitAndEvaluate(request: FitRequest): Promise<FitAndEvaluateResult> {
  const t0 = Date.now();
  const { manifest } = await fitModel(request);
  const t1 = Date.now();
  const model = await loadModelFolder(request.out, { device: T.resolveDevice(request.device ?? 'cpu') });
  try {
    const result = await evaluateModel(model, request.data, { object: request.object, quiet: request.quiet });
    return { manifest, result, fitSeconds: (t1 - t0) / 1000, evalSeconds: (Date.now() - t1) / 1000 };
  } finally {
    disposeModel(model);
  }
}
