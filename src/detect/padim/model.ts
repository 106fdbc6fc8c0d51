import * as T from '../../tensor/index.js';
import { SpotdiffError } from '../../util/errors.js';
import { anomalyMaps, maxPerImage } from '../common/anomaly-map.js';
import type { FeatureMaps, ScoreOptions, ScoreTensors } from '../common/features.js';
import { FeatureHead, fitHead, fitHeadAsync, type FeatureHeadFitter } from '../common/feature-head.js';
import { checkPadimConfig, defaultPadimChannels, padimChannelIndices, resolvePadimConfig, type PadimConfig, type PadimOptions } from './config.js';
import { padimEmbedding, padimLayout } from './embedding.js';
import { DEFAULT_CHUNK_BYTES, GaussianAccumulator, type GaussianChunk } from './gaussian-stats.js';

/**
 * A fitted PaDiM model: per-position mean and inverse covariance of the training embeddings.
 * It owns its tensors; dispose() frees them. Scoring: Mahalanobis distance per position,
 * bilinear upsampling to the image size, Gaussian blur, image score = map maximum.
 */
export class PadimModel extends FeatureHead {
  readonly config: PadimConfig;
  readonly channelIndex: readonly number[];
  private readonly mean: T.Tensor; // [HW, d] f32
  private readonly chunks: readonly GaussianChunk[];
  private readonly indexTensor: T.Tensor; // channel_index as saved
  private disposed = false;

  /** Takes ownership of the tensors. Use fitPadim or PadimModel.fromStateDict rather than this. */
  constructor(config: PadimConfig, channelIndex: readonly number[], mean: T.Tensor, chunks: readonly GaussianChunk[]) {
    super();
    checkPadimConfig(config, true);
    this.config = config;
    this.channelIndex = channelIndex;
    this.mean = mean;
    this.chunks = chunks;
    this.indexTensor = T.keep(T.tensor(BigInt64Array.from(channelIndex, (v) => BigInt(v)), [channelIndex.length], { device: mean.device }));
  }

  /**
   * Scores a batch; the caller owns (and must dispose, or tidy away) the returned tensors.
   * Maps come out at config.input.imageSize unless `imageSize` says otherwise (e.g. for tiles).
   */
  scoreTensors(features: FeatureMaps, opts: ScoreOptions = {}): ScoreTensors {
    this.checkAlive();
    const fitted = this.config.fitted!;
    return T.noGrad(() =>
      T.tidy(() => {
        const emb = padimEmbedding(features, this.config.layers, this.channelIndex, fitted);
        const [b, d] = emb.shape as [number, number];
        const [h, w] = fitted.grid;
        const byPosition = T.permute(T.reshape(emb, [b, d, h * w]), [2, 0, 1]); // [HW, B, d]
        const dists = this.chunks.map((c) =>
          T.tidy(() => {
            const size = c.invCovariance.shape[0] as number;
            const delta = T.sub(T.narrow(byPosition, 0, c.start, size), T.unsqueeze(T.narrow(this.mean, 0, c.start, size), 1)); // [P, B, d]
            const squared = T.sum(T.mul(T.bmm(delta, c.invCovariance), delta), 2); // [P, B]
            return T.sqrt(T.clamp(squared, 0));
          }),
        );
        const patchScores = T.contiguous(T.reshape(T.transpose(T.cat(dists, 0), 0, 1), [b, h, w]));
        const maps = anomalyMaps(patchScores, opts.imageSize ?? this.config.input.imageSize, this.config.map);
        return { imageScores: maxPerImage(maps), maps, patchScores };
      }),
    );
  }

  /**
   * The tensors to save (safetensors names): channel_index int64 [d], mean float32 [HW, d],
   * inv_covariance.NNNN float32 [P, d, d] per position chunk. The tensors stay the model's:
   * do not dispose them. Save `config` beside them as JSON.
   */
  stateDict(): Map<string, T.Tensor> {
    this.checkAlive();
    const out = new Map<string, T.Tensor>();
    out.set('channel_index', this.indexTensor);
    out.set('mean', this.mean);
    this.chunks.forEach((c, i) => out.set(`inv_covariance.${String(i).padStart(4, '0')}`, c.invCovariance));
    return out;
  }

  /**
   * Rebuilds a model from a config (model.json) and its tensors (weights.safetensors). Takes
   * ownership of the tensors it uses and disposes the rest. Errors: ERR_VERSION for another
   * format or version, ERR_BAD_CHECKPOINT for missing or mis-shaped tensors.
   */
  static fromStateDict(config: PadimConfig, tensors: ReadonlyMap<string, T.Tensor>): PadimModel {
    const used = new Set<T.Tensor>();
    try {
      checkPadimConfig(config, true);
      const f = config.fitted!;
      const d = config.channels;
      const hw = f.grid[0] * f.grid[1];
      const need = (name: string): T.Tensor => {
        const t = tensors.get(name);
        if (t === undefined) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `PaDiM weights lack the tensor "${name}"`);
        return t;
      };
      const idxT = need('channel_index');
      if (idxT.rank !== 1 || idxT.shape[0] !== d) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `channel_index has shape [${idxT.shape.join(', ')}], expected [${d}]`);
      const channelIndex = Array.from(idxT.toFloat32(), (v) => Math.round(v));
      const expected = padimChannelIndices(config, f.layerChannels.reduce((a, b) => a + b, 0));
      if (channelIndex.some((v, i) => v !== expected[i])) {
        throw new SpotdiffError('ERR_BAD_CHECKPOINT', `channel_index does not match the config's channel choice (seed ${config.channelSubset.seed})`);
      }
      const mean = need('mean');
      if (mean.dtype !== 'float32' || mean.rank !== 2 || mean.shape[0] !== hw || mean.shape[1] !== d) {
        throw new SpotdiffError('ERR_BAD_CHECKPOINT', `mean has shape [${mean.shape.join(', ')}] (${mean.dtype}), expected float32 [${hw}, ${d}]`);
      }
      used.add(mean);
      const names = [...tensors.keys()].filter((k) => k.startsWith('inv_covariance.')).sort();
      const chunks: GaussianChunk[] = [];
      let start = 0;
      for (const name of names) {
        const t = tensors.get(name)!;
        if (t.dtype !== 'float32' || t.rank !== 3 || t.shape[1] !== d || t.shape[2] !== d) {
          throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${name} has shape [${t.shape.join(', ')}] (${t.dtype}), expected float32 [P, ${d}, ${d}]`);
        }
        chunks.push({ start, invCovariance: t });
        used.add(t);
        start += t.shape[0] as number;
      }
      if (start !== hw) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `the inverse covariances cover ${start} positions, the ${f.grid.join('×')} grid has ${hw}`);
      for (const t of tensors.values()) if (!used.has(t)) t.dispose();
      for (const t of used) T.keep(t);
      return new PadimModel(config, channelIndex, mean, chunks);
    } catch (e) {
      for (const t of tensors.values()) t.dispose();
      throw e;
    }
  }

  /** Bytes of float32 statistics held (mean and inverse covariances). */
  get bytes(): number {
    return this.chunks.reduce((a, c) => a + c.invCovariance.size * 4, this.mean.size * 4);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.mean.dispose();
    for (const c of this.chunks) c.invCovariance.dispose();
    this.indexTensor.dispose();
  }

  private checkAlive(): void {
    if (this.disposed) throw new SpotdiffError('ERR_DISPOSED', 'this PaDiM model was disposed');
  }
}

export interface PadimFitOptions {
  /** Bytes of float64 work space per position chunk (default 64 MiB); also sets the stored chunking. */
  chunkBytes?: number;
}

/**
 * Fits PaDiM one batch at a time: add() each batch of training features, then finish(). The
 * batches are read, never disposed; they may be freed as soon as add() returns.
 */
export class PadimFitter implements FeatureHeadFitter<PadimModel> {
  private readonly config: PadimConfig;
  private readonly chunkBytes: number;
  private acc: GaussianAccumulator | null = null;
  private channelIndex: number[] = [];
  private layout: { layerChannels: number[]; grid: [number, number] } | null = null;
  private done = false;

  constructor(options: PadimOptions, fit: PadimFitOptions = {}) {
    this.config = resolvePadimConfig(options);
    this.chunkBytes = fit.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  }

  get imagesSeen(): number {
    return this.acc?.images ?? 0;
  }

  add(features: FeatureMaps): void {
    if (this.done) throw new SpotdiffError('ERR_DISPOSED', 'PadimFitter: add() after finish()');
    const layout = padimLayout(features, this.config.layers);
    if (this.layout === null) {
      const total = layout.layerChannels.reduce((a, b) => a + b, 0);
      if (this.config.channels === 0) this.config.channels = defaultPadimChannels(total);
      this.channelIndex = padimChannelIndices(this.config, total);
      this.layout = layout;
    }
    T.tidy(() => {
      const emb = padimEmbedding(features, this.config.layers, this.channelIndex, this.layout!);
      const [b, d, h, w] = emb.shape as [number, number, number, number];
      if (this.acc === null) this.acc = new GaussianAccumulator(h * w, d, emb.device, this.chunkBytes);
      this.acc.add(T.reshape(emb, [b, d, h * w]));
    });
  }

  finish(): PadimModel {
    if (this.done) throw new SpotdiffError('ERR_DISPOSED', 'PadimFitter: finish() called twice');
    if (this.acc === null || this.layout === null) throw new SpotdiffError('ERR_BAD_INPUT', 'PaDiM: the training set is empty (no feature batches were given)');
    this.done = true;
    const images = this.acc.images;
    const { mean, chunks } = this.acc.finish(this.config.covarianceEpsilon);
    this.acc = null;
    const config: PadimConfig = { ...this.config, fitted: { layerChannels: this.layout.layerChannels, grid: this.layout.grid, trainImages: images } };
    return new PadimModel(config, this.channelIndex, mean, chunks);
  }

  /** Frees the running sums of an abandoned fit. */
  dispose(): void {
    this.done = true;
    this.acc?.dispose();
    this.acc = null;
  }
}

/** Fits PaDiM on batches of training features (a generator may free each batch after it is consumed). */
export function fitPadim(batches: Iterable<FeatureMaps>, options: PadimOptions, fit: PadimFitOptions = {}): PadimModel {
  return fitHead(new PadimFitter(options, fit), batches);
}

/** The same for an async source (a data loader that decodes images ahead). */
export function fitPadimAsync(batches: AsyncIterable<FeatureMaps> | Iterable<FeatureMaps>, options: PadimOptions, fit: PadimFitOptions = {}): Promise<PadimModel> {
  return fitHeadAsync(new PadimFitter(options, fit), batches);
}
