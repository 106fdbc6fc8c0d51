import * as T from '../../../src/tensor/index.js';
import { toHost } from '../../../src/tensor/host.js';
import type { HostTensor } from '../../../src/tensor/io/index.js';
import type { Sample } from '../../../src/data/datasets/sample.js';
import { createBackbone } from '../../../src/models/backbone.js';
import { DataLoader } from '../../../src/data/loader.js';
import type { AnomalyDetector, FitContext } from '../../../src/detect/method.js';

/**
 * What fitModel hands a method, built directly (the glue's checks and hold-out are its own
 * tests'): the samples, a seeded random-init resnet18, whole images at `size` px.
 */
export async function fitContext(samples: Sample[], size: number, options: Record<string, unknown>, o: { seed?: number; work?: FitContext['work'] } = {}): Promise<FitContext> {
  const seed = o.seed ?? 0;
  const { model } = await createBackbone('resnet18', undefined, seed);
  return {
    samples,
    backbone: model,
    arch: 'resnet18',
    input: { backbone: 'resnet18', weights: null, resize: null, crop: null, imageSize: [size, size] },
    resize: [size, size],
    tile: null,
    seed,
    batchSize: 4,
    device: 'cpu',
    quiet: true,
    options,
    work: o.work ?? null,
  };
}

/** The images preprocessed as scoring does (resize, ImageNet normalisation): [N, 3, size, size] on the host. */
export async function imageBatch(samples: Sample[], size: number): Promise<{ data: Float32Array; shape: [number, 3, number, number] }> {
  const loader = new DataLoader(samples, { batchSize: samples.length, preprocess: { resize: [size, size] } });
  for await (const b of loader) return { data: b.images, shape: [...b.shape] as [number, 3, number, number] };
  throw new Error('no images');
}

/** score() of a batch, on the host. */
export function scoreHost(d: AnomalyDetector, batch: { data: Float32Array; shape: [number, 3, number, number] }): { imageScores: Float32Array; maps: Float32Array } {
  return T.tidy(() => {
    const s = d.score(T.tensor(batch.data, batch.shape));
    return { imageScores: s.imageScores.toFloat32(), maps: s.maps.toFloat32() };
  });
}

/** What a model folder keeps: host copies of stateDict() and the config as JSON. */
export function saved(d: AnomalyDetector): { config: unknown; tensors: Map<string, HostTensor> } {
  return { config: JSON.parse(JSON.stringify(d.config)), tensors: new Map([...d.stateDict()].map(([k, t]) => [k, toHost(t)])) };
}

/** Float32 values as raw bits (bit-for-bit comparison). */
export function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}
