import { SpotdiffError, isSpotdiffError } from '../../util/errors.js';
import { checkArch } from '../../models/backbone.js';
import { checkInputConfig, type InputConfig } from '../common/config.js';
import type { DetectorConfig } from '../method.js';
import { checkTwoClassTrainConfig, type TwoClassTrainConfig } from './config.js';
import type { TwoClassTask } from './loss.js';

/** The network a 2-class detector trains: a torchvision ResNet with a 2-way fc, or a U-Net on a ResNet encoder. */
export type TwoClassNetworkKind = 'resnet-classifier' | 'unet';

/** What a 2-class fit records in model.json "detector" besides its format and input. */
export interface TwoClassFitRecord {
  network: TwoClassNetworkKind;
  /** The whole training configuration (protocol, length, lr, momentum, batch size, loss, augmentation, seed). */
  train: TwoClassTrainConfig;
  /** The k-shot draw of a few-shot run: k per class, which run, the draw's seed; null for high-shot. */
  fewShot: { shots: number; run: number; seed: number } | null;
  /**
   * Images trained on (anomalous among them), optimiser steps done, loss of the last step; the
   * processes that trained it and whether their BatchNorm ran over the whole batch (SyncBatchNorm).
   * (Models fitted before the last two were recorded lack them: one process.)
   */
  summary: { images: number; anomalies: number; steps: number; lastLoss: number | null; processes?: number; syncBatchNorm?: boolean };
}

export interface TwoClassDetectorConfig extends DetectorConfig, TwoClassFitRecord {
  format: string;
  version: number;
  input: InputConfig;
}

export interface TwoClassConfigRule {
  /** Display name for messages. */
  name: string;
  format: string;
  version: number;
  task: TwoClassTask;
  network: TwoClassNetworkKind;
}

function bad(rule: TwoClassConfigRule, what: string, cause?: unknown): SpotdiffError {
  return new SpotdiffError('ERR_BAD_CHECKPOINT', `the ${rule.name} model config ${what}`, cause === undefined ? undefined : { cause });
}

const isInt = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;

/**
 * Checks a 2-class model config as loaded from model.json: another format or version is
 * ERR_VERSION; anything else that is not what a fit writes is ERR_BAD_CHECKPOINT.
 */
export function checkTwoClassDetectorConfig(cfg: TwoClassDetectorConfig, rule: TwoClassConfigRule): void {
  if (cfg?.format !== rule.format) throw new SpotdiffError('ERR_VERSION', `not a ${rule.name} model config (format ${JSON.stringify(cfg?.format)})`);
  if (cfg.version !== rule.version) {
    throw new SpotdiffError('ERR_VERSION', `${rule.name} model version ${JSON.stringify(cfg.version)} is not supported by this spotdiff (it reads version ${rule.version}); fit the model again`);
  }
  // fewShot alone may be null (high-shot).
  for (const k of ['input', 'train', 'fewShot', 'summary'] as const) {
    if (typeof cfg[k] !== 'object' || (cfg[k] === null && k !== 'fewShot')) throw bad(rule, `has no "${k}" record`);
  }
  try {
    checkInputConfig(cfg.input);
    checkArch(cfg.input.backbone);
    checkTwoClassTrainConfig(cfg.train);
  } catch (e) {
    if (isSpotdiffError(e)) throw bad(rule, `is not valid: ${e.message}`, e);
    throw e;
  }
  if (cfg.network !== rule.network) throw bad(rule, `names network ${JSON.stringify(cfg.network)}, not '${rule.network}'`);
  if (cfg.train.task !== rule.task) throw bad(rule, `trained a ${JSON.stringify(cfg.train.task)}, not a ${rule.task}`);
  const [h, w] = cfg.input.imageSize;
  if (cfg.train.imageSize[0] !== h || cfg.train.imageSize[1] !== w) throw bad(rule, `trained at ${JSON.stringify(cfg.train.imageSize)} but takes input ${JSON.stringify(cfg.input.imageSize)}`);
  const f = cfg.fewShot;
  if ((cfg.train.protocol === 'few-shot') !== (f !== null)) throw bad(rule, `has protocol ${cfg.train.protocol} with fewShot ${JSON.stringify(f)}`);
  if (f !== null && !(isInt(f.shots, 1) && isInt(f.run, 0) && isInt(f.seed, 0))) throw bad(rule, `has an invalid few-shot draw ${JSON.stringify(f)}`);
  const s = cfg.summary;
  const lossOk = s.lastLoss === null || (typeof s.lastLoss === 'number' && Number.isFinite(s.lastLoss));
  const runOk = (s.processes === undefined || isInt(s.processes, 1)) && (s.syncBatchNorm === undefined || typeof s.syncBatchNorm === 'boolean');
  if (!(isInt(s.images, 2) && isInt(s.anomalies, 1) && s.anomalies < s.images && isInt(s.steps, 1) && lossOk && runOk)) throw bad(rule, `has an invalid training summary ${JSON.stringify(s)}`);
}
