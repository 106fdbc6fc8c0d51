import type { DetectorMethod } from '../method.js';
import { fitFeatureDetector, loadFeatureDetector } from '../common/feature-detector.js';
import { checkOptionKeys } from '../common/method-options.js';
import type { PadimConfig } from './config.js';
import { padimInfo } from './info.js';
import { PadimFitter, PadimModel } from './model.js';

export const padimMethod: DetectorMethod = {
  ...padimInfo,
  fit(ctx) {
    checkOptionKeys('padim', ctx.options, padimInfo.optionKeys);
    // Channel subset seed 1024, as the official code.
    const fitter = new PadimFitter({ input: ctx.input, layers: [...padimInfo.defaultLayers], seed: 1024 });
    return fitFeatureDetector(ctx, 'padim', padimInfo.defaultLayers, fitter);
  },
  load(config, tensors, device, source) {
    const cfg = config as PadimConfig;
    return loadFeatureDetector('padim', cfg.input?.backbone, tensors, device, source, (t) => PadimModel.fromStateDict(cfg, t));
  },
};
