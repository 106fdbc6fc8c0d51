import * as T from '../../tensor/index.js';
import { Module } from '../module.js';
import { initBias, initWeight } from './init.js';

export interface Conv2dConfig {
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
  bias?: boolean;
}

/** torch.nn.Conv2d: weight [out, in/groups, k, k], optional bias; torch's default init. */
export class Conv2d extends Module {
  readonly weight: T.Tensor;
  readonly bias: T.Tensor | null;
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number, readonly config: Conv2dConfig = {}) {
    super();
    const groups = config.groups ?? 1;
    this.weight = this.registerParameter('weight', T.zeros([outChannels, inChannels / groups, kernelSize, kernelSize]));
    initWeight(this.weight);
    this.bias = config.bias === false ? null : this.registerParameter('bias', T.zeros([outChannels]));
    if (this.bias) initBias(this.bias, this.weight);
  }
  forward(x: T.Tensor): T.Tensor {
    const c = this.config;
    return T.conv2d(x, this.weight, this.bias, { stride: c.stride ?? 1, padding: c.padding ?? 0, dilation: c.dilation ?? 1, groups: c.groups ?? 1 });
  }
}
