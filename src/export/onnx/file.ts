import { access } from 'node:fs/promises';
import { SpotdiffError } from '../../util/errors.js';
import type { OnnxModelInfo } from './metadata.js';

/**
 * `spotdiff export`'s library call: a model folder → an .onnx file, written atomically; an
 * existing file is only replaced with `force`. Loads libtorch (to read the model) on first use.
 */
export async function exportModelFolder(modelDir: string, out: string, opts: { force?: boolean } = {}): Promise<OnnxModelInfo> {
  if (opts.force !== true && (await exists(out))) throw new SpotdiffError('ERR_BAD_INPUT', `${out} already exists; choose another path or allow replacing it`);
  const { loadModelFolder, disposeModel } = await import('../../detect/run/model-folder.js');
  const { exportOnnx } = await import('./export.js');
  const { writeFileAtomic } = await import('../../util/atomic-write.js');
  const model = await loadModelFolder(modelDir);
  try {
    const { bytes, info } = exportOnnx(model);
    await writeFileAtomic(out, bytes);
    return info;
  } finally {
    disposeModel(model);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
