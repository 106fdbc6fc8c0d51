import { BatchNorm2d, Conv2d, Linear, MaxPool2d } from '../../nn/index.js';
import type { Module } from '../../nn/index.js';
import { SpotdiffError } from '../../util/errors.js';
import type { GraphBuilder } from './graph.js';

/**
 * Converters for single layers of the TS module tree. Convolutions absorb the BatchNorm that
 * follows them (eval mode: running statistics), folded in float64 and rounded to float32 once:
 * w' = w·γ/√(var+ε), b' = β + (b − μ)·γ/√(var+ε).
 */

/** A clear error for a module (or a setting of one) this exporter does not convert. */
export function unsupported(path: string, m: Module | null, what?: string): SpotdiffError {
  const kind = m === null ? 'nothing' : m.constructor.name;
  return new SpotdiffError('ERR_BAD_INPUT', `ONNX export: ${what ?? `module ${kind}`} at "${path}" is not supported by the exporter`);
}

/** Conv2d (+ an optional BatchNorm2d folded into it) as one Conv node. */
export function convBn(g: GraphBuilder, x: string, conv: Module, bn: Module | null, path: string): string {
  if (!(conv instanceof Conv2d)) throw unsupported(path, conv);
  if (bn !== null && !(bn instanceof BatchNorm2d)) throw unsupported(`${path} (after the conv)`, bn);
  const c = conv.config;
  const [out, inPerGroup, k] = [conv.outChannels, conv.inChannels / (c.groups ?? 1), conv.kernelSize];
  const w = Float64Array.from(conv.weight.toFloat32());
  const b = conv.bias === null ? new Float64Array(out) : Float64Array.from(conv.bias.toFloat32());
  if (bn !== null) {
    const [gamma, beta, mean, variance] = [bn.weight, bn.bias, bn.runningMean, bn.runningVar].map((t) => t.toFloat32()) as [Float32Array, Float32Array, Float32Array, Float32Array];
    const per = inPerGroup * k * k;
    for (let o = 0; o < out; o++) {
      const scale = (gamma[o] as number) / Math.sqrt((variance[o] as number) + bn.eps);
      for (let i = 0; i < per; i++) w[o * per + i] = (w[o * per + i] as number) * scale;
      b[o] = (beta[o] as number) + ((b[o] as number) - (mean[o] as number)) * scale;
    }
  }
  const p = c.padding ?? 0;
  const s = c.stride ?? 1;
  const d = c.dilation ?? 1;
  const weight = g.floats(`${path}.weight`, w, [out, inPerGroup, k, k]);
  const bias = g.floats(`${path}.bias`, b, [out]);
  return g.op('Conv', [x, weight, bias], { kernel_shape: [k, k], strides: [s, s], pads: [p, p, p, p], dilations: [d, d], group: c.groups ?? 1 }, path);
}

export function maxPool(g: GraphBuilder, x: string, m: Module, path: string): string {
  if (!(m instanceof MaxPool2d)) throw unsupported(path, m);
  const p = m.padding;
  return g.op('MaxPool', [x], { kernel_shape: [m.kernelSize, m.kernelSize], strides: [m.stride, m.stride], pads: [p, p, p, p] }, path);
}

/** Linear as Gemm: y = x·Wᵀ + b on [N, in]. */
export function linear(g: GraphBuilder, x: string, m: Module, path: string): string {
  if (!(m instanceof Linear)) throw unsupported(path, m);
  const weight = g.floats(`${path}.weight`, m.weight.toFloat32(), [m.outFeatures, m.inFeatures]);
  const inputs = [x, weight];
  if (m.bias !== null) inputs.push(g.floats(`${path}.bias`, m.bias.toFloat32(), [m.outFeatures]));
  return g.op('Gemm', inputs, { transB: 1 }, path);
}

/** The names of a module's children, checked against the ones a converter knows. */
export function checkChildren(m: Module, path: string, known: readonly string[]): void {
  for (const [name, child] of m.children()) if (!known.includes(name)) throw unsupported(`${path}.${name}`, child);
}
