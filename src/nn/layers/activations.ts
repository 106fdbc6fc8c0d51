import * as T from '../../tensor/index.js';
import { Module } from '../module.js';

export class ReLU extends Module {
  forward(x: T.Tensor): T.Tensor {
    return T.relu(x);
  }
}

export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: T.Tensor): T.Tensor {
    return T.leakyRelu(x, this.negativeSlope);
  }
}

export class Sigmoid extends Module {
  forward(x: T.Tensor): T.Tensor {
    return T.sigmoid(x);
  }
}

export class Identity extends Module {
  forward(x: T.Tensor): T.Tensor {
    return x;
  }
}
