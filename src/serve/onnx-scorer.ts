import type { OnnxScorer } from '../export/onnx/index.js';
import { SpotdiffError } from '../util/errors.js';
import type { HostScores, Scorer } from './scorer.js';

/**
 * An exported graph's ONNX Runtime session as a Scorer: whole images in [0, 1] (the graph
 * normalises as its first node, so normalize is 'none'), on the CPU. It owns the session and
 * closes it.
 */
export function onnxScorer(session: OnnxScorer): Scorer {
  const [height, width] = session.imageSize;
  let disposed = false;
  return {
    engine: 'onnx',
    device: 'cpu',
    normalize: 'none',
    async score(images, shape): Promise<HostScores> {
      if (disposed) throw new SpotdiffError('ERR_DISPOSED', 'the model was disposed; the server is shutting down');
      const [n, , h, w] = shape;
      if (h !== height || w !== width) throw new SpotdiffError('ERR_SHAPE', `the ONNX graph takes ${height}×${width} images, got ${h}×${w}`);
      return session.score(images, n);
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await session.close();
    },
  };
}
