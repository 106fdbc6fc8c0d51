import * as T from '../../tensor/index.js';
import { Module } from '../module.js';

export class MaxPool2d extends Module {
  constructor(readonly kernelSize: number, readonly stride = kernelSize, readonly padding = 0) {
    super();
  }
  forward(x: T.Tensor): T.Tensor {
    return T.maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding });
  }
}

export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: number) {
    super();
  }
  forward(x: T.Tensor): T.Tensor {
    return T.adaptiveAvgPool2d(x, this.outputSize);
  }
}

export class Flatten extends Module {
  constructor(readonly startDim = 1) {
    super();
  }
  forward(x: T.Tensor): T.Tensor {
    return T.flatten(x, this.startDim);
  }
}
