import type { PatchConv } from '../../detect/patchcore/patch-pooling.js';
import type { GraphBuilder } from './graph.js';

/**
 * A layer's planned grouped convolution (detect/patchcore/patch-pooling.ts) as one Conv node with
 * fixed weights on x [B, C, h, w]: output [B, rows, h, w].
 */
export function patchConvNode(g: GraphBuilder, x: string, conv: PatchConv, hint: string): string {
  const [, , p] = conv.shape;
  const pad = conv.padding;
  const wName = g.floats(`${hint}_weight`, conv.weight, conv.shape);
  return g.op('Conv', [x, wName], { kernel_shape: [p, p], pads: [pad, pad, pad, pad], group: conv.groups }, hint);
}
