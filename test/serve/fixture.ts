import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSynthDataset } from '../../src/data/synth/generate.js';
import { prepareVisa } from '../../src/data/visa/prepare.js';
import { fitModel } from '../../src/detect/run/fit.js';
import type { HostScores, Scorer } from '../../src/serve/scorer.js';

/** A tiny fitted model for the server's tests: PaDiM on ResNet-18 (random init) at 64 px, synthetic pills. */
export interface TinyModel {
  model: string;
  /** Test images (64 × 64 RGB PNG): normal ones and anomalous ones. */
  images: string[];
}

export async function fitTinyModel(dir: string): Promise<TinyModel> {
  await generateSynthDataset({ out: join(dir, 'raw'), objects: ['pills'], seed: 0, normal: 12, anomalous: 4, size: 64, threads: 2 });
  const data = (await prepareVisa({ splitType: '1cls', dataFolder: join(dir, 'raw'), saveFolder: join(dir, 'prep'), progress: false })).outputFolder;
  const model = join(dir, 'model');
  await fitModel({ method: 'padim', data, object: 'pills', backbone: 'resnet18', size: 64, seed: 0, out: model, quiet: true });
  const test = join(data, 'pills', 'test');
  const images = readdirSync(test).flatMap((label) => readdirSync(join(test, label)).sort().map((f) => join(test, label, f)));
  return { model, images };
}

export const bytesOf = (path: string): Buffer => readFileSync(path);

/**
 * A scorer that holds every batch until release() (the real scorer then scores it): makes
 * scoring as slow as a test needs, to fill the queue or shut down while busy. Records the
 * batch sizes it saw and whether it was disposed after the last batch.
 */
export class GatedScorer implements Scorer {
  readonly batches: number[] = [];
  disposedAfter: number | null = null;
  private gate: Promise<void>;
  private open!: () => void;

  constructor(private readonly inner: Scorer) {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  get engine(): string {
    return this.inner.engine;
  }

  get device(): string {
    return this.inner.device;
  }

  get normalize(): Scorer['normalize'] {
    return this.inner.normalize;
  }

  release(): void {
    this.open();
  }

  async score(images: Float32Array, shape: readonly [number, 3, number, number]): Promise<HostScores> {
    await this.gate;
    this.batches.push(shape[0]);
    return this.inner.score(images, shape);
  }

  async dispose(): Promise<void> {
    this.disposedAfter = this.batches.length;
    await this.inner.dispose();
  }
}
