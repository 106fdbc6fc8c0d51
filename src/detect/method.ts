import type { ProcessGroup } from '../distributed/process-group.js';
import type * as T from '../tensor/index.js';
import type { HostTensor } from '../tensor/io/index.js';
import type { Sample } from '../data/datasets/sample.js';
import type { ResNet } from '../models/resnet.js';
import type { ResNetArch } from '../models/backbone-names.js';
import type { InputConfig } from './common/config.js';
import type { TileConfig } from './common/tiling.js';

/**
 * One interface for every detector, 1-class (PaDiM, PatchCore: a frozen backbone's features
 * against statistics of normal images) and 2-class (a classifier and a segmenter trained on
 * labelled normal and anomalous images). The glue (fit, eval, predict, benchmark, demo,
 * ablation) only ever sees these types and the registry (./registry.ts): a new method is a
 * folder with a `DetectorMethodInfo` (info.ts, engine-free) and a `DetectorMethod` (method.ts),
 * and one line in the registry; no caller branches on its name.
 *
 * Refinements of the first draft: the engine-free part of a method is its own type
 * (DetectorMethodInfo, with `optionKeys`), so that the CLI can check `--method`, map method
 * flags and list the methods before libtorch loads (the registry loads an implementation on
 * first use: `await detectorMethod(name)`); and a fit that throws leaves the backbone to the
 * glue, so no method needs its own cleanup for it.
 */

/** What model.json records under "detector": plain JSON, the method's own fields beside `input`. */
export interface DetectorConfig {
  /** The network's input; maps come out at input.imageSize unless asked otherwise. */
  input: InputConfig;
}

/** One batch scored: [B] image scores and [B, H, W] anomaly maps, float32, on the detector's device. */
export interface ImageScores {
  imageScores: T.Tensor;
  maps: T.Tensor;
}

/**
 * A fitted detector: preprocessed images (resized, ImageNet-normalised, [B, 3, H, W] float32 on
 * its device) in, scores and maps out. It owns every tensor it needs (the backbone included)
 * and frees them in dispose(). Scoring runs without gradients in eval mode; the caller owns
 * the returned tensors.
 */
export interface AnomalyDetector {
  readonly method: string;
  readonly config: DetectorConfig;
  readonly device: T.Device;
  /** Scores and final maps (at `imageSize`, default config.input.imageSize). */
  score(images: T.Tensor, opts?: { imageSize?: readonly [number, number] }): ImageScores;
  /**
   * Tiled scoring, first half: each tile's map at the tile's own size before any smoothing
   * that must see the whole image (PaDiM/PatchCore: upsampled patch scores, not yet blurred).
   */
  tileMaps(tiles: T.Tensor): T.Tensor;
  /** Tiled scoring, second half: the stitched [B, H, W] maps to final maps and image scores. */
  finishStitched(stitched: T.Tensor): ImageScores;
  /** Every tensor that load() needs back, by name (the model folder stores them under these names). */
  stateDict(): Map<string, T.Tensor>;
  dispose(): void;
}

/** What every fit gets from the glue, whatever the method. */
export interface FitContext {
  /** The images to fit on (the train split minus the held-out validation part). */
  samples: Sample[];
  /**
   * The initial backbone (pretrained or seeded random), in eval mode on `device`. The returned
   * detector owns it; when fit throws, the glue disposes it (disposing twice is harmless).
   */
  backbone: ResNet;
  arch: ResNetArch;
  input: InputConfig;
  /** Whole images are resized to this [height, width] before the network (or before tiling). */
  resize: [number, number];
  tile: TileConfig | null;
  seed: number;
  batchSize: number;
  device: T.Device;
  quiet: boolean;
  /** The method's own options, as parsed from flags or a request (checked by the method). */
  options: Readonly<Record<string, unknown>>;
  /** Where a long fit keeps its checkpoints and log (null: none); `resume` continues from them. */
  work: { dir: string; resume: boolean } | null;
  /** Data-parallel training (two-class methods): this process is one rank of the group; absent: one process. */
  group?: ProcessGroup | null;
}

/**
 * What is known of a method without loading it (no tensor engine): the registry and the CLI's
 * flag checks and help texts read only this.
 */
export interface DetectorMethodInfo {
  /** The name used by `--method` and stored in model.json. */
  readonly name: string;
  /** 'one-class' fits on normal images only; 'two-class' needs labelled anomalies too. */
  readonly kind: 'one-class' | 'two-class';
  /** One line for help texts; the part before a colon, if any, is the method's display name. */
  readonly summary: string;
  /**
   * Whether its maps localise defects. False (the classifier): maps are the image score
   * everywhere, so eval reports no pixel metrics and predict writes no heatmaps or masks.
   */
  readonly localises: boolean;
  /** Backbone layers whose features it reads (1-class), for docs and checks; [] for end-to-end networks. */
  readonly defaultLayers: readonly string[];
  /** Keys of FitContext.options it accepts (the CLI maps flags onto them). */
  readonly optionKeys: readonly string[];
}

export interface DetectorMethod extends DetectorMethodInfo {
  fit(ctx: FitContext): Promise<AnomalyDetector>;
  /** Rebuilds a fitted detector on `device` from model.json's config and the tensors of stateDict(). */
  load(config: DetectorConfig, tensors: ReadonlyMap<string, HostTensor>, device: T.Device, source: string): AnomalyDetector;
}
