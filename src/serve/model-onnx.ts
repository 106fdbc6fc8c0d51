/**
 * The served model as ONNX bytes, for the inspection page (GET /v1/model.onnx): exported on
 * first request from the model folder the server was started with (so it is always the served
 * model, never a stale model.onnx beside it), then kept in memory. Loads the folder once more on
 * the CPU for the export and frees it after.
 */
export type OnnxSource = () => Promise<Uint8Array>;

export function onnxOfModelFolder(dir: string): OnnxSource {
  let bytes: Promise<Uint8Array> | null = null;
  return () => {
    bytes ??= exportOnce(dir);
    // A failed export is not cached: the answer says why, and a later request tries again.
    bytes.catch(() => (bytes = null));
    return bytes;
  };
}

async function exportOnce(dir: string): Promise<Uint8Array> {
  const { loadModelFolder, disposeModel } = await import('../detect/run/model-folder.js');
  const { exportOnnx } = await import('../export/onnx/export.js');
  const model = await loadModelFolder(dir, { device: 'cpu' });
  try {
    return exportOnnx(model).bytes;
  } finally {
    disposeModel(model);
  }
}
