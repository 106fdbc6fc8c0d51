import type * as T from '../../tensor/index.js';
import { Module } from '../module.js';

/** Children named "0", "1", ... applied in order, as torch.nn.Sequential. */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((m, i) => this.registerModule(String(i), m));
  }
  forward(x: T.Tensor): T.Tensor {
    let y = x;
    for (const m of this.layers) y = m.forward(y);
    return y;
  }
}
