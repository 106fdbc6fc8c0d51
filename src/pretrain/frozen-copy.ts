import * as T from '../tensor/index.js';
import { Module } from '../nn/index.js';

/**
 * Holds a module whose weights are state but not trained, such as MoCo's momentum key
 * encoder: every parameter and buffer of the inner module is registered here as a buffer
 * (under the inner module's own names), so a checkpoint saves and restores them while
 * parameters() and the optimiser never see them. Its parameters stop requiring gradients and
 * its forward runs without autograd. train()/eval() reach the inner module (its BatchNorms
 * use batch statistics in training, as MoCo's key encoder does).
 */
export class FrozenCopy<M extends Module> extends Module {
  constructor(readonly inner: M) {
    super();
    for (const [name, t] of inner.stateDict()) this.registerBuffer(name, t);
    for (const p of inner.parameters()) p.setRequiresGrad(false);
  }

  /** The inner module's weights in its parameter order (for a momentum update). */
  weights(): T.Tensor[] {
    return this.inner.parameters();
  }

  forward(x: T.Tensor): T.Tensor {
    return T.noGrad(() => this.inner.forward(x));
  }

  override train(on = true): this {
    super.train(on);
    this.inner.train(on);
    return this;
  }
}
