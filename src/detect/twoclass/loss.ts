import type * as T from '../../tensor/index.js';
import { crossEntropy, focalLoss, sigmoidFocalLoss } from '../../nn/index.js';
import { SpotdiffError } from '../../util/errors.js';

/**
 * The two 2-class tasks and their losses:
 * - classifier: logits [B, 2] against class indices [B] (int64, 1 = anomaly), cross-entropy or
 *   softmax focal loss (nn/losses/focal.ts focalLoss);
 * - segmenter: logits [B, 1, H, W] against masks [B, 1, H, W] in {0, 1} (float), sigmoid focal
 *   loss (torchvision's sigmoid_focal_loss, mean over pixels; γ 0 is α-balanced BCE).
 */
export type TwoClassTask = 'classifier' | 'segmenter';

export type TwoClassLoss =
  | { kind: 'cross-entropy' }
  | { kind: 'focal'; alpha: number | null; gamma: number }
  | { kind: 'sigmoid-focal'; alpha: number | null; gamma: number };

export function defaultLoss(task: TwoClassTask): TwoClassLoss {
  return task === 'classifier' ? { kind: 'cross-entropy' } : { kind: 'sigmoid-focal', alpha: 0.25, gamma: 2 };
}

export function checkTwoClassLoss(task: TwoClassTask, loss: TwoClassLoss): void {
  const allowed = task === 'classifier' ? ['cross-entropy', 'focal'] : ['sigmoid-focal'];
  if (!allowed.includes(loss?.kind)) {
    throw new SpotdiffError('ERR_BAD_INPUT', `the ${task} trains with ${allowed.map((k) => `'${k}'`).join(' or ')} loss, got ${JSON.stringify(loss?.kind)}`);
  }
  if (loss.kind === 'cross-entropy') return;
  if (!(loss.gamma >= 0) || !Number.isFinite(loss.gamma)) throw new SpotdiffError('ERR_BAD_INPUT', `loss gamma must be a finite number ≥ 0, got ${loss.gamma}`);
  if (loss.alpha !== null && !(loss.alpha >= 0 && loss.alpha <= 1)) throw new SpotdiffError('ERR_BAD_INPUT', `loss alpha must be in [0, 1] or null, got ${loss.alpha}`);
}

/** What the network must return for a batch of B images of height×width. */
export function expectedLogitsShape(task: TwoClassTask, batch: number, height: number, width: number): number[] {
  return task === 'classifier' ? [batch, 2] : [batch, 1, height, width];
}

/** The loss of one batch (a scalar tensor); the shape of the logits is checked first. */
export function twoClassLoss(task: TwoClassTask, loss: TwoClassLoss, logits: T.Tensor, target: T.Tensor, imageShape: readonly number[]): T.Tensor {
  const want = expectedLogitsShape(task, imageShape[0] as number, imageShape[2] as number, imageShape[3] as number);
  if (logits.rank !== want.length || logits.shape.some((s, i) => s !== want[i])) {
    throw new SpotdiffError('ERR_SHAPE', `the ${task} network must return logits [${want.join(', ')}] for images [${imageShape.join(', ')}], got [${logits.shape.join(', ')}]`);
  }
  switch (loss.kind) {
    case 'cross-entropy':
      return crossEntropy(logits, target);
    case 'focal':
      return focalLoss(logits, target, { alpha: loss.alpha, gamma: loss.gamma });
    case 'sigmoid-focal':
      return sigmoidFocalLoss(logits, target, { alpha: loss.alpha, gamma: loss.gamma });
  }
}
