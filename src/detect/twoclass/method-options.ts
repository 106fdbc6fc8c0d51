import { SpotdiffError } from '../../util/errors.js';
import type { TwoClassProtocol } from './config.js';

/**
 * The options both 2-class methods take (FitContext.options; the CLI maps its flags onto these
 * keys): `protocol` 'high-shot' (default) | 'few-shot'; `shots` (k per class, required with
 * few-shot); `run` (which k-shot draw, default 0); `epochs` (high-shot) or `iterations`
 * (few-shot) to override the paper's length; `lr`; `syncBn` (data-parallel runs: BatchNorm over
 * the global batch, SyncBatchNorm; default false: the paper does not say, and per-process
 * statistics are DDP's default). Each method adds its own loss keys.
 * Images per step are ctx.batchSize (the same meaning as for scoring: images per batch).
 */
export const TWOCLASS_RUN_OPTION_KEYS = ['protocol', 'shots', 'run', 'epochs', 'iterations', 'lr', 'syncBn'] as const;

export interface TwoClassRunOptions {
  protocol: TwoClassProtocol;
  /** The k-shot draw (few-shot only). */
  fewShot: { shots: number; run: number } | null;
  epochs?: number;
  iterations?: number;
  lr?: number;
  /** Data-parallel runs: SyncBatchNorm (default false). */
  syncBn: boolean;
}

function positiveInt(method: string, key: string, v: unknown, min: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new SpotdiffError('ERR_BAD_INPUT', `${method}: ${key} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return v;
}

/** Reads and checks the shared keys (the method has refused unknown keys already). */
export function readTwoClassRunOptions(method: string, options: Readonly<Record<string, unknown>>): TwoClassRunOptions {
  const protocol = options['protocol'] ?? 'high-shot';
  if (protocol !== 'high-shot' && protocol !== 'few-shot') throw new SpotdiffError('ERR_BAD_INPUT', `${method}: protocol must be 'high-shot' or 'few-shot', got ${JSON.stringify(protocol)}`);
  const shots = positiveInt(method, 'shots', options['shots'], 1);
  const run = positiveInt(method, 'run', options['run'], 0);
  if (protocol === 'few-shot' && shots === undefined) throw new SpotdiffError('ERR_BAD_INPUT', `${method}: the few-shot protocol needs shots (k images per class)`);
  if (protocol === 'high-shot' && (shots !== undefined || run !== undefined)) {
    throw new SpotdiffError('ERR_BAD_INPUT', `${method}: shots and run choose a k-shot draw; they apply to the few-shot protocol only`);
  }
  const epochs = positiveInt(method, 'epochs', options['epochs'], 1);
  const iterations = positiveInt(method, 'iterations', options['iterations'], 1);
  const lr = options['lr'];
  if (lr !== undefined && (typeof lr !== 'number' || !Number.isFinite(lr) || lr <= 0)) throw new SpotdiffError('ERR_BAD_INPUT', `${method}: lr must be a finite number > 0, got ${JSON.stringify(lr)}`);
  const syncBn = options['syncBn'] ?? false;
  if (typeof syncBn !== 'boolean') throw new SpotdiffError('ERR_BAD_INPUT', `${method}: syncBn must be true or false, got ${JSON.stringify(syncBn)}`);
  const fewShot = protocol === 'few-shot' ? { shots: shots as number, run: run ?? 0 } : null;
  return { protocol, fewShot, epochs, iterations, lr: lr as number | undefined, syncBn };
}

/** Focal-loss parameters from `gamma` (≥ 0) and `alpha` ([0, 1] or null for no class weighting). */
export function readFocalOptions(method: string, options: Readonly<Record<string, unknown>>, defaults: { gamma: number; alpha: number | null }): { gamma: number; alpha: number | null } {
  const gamma = options['gamma'] ?? defaults.gamma;
  if (typeof gamma !== 'number' || !Number.isFinite(gamma) || gamma < 0) throw new SpotdiffError('ERR_BAD_INPUT', `${method}: gamma must be a finite number ≥ 0, got ${JSON.stringify(gamma)}`);
  const alpha = options['alpha'] === undefined ? defaults.alpha : options['alpha'];
  if (alpha !== null && (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1))) throw new SpotdiffError('ERR_BAD_INPUT', `${method}: alpha must be a number in [0, 1] or null, got ${JSON.stringify(alpha)}`);
  return { gamma, alpha };
}
