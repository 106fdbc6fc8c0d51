import type { GraphBuilder } from './graph.js';

/**
 * Adaptive average pooling along one axis (F.adaptive_avg_pool1d over the channel axis, as
 * PatchCore's MeanMapper and Aggregator use it): output i is the mean of inputs
 * [⌊i·K/S⌋, ⌈(i+1)·K/S⌉). As ONNX: Gather the widest bin's worth of inputs for every output
 * (short bins padded with their own first index), weight them 1/len (0 on padding), ReduceSum.
 * The cost is S × (widest bin) per position, not S × K as a pooling matrix would be.
 */
export function adaptiveAvgPoolAxis(g: GraphBuilder, x: string, rank: number, axis: number, inSize: number, outSize: number, hint: string): string {
  if (inSize === outSize) return x;
  const bins: [number, number][] = [];
  for (let i = 0; i < outSize; i++) bins.push([Math.floor((i * inSize) / outSize), Math.ceil(((i + 1) * inSize) / outSize)]);
  const widest = Math.max(...bins.map(([a, b]) => b - a));
  const index = new Array<number>(outSize * widest);
  const weight = new Float32Array(outSize * widest);
  bins.forEach(([a, b], i) => {
    for (let k = 0; k < widest; k++) {
      index[i * widest + k] = a + k < b ? a + k : a;
      weight[i * widest + k] = a + k < b ? 1 / (b - a) : 0;
    }
  });
  const gathered = g.op('Gather', [x, g.ints(`${hint}_index`, index, [outSize, widest])], { axis }); // axis → (S, widest)
  const trailing = rank - axis - 1;
  const wShape = [outSize, widest, ...new Array<number>(trailing).fill(1)];
  const weighted = g.op('Mul', [gathered, g.floats(`${hint}_weight`, weight, wShape)]);
  return g.op('ReduceSum', [weighted, g.intList([axis + 1])], { keepdims: 0 }, hint);
}
