import type { DetectorMethod } from '../method.js';
import { SpotdiffError } from '../../util/errors.js';
import { backboneFromState, checkArch } from '../../models/backbone.js';
import { resNetClassifier } from '../../models/resnet-classifier.js';
import { checkOptionKeys } from '../common/method-options.js';
import { fitTwoClassNetwork } from '../twoclass/fit-network.js';
import { networkState } from '../twoclass/detector-base.js';
import { readFocalOptions, readTwoClassRunOptions } from '../twoclass/method-options.js';
import type { TwoClassLoss } from '../twoclass/loss.js';
import { checkClassifierConfig, CLASSIFIER_FORMAT, CLASSIFIER_VERSION, type ClassifierConfig } from './config.js';
import { ClassifierDetector } from './detector.js';
import { classifierInfo } from './info.js';

const NAME = 'classifier';

/** `loss` 'cross-entropy' (default) or 'focal' (gamma 2, alpha null unless given); gamma and alpha only with focal. */
function classifierLoss(options: Readonly<Record<string, unknown>>): TwoClassLoss {
  const kind = options['loss'] ?? 'cross-entropy';
  if (kind === 'focal') return { kind: 'focal', ...readFocalOptions(NAME, options, { gamma: 2, alpha: null }) };
  if (kind !== 'cross-entropy') throw new SpotdiffError('ERR_BAD_INPUT', `${NAME}: loss must be 'cross-entropy' or 'focal', got ${JSON.stringify(kind)}`);
  if (options['gamma'] !== undefined || options['alpha'] !== undefined) throw new SpotdiffError('ERR_BAD_INPUT', `${NAME}: gamma and alpha belong to the focal loss; add loss 'focal'`);
  return { kind: 'cross-entropy' };
}

export const classifierMethod: DetectorMethod = {
  ...classifierInfo,
  async fit(ctx) {
    checkOptionKeys(NAME, ctx.options, classifierInfo.optionKeys);
    const run = readTwoClassRunOptions(NAME, ctx.options);
    const loss = classifierLoss(ctx.options);
    const { network, record } = await fitTwoClassNetwork(ctx, {
      method: NAME,
      task: 'classifier',
      network: 'resnet-classifier',
      build: (weights, source, seed) => resNetClassifier(ctx.arch, weights, source, { seed }),
      loss,
      run,
    });
    const config: ClassifierConfig = { format: CLASSIFIER_FORMAT, version: CLASSIFIER_VERSION, input: ctx.input, ...record, network: 'resnet-classifier' };
    return new ClassifierDetector(NAME, network, config);
  },
  load(config, tensors, device, source) {
    const cfg = config as ClassifierConfig;
    checkClassifierConfig(cfg);
    const state = networkState(tensors, source);
    if (state.get('fc.weight')?.shape[0] !== 2) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${source}: the classifier needs a 2-way fc (network.fc.weight [2, C])`);
    return new ClassifierDetector(NAME, backboneFromState(checkArch(cfg.input.backbone), state, source, device), cfg);
  },
};
