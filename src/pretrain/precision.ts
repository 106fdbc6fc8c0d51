import * as T from '../tensor/index.js';
import type { Module } from '../nn/module.js';
import type { PretrainLoss, PretrainMethod, PretrainViews } from './method.js';

/** How a run computes: the autocast dtype of its forward and loss (null: fp32) and the memory format of its convolutions. */
export interface RunPrecision {
  autocast: T.AutocastDType | null;
  channelsLast: boolean;
  device: T.Device;
}

/** The run's precision; refuses one the device cannot run (fp16 on a CPU) before anything is trained. */
export function runPrecision(options: { precision?: T.Precision; channelsLast?: boolean }, device: T.Device): RunPrecision {
  const precision = options.precision ?? 'fp32';
  T.checkPrecision(precision, device);
  return { autocast: T.autocastDtypeOf(precision), channelsLast: options.channelsLast === true, device };
}

/** channels_last: the module's 4-D parameters and buffers re-laid out in place (the optimiser keeps them). */
export function applyMemoryFormat(module: Module, p: RunPrecision): void {
  if (!p.channelsLast) return;
  T.channelsLastInPlace([...module.parameters(), ...module.namedBuffers().map(([, b]) => b)]);
}

function channelsLastViews(v: PretrainViews): PretrainViews {
  const cl = (t: T.Tensor): T.Tensor => T.toMemoryFormat(t, 'channels_last');
  return {
    ...v,
    first: cl(v.first),
    second: v.second === null ? null : cl(v.second),
    labels: v.labels,
    spd: v.spd === null ? null : { anchor: cl(v.spd.anchor), positive: cl(v.spd.positive), negative: cl(v.spd.negative) },
  };
}

/**
 * The method's loss on the views, its forward under autocast as torch.autocast is meant to be
 * used (the views are made outside it, backward and the step run after it).
 */
export function lossAt(method: PretrainMethod, views: PretrainViews, p: RunPrecision): PretrainLoss {
  const input = p.channelsLast ? channelsLastViews(views) : views;
  return p.autocast === null ? method.loss(input) : T.withAutocast(p.autocast, () => method.loss(input), p.device);
}
