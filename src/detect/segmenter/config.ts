import { SpotdiffError } from '../../util/errors.js';
import { checkTwoClassDetectorConfig, type TwoClassConfigRule, type TwoClassDetectorConfig } from '../twoclass/detector-config.js';

export const SEGMENTER_FORMAT = 'spotdiff.segmenter';
export const SEGMENTER_VERSION = 1;

/** Pixels averaged by the 'top-k-mean' image score unless told otherwise (a 10 × 10 region's worth). */
export const DEFAULT_TOP_K = 100;

/**
 * How a pixel map becomes an image score: its maximum, or the mean of its `topK` highest pixels
 * (all of them when the map has fewer), which one stray pixel cannot decide alone.
 */
export type SegmenterImageScore = { rule: 'max' } | { rule: 'top-k-mean'; topK: number };

/** model.json "detector" of a segmenter: the input, the network, the training config and its summary, the image score rule. */
export interface SegmenterConfig extends TwoClassDetectorConfig {
  format: typeof SEGMENTER_FORMAT;
  version: typeof SEGMENTER_VERSION;
  network: 'unet';
  imageScore: SegmenterImageScore;
}

const RULE: TwoClassConfigRule = { name: 'segmenter', format: SEGMENTER_FORMAT, version: SEGMENTER_VERSION, task: 'segmenter', network: 'unet' };

export function checkSegmenterConfig(cfg: SegmenterConfig): void {
  checkTwoClassDetectorConfig(cfg, RULE);
  const s = cfg.imageScore;
  const ok = s?.rule === 'max' || (s?.rule === 'top-k-mean' && Number.isSafeInteger(s.topK) && s.topK >= 1);
  if (!ok) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `the segmenter model config has an invalid imageScore ${JSON.stringify(s)}`);
}

/** The image score rule from the method options `imageScore` and `topK` (ERR_BAD_INPUT otherwise). */
export function readImageScore(options: Readonly<Record<string, unknown>>): SegmenterImageScore {
  const rule = options['imageScore'] ?? 'max';
  const topK = options['topK'];
  if (rule === 'max') {
    if (topK !== undefined) throw new SpotdiffError('ERR_BAD_INPUT', `segmenter: topK applies to imageScore 'top-k-mean'`);
    return { rule: 'max' };
  }
  if (rule !== 'top-k-mean') throw new SpotdiffError('ERR_BAD_INPUT', `segmenter: imageScore must be 'max' or 'top-k-mean', got ${JSON.stringify(rule)}`);
  if (topK !== undefined && (typeof topK !== 'number' || !Number.isSafeInteger(topK) || topK < 1)) {
    throw new SpotdiffError('ERR_BAD_INPUT', `segmenter: topK must be a whole number of pixels ≥ 1, got ${JSON.stringify(topK)}`);
  }
  return { rule: 'top-k-mean', topK: (topK as number | undefined) ?? DEFAULT_TOP_K };
}
