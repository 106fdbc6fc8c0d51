import type { DetectorMethod } from '../method.js';
import { finishProgress, fitFeatureDetector, loadFeatureDetector } from '../common/feature-detector.js';
import { checkOptionKeys, numberOption } from '../common/method-options.js';
import type { PatchcoreConfig } from './config.js';
import { patchcoreInfo } from './info.js';
import { PatchcoreFitter, PatchcoreModel } from './model.js';

export const patchcoreMethod: DetectorMethod = {
  ...patchcoreInfo,
  fit(ctx) {
    checkOptionKeys('patchcore', ctx.options, patchcoreInfo.optionKeys);
    const ratio = numberOption('patchcore', ctx.options, 'coresetRatio', 0.1, { above: 0, max: 1 });
    const options = { input: ctx.input, layers: [...patchcoreInfo.defaultLayers], coreset: { ratio, seed: ctx.seed } };
    const fitter = new PatchcoreFitter(options, { onProgress: finishProgress('coreset', 'pt', ctx.quiet) });
    return fitFeatureDetector(ctx, 'patchcore', patchcoreInfo.defaultLayers, fitter);
  },
  load(config, tensors, device, source) {
    const cfg = config as PatchcoreConfig;
    return loadFeatureDetector('patchcore', cfg.input?.backbone, tensors, device, source, (t) => PatchcoreModel.fromStateDict(cfg, t));
  },
};
