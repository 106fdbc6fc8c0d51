import * as T from '../../tensor/index.js';
import { Module } from '../module.js';
import { initBias, initWeight } from './init.js';

/** torch.nn.Linear: weight [out, in], optional bias; torch's default init. */
export class Linear extends Module {
  readonly weight: T.Tensor;
  readonly bias: T.Tensor | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, bias = true) {
    super();
    this.weight = this.registerParameter('weight', T.zeros([outFeatures, inFeatures]));
    initWeight(this.weight);
    this.bias = bias ? this.registerParameter('bias', T.zeros([outFeatures])) : null;
    if (this.bias) initBias(this.bias, this.weight);
  }
  forward(x: T.Tensor): T.Tensor {
    return T.linear(x, this.weight, this.bias);
  }
}
