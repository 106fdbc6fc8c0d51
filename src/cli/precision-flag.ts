import { SpotdiffError } from '../util/errors.js';
import type { Precision } from '../tensor/autocast.js';

const PRECISION_FLAGS: readonly Precision[] = ['fp32', 'bf16', 'fp16'];

/** --precision fp32|bf16|fp16 (default fp32); fp16 with --device cpu is refused here, before any work. */
export function precisionFlag(value: string | undefined, device: string): Precision {
  if (value === undefined) return 'fp32';
  if (!(PRECISION_FLAGS as readonly string[]).includes(value)) {
    throw new SpotdiffError('ERR_USAGE', `--precision must be one of ${PRECISION_FLAGS.join(', ')}, got "${value}"`);
  }
  if (value === 'fp16' && device === 'cpu') {
    throw new SpotdiffError('ERR_USAGE', '--precision fp16 needs a CUDA device (--device cuda); on the CPU use --precision bf16');
  }
  return value as Precision;
}
