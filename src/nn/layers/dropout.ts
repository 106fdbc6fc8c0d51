import * as T from '../../tensor/index.js';
import { Module } from '../module.js';

/** Zeroes elements with probability p while training, scaling the rest by 1/(1−p). */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
  }
  forward(x: T.Tensor): T.Tensor {
    return T.dropout(x, this.p, this.training);
  }
}
