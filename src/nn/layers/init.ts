import * as T from '../../tensor/index.js';

/** torch's default for Conv2d and Linear weights: kaiming_uniform_(a=√5). */
export function initWeight(w: T.Tensor): void {
  T.kaimingUniform_(w, { a: Math.sqrt(5) });
}

/** torch's default bias: U(−1/√fan_in, 1/√fan_in) of the layer's weight. */
export function initBias(b: T.Tensor, weight: T.Tensor): void {
  const fanIn = T.fanIn(weight);
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  T.uniform_(b, -bound, bound);
}
