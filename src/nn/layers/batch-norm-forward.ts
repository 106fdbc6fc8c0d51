import * as T from '../../tensor/index.js';

/** A batch-norm layer's tensors under torch's names, and whether it is training. */
export interface BatchNormTensors {
  weight: T.Tensor | null;
  bias: T.Tensor | null;
  runningMean: T.Tensor;
  runningVar: T.Tensor;
  numBatchesTracked: T.Tensor;
  training: boolean;
}

/**
 * torch's _BatchNorm.forward over a layer's tensors: a training step counts the batch in
 * num_batches_tracked and normalises with the batch's statistics (updating the running ones by
 * `momentum`); evaluation normalises with the running statistics.
 */
export function batchNormForward(layer: BatchNormTensors, x: T.Tensor, eps: number, momentum: number): T.Tensor {
  if (layer.training) T.noGrad(() => T.addInPlace(layer.numBatchesTracked, 1));
  return T.batchNorm(x, {
    weight: layer.weight,
    bias: layer.bias,
    runningMean: layer.runningMean,
    runningVar: layer.runningVar,
    training: layer.training,
    momentum,
    eps,
  });
}
