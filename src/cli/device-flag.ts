import { SpotdiffError } from '../util/errors.js';

/**
 * --device cpu|cuda|cuda:N|auto (default cpu) for the detector commands: checked before any
 * work, a device that is not there (CUDA without a CUDA libtorch or GPU) being a usage error.
 */
export async function deviceFlag(value: string | undefined): Promise<string> {
  if (value === undefined || value === 'cpu') return 'cpu';
  if (value !== 'auto' && !/^cuda(:\d+)?$/.test(value)) throw new SpotdiffError('ERR_USAGE', `--device must be cpu, cuda, cuda:N or auto, got "${value}"`);
  const T = await import('../tensor/index.js');
  if (value !== 'auto' && !T.cudaAvailable()) {
    throw new SpotdiffError('ERR_USAGE', `--device ${value}: no usable CUDA here (the linked libtorch has none, or there is no GPU; see spotdiff doctor); use --device cpu or auto`);
  }
  return T.resolveDevice(value);
}
