import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../cli/run-cli.js';
import { loadImage } from '../../../src/data/image.js';

/**
 * Synthetic pills at 64 px (1cls split) and model folders fitted on them with resnet18 from
 * seeded random weights: what the ONNX tests export and score.
 */
export interface OnnxFixture {
  data: string;
  /** Test images (anomalous and normal). */
  images: string[];
  models: Record<string, string>;
}

export async function makeFixture(dir: string, methods: readonly string[]): Promise<OnnxFixture> {
  return fixtureOn(dir, '1cls', ['--normal', '12', '--anomalous', '3'], Object.fromEntries(methods.map((m) => [m, [m]])));
}

/**
 * The same on the 2cls_highshot split (20 + 20 pills) for the 2-class methods; `fits` maps a
 * folder name to its --method and extra fit flags.
 */
export async function makeTwoClassFixture(dir: string, fits: Readonly<Record<string, readonly string[]>>): Promise<OnnxFixture> {
  return fixtureOn(dir, '2cls_highshot', ['--normal', '20', '--anomalous', '20'], fits);
}

async function fixtureOn(dir: string, split: string, counts: string[], fits: Readonly<Record<string, readonly string[]>>): Promise<OnnxFixture> {
  assert.equal((await runCli(['synth', '--out', join(dir, 'raw'), '--objects', 'pills', ...counts, '--size', '64', '--quiet'])).code, 0);
  const p = await runCli(['prepare', '--split-type', split, '--data-folder', join(dir, 'raw'), '--save-folder', join(dir, 'prep')]);
  assert.equal(p.code, 0, p.stderr);
  const data = join(dir, 'prep', split);
  const models: Record<string, string> = {};
  for (const [name, [method, ...extra]] of Object.entries(fits)) {
    models[name] = join(dir, name);
    const f = await runCli(['fit', '--method', method!, '--data', data, '--backbone', 'resnet18', '--size', '64', '--quiet', '--out', models[name]!, ...extra]);
    assert.equal(f.code, 0, f.stderr);
  }
  const test = join(data, 'pills', 'test');
  const images = ['bad', 'good'].flatMap((s) => readdirSync(join(test, s)).map((f) => join(test, s, f)));
  return { data, images, models };
}

/** The images as one [N, 3, size, size] batch: in [0, 1] (the ONNX graph's input) and ImageNet-normalised (the detector's). */
export async function batches(images: readonly string[], size = 64): Promise<{ raw: Float32Array; normalized: Float32Array }> {
  const plane = 3 * size * size;
  const raw = new Float32Array(images.length * plane);
  const normalized = new Float32Array(images.length * plane);
  for (const [i, f] of images.entries()) {
    raw.set((await loadImage(f, { resize: [size, size], normalize: null })).data, i * plane);
    normalized.set((await loadImage(f, { resize: [size, size] })).data, i * plane);
  }
  return { raw, normalized };
}

/**
 * ONNX Runtime and libtorch agree within 1e-4 of the values' scale: |a − b| ≤ 1e-4 · max(1, max |b|)
 * (float32 graphs that sum in another order; the BatchNorm is folded into the convolutions).
 */
export function assertClose(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const scale = Math.max(1, ...Array.from(want, Math.abs));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((got[i] as number) - (want[i] as number)));
  assert.ok(worst <= 1e-4 * scale, `${what}: max |onnx − libtorch| = ${worst} > ${1e-4 * scale}`);
}
