import { statSync } from 'node:fs';
import { join } from 'node:path';
import { SpotdiffError } from '../util/errors.js';

/** --engine libtorch|onnx (default libtorch), for the commands that score with either. */
export type Engine = 'libtorch' | 'onnx';

export function engineFlag(value: string | undefined): Engine {
  const engine = value ?? 'libtorch';
  if (engine !== 'libtorch' && engine !== 'onnx') throw new SpotdiffError('ERR_USAGE', `--engine must be libtorch or onnx, got ${JSON.stringify(engine)}`);
  return engine;
}

/**
 * --model with --engine onnx: a file from spotdiff export, or a model folder holding one as
 * model.onnx. Returns the file to open.
 */
export function onnxModelFile(model: string): string {
  const isFolder = statSync(model, { throwIfNoEntry: false })?.isDirectory() === true;
  const file = isFolder ? join(model, 'model.onnx') : model;
  if (isFolder && statSync(file, { throwIfNoEntry: false }) === undefined) {
    throw new SpotdiffError('ERR_NOT_FOUND', `${model} holds no model.onnx; write one with spotdiff export --model ${model} --out ${file}`);
  }
  return file;
}
