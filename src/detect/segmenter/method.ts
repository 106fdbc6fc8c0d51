import type { DetectorMethod } from '../method.js';
import { SpotdiffError } from '../../util/errors.js';
import { checkArch } from '../../models/backbone.js';
import { UNet, unetFromEncoderWeights } from '../../models/unet.js';
import { loadWeightsInto } from '../../models/weights.js';
import { withDefaultDevice } from '../../nn/device.js';
import { checkOptionKeys } from '../common/method-options.js';
import { fitTwoClassNetwork } from '../twoclass/fit-network.js';
import { networkState } from '../twoclass/detector-base.js';
import { readFocalOptions, readTwoClassRunOptions } from '../twoclass/method-options.js';
import type { TwoClassLoss } from '../twoclass/loss.js';
import { checkSegmenterConfig, readImageScore, SEGMENTER_FORMAT, SEGMENTER_VERSION, type SegmenterConfig } from './config.js';
import { SegmenterDetector } from './detector.js';
import { segmenterInfo } from './info.js';

const NAME = 'segmenter';

/** `loss` 'focal' only (torchvision's sigmoid focal loss, α 0.25 and γ 2 unless given). */
function segmenterLoss(options: Readonly<Record<string, unknown>>): TwoClassLoss {
  const kind = options['loss'] ?? 'focal';
  if (kind !== 'focal') throw new SpotdiffError('ERR_BAD_INPUT', `${NAME}: loss must be 'focal' (gamma 0 with alpha null is plain BCE), got ${JSON.stringify(kind)}`);
  return { kind: 'sigmoid-focal', ...readFocalOptions(NAME, options, { gamma: 2, alpha: 0.25 }) };
}

export const segmenterMethod: DetectorMethod = {
  ...segmenterInfo,
  async fit(ctx) {
    checkOptionKeys(NAME, ctx.options, segmenterInfo.optionKeys);
    const run = readTwoClassRunOptions(NAME, ctx.options);
    const loss = segmenterLoss(ctx.options);
    const imageScore = readImageScore(ctx.options);
    const { network, record } = await fitTwoClassNetwork(ctx, {
      method: NAME,
      task: 'segmenter',
      network: 'unet',
      build: (weights, source, seed) => unetFromEncoderWeights(ctx.arch, weights, source, { seed }),
      loss,
      run,
    });
    const config: SegmenterConfig = { format: SEGMENTER_FORMAT, version: SEGMENTER_VERSION, input: ctx.input, ...record, network: 'unet', imageScore };
    return new SegmenterDetector(NAME, network, config);
  },
  load(config, tensors, device, source) {
    const cfg = config as SegmenterConfig;
    checkSegmenterConfig(cfg);
    const state = networkState(tensors, source);
    const network = withDefaultDevice(device, () => {
      const unet = new UNet(checkArch(cfg.input.backbone));
      try {
        loadWeightsInto(unet, state, source);
      } catch (e) {
        unet.dispose();
        throw e;
      }
      return unet;
    });
    return new SegmenterDetector(NAME, network, cfg);
  },
};
