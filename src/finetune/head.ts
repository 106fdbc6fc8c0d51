import { Linear, ReLU, Sequential } from '../nn/index.js';

/**
 * SimCLR's projection head g(h) = W2·ReLU(W1·h) on the backbone's pooled features h: the
 * contrastive terms act on z = g(h), while scoring uses h (what the detectors and a saved
 * backbone see). Parameters "0.weight", "0.bias", "2.weight", "2.bias", as torch's
 * nn.Sequential(Linear, ReLU, Linear). No BatchNorm: few-shot batches are tiny.
 */
export class ProjectionHead extends Sequential {
  constructor(readonly inFeatures: number, readonly hidden = 256, readonly outFeatures = 128) {
    super(new Linear(inFeatures, hidden), new ReLU(), new Linear(hidden, outFeatures));
  }
}
