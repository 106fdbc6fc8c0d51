import * as T from '../../tensor/index.js';
import type { DetectorConfig } from '../method.js';
import type { MapConfig } from './config.js';
import { scoresToHost, type FeatureMaps, type ScoreOptions, type Scores, type ScoreTensors } from './features.js';

/**
 * What a 1-class method fits on top of a frozen backbone (PaDiM's Gaussians, PatchCore's
 * memory bank): backbone features in, patch scores, maps and image scores out. The glue
 * (./feature-detector.ts) pairs one with the backbone into an AnomalyDetector.
 */

/** The config every feature head records: the input, the layers it reads, and its map post-processing. */
export interface FeatureHeadConfig extends DetectorConfig {
  layers: string[];
  map: MapConfig;
}

export abstract class FeatureHead {
  abstract readonly config: FeatureHeadConfig;

  /**
   * Scores a batch; the caller owns (and must dispose, or tidy away) the returned tensors.
   * Maps come out at config.input.imageSize unless `imageSize` says otherwise (e.g. for tiles).
   */
  abstract scoreTensors(features: FeatureMaps, opts?: ScoreOptions): ScoreTensors;

  /** The tensors to save, by name; they stay the head's (do not dispose them). */
  abstract stateDict(): Map<string, T.Tensor>;

  abstract dispose(): void;

  /** Scores a batch and copies the results to the host. */
  scores(features: FeatureMaps, opts: ScoreOptions = {}): Scores {
    const s = this.scoreTensors(features, opts);
    try {
      return scoresToHost(s);
    } finally {
      T.dispose(s);
    }
  }
}

/** Fits a head one batch at a time: add() each batch (read, never disposed), then finish() once. */
export interface FeatureHeadFitter<H extends FeatureHead> {
  readonly imagesSeen: number;
  add(features: FeatureMaps): void;
  finish(): H;
  /** Frees the state of an abandoned fit (harmless after finish()). */
  dispose(): void;
}

/** Feeds every batch to `fitter` and finishes it; the fitter is disposed either way. */
export function fitHead<H extends FeatureHead>(fitter: FeatureHeadFitter<H>, batches: Iterable<FeatureMaps>): H {
  try {
    for (const f of batches) fitter.add(f);
    return fitter.finish();
  } finally {
    fitter.dispose();
  }
}

/** The same for an async source (a data loader that decodes images ahead). */
export async function fitHeadAsync<H extends FeatureHead>(fitter: FeatureHeadFitter<H>, batches: AsyncIterable<FeatureMaps> | Iterable<FeatureMaps>): Promise<H> {
  try {
    for await (const f of batches) fitter.add(f);
    return fitter.finish();
  } finally {
    fitter.dispose();
  }
}
