import { join, resolve } from 'node:path';
import { methodInfos } from '../detect/registry.js';
import { SpotdiffError } from '../util/errors.js';
import type { PretrainMethodName } from './method.js';
import { checkPretrainOptions, type PretrainOptions } from './options.js';

// Kept free of the tensor engine: `spotdiff ablation` checks its flags with it before libtorch
// loads.

/**
 * The paper's SPD ablation: one pre-training method run twice from the same seed on the same
 * images, once without SPD (η = 0) and once with it (η), each backbone then scored by the same
 * detector (PaDiM by default) on every object of an evaluation dataset.
 */
export interface AblationOptions {
  method: PretrainMethodName;
  /** Pre-training data folders (their normal training images). */
  data: readonly string[];
  backbone: string;
  epochs: number;
  batchSize: number;
  /** Pre-training views and the detector's input are size×size (default 224). */
  size?: number;
  /** Seed of both pre-training runs and of the detector's fit (default 0). */
  seed?: number;
  /** SPD's weight in the "w/ SPD" run (default 0.1, the paper's); must be > 0. */
  eta?: number;
  /** Weights both runs start from (--init); unset: seeded random init. */
  init?: string;
  /** Prepared evaluation dataset (train normals to fit the detector, test split to score). */
  evalData: string;
  /** Objects of evalData to evaluate (default: all). */
  objects?: readonly string[];
  /** Detector fitted on each backbone: a registered method (default padim). */
  detector?: string;
  out: string;
  /** Pre-training device: 'cpu' (default), 'cuda', 'cuda:N' or 'auto'. */
  device?: string;
  /** Keep each fitted model folder (by default removed once its metrics are saved). */
  keepModels?: boolean;
  /** No progress bars or stage lines. */
  quiet?: boolean;
}


/** The two arms of the ablation, in table order. */
export const ABLATION_ARMS = ['withoutSpd', 'withSpd'] as const;
export type AblationArm = (typeof ABLATION_ARMS)[number];
export const ARM_LABELS: Readonly<Record<AblationArm, string>> = { withoutSpd: 'w/o SPD', withSpd: 'w/ SPD' };

export interface AblationPlan {
  options: AblationOptions;
  eta: number;
  detector: string;
  size: number;
  seed: number;
  out: string;
  /** Per arm: its folder under out (the pre-training run's --out) and its pre-training options. */
  arms: Record<AblationArm, { dir: string; eta: number; pretrain: PretrainOptions }>;
}

/**
 * The arm folders are named after η ("no-spd", "spd-eta0.1"), so an ablation rerun with another
 * η in the same --out reuses the run without SPD and starts a new one with SPD.
 */
export function armFolder(eta: number): string {
  return eta === 0 ? 'no-spd' : `spd-eta${eta}`;
}

function usage(message: string): SpotdiffError {
  return new SpotdiffError('ERR_USAGE', message);
}

/** Checks everything that needs no files and derives both runs' pre-training options. */
export function planAblation(o: AblationOptions): AblationPlan {
  const eta = o.eta ?? 0.1;
  if (!(eta > 0 && Number.isFinite(eta))) throw usage(`--eta must be a number > 0 (the "w/ SPD" run's SPD weight; the "w/o SPD" run has η = 0), got ${o.eta}`);
  const detector = o.detector ?? 'padim';
  // The study fits on the normal images of a 1cls split, as the paper's Table 2 does.
  const oneClass = methodInfos().filter((m) => m.kind === 'one-class').map((m) => m.name);
  if (!oneClass.includes(detector)) throw usage(`--detector must be a 1-class detector, one of ${oneClass.join(', ')}, got "${detector}"`);
  if (o.out === '') throw usage('--out is required');
  if (o.evalData === '') throw usage('--eval-data is required');
  if (o.objects !== undefined && o.objects.length === 0) throw usage('--objects names no object');
  const out = resolve(o.out);
  const size = o.size ?? 224;
  const seed = o.seed ?? 0;
  const arm = (armEta: number): AblationPlan['arms'][AblationArm] => {
    const dir = join(out, armFolder(armEta));
    const pretrain: PretrainOptions = {
      method: o.method,
      spd: { eta: armEta },
      data: o.data,
      backbone: o.backbone,
      ...(o.init !== undefined ? { init: o.init } : {}),
      epochs: o.epochs,
      batchSize: o.batchSize,
      size,
      seed,
      out: dir,
      device: o.device ?? 'cpu',
      quiet: o.quiet === true,
    };
    checkPretrainOptions(pretrain);
    return { dir, eta: armEta, pretrain };
  };
  return { options: o, eta, detector, size, seed, out, arms: { withoutSpd: arm(0), withSpd: arm(eta) } };
}
