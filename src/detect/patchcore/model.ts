import * as T from '../../tensor/index.js';
import { SpotdiffError } from '../../util/errors.js';
import { anomalyMaps } from '../common/anomaly-map.js';
import type { FeatureMaps, ScoreOptions, ScoreTensors } from '../common/features.js';
import { FeatureHead, fitHead, fitHeadAsync, type FeatureHeadFitter } from '../common/feature-head.js';
import { checkPatchcoreConfig, resolvePatchcoreConfig, type PatchcoreConfig, type PatchcoreOptions } from './config.js';
import { coresetProjection, coresetSize, coresetStartIndices, greedyCoreset } from './coreset.js';
import { patchcoreEmbedding } from './embedding.js';
import { kNearest, nearestNeighbour } from './nearest.js';

/**
 * A fitted PatchCore model: a memory bank of training patch features. Scoring: distance of
 * every test patch to its nearest memory entry (the patch score), bilinear upsampling and
 * Gaussian blur to the anomaly map, and an image score by the configured rule.
 */
export class PatchcoreModel extends FeatureHead {
  readonly config: PatchcoreConfig;
  private readonly memory: T.Tensor; // [M, D] f32
  private readonly memoryNorms: T.Tensor; // [M] ‖m‖²
  private disposed = false;

  /** Takes ownership of `memory`. Use fitPatchcore or PatchcoreModel.fromStateDict rather than this. */
  constructor(config: PatchcoreConfig, memory: T.Tensor) {
    super();
    checkPatchcoreConfig(config, true);
    this.config = config;
    this.memory = memory;
    this.memoryNorms = T.keep(T.noGrad(() => T.tidy(() => T.sum(T.mul(memory, memory), 1))));
  }

  get memorySize(): number {
    return this.memory.shape[0] as number;
  }

  /**
   * Scores a batch; the caller owns (and must dispose, or tidy away) the returned tensors.
   * Maps come out at config.input.imageSize unless `imageSize` says otherwise (e.g. for tiles).
   */
  scoreTensors(features: FeatureMaps, opts: ScoreOptions = {}): ScoreTensors {
    this.checkAlive();
    const f = this.config.fitted!;
    return T.noGrad(() =>
      T.tidy(() => {
        const { embedding, layerChannels } = patchcoreEmbedding(features, this.config);
        if (layerChannels.some((c, i) => c !== f.layerChannels[i])) {
          throw new SpotdiffError('ERR_SHAPE', `PatchCore: layers have ${layerChannels.join('/')} channels, the model was fitted on ${f.layerChannels.join('/')}`);
        }
        const [b, h, w, d] = embedding.shape as [number, number, number, number];
        const queries = T.reshape(embedding, [b * h * w, d]);
        const nn = nearestNeighbour(queries, this.memory, this.memoryNorms);
        const patchFlat = this.config.distance === 'euclidean' ? T.sqrt(nn.squared) : nn.squared;
        const perImage = T.reshape(patchFlat, [b, h * w]);
        const imageScores =
          this.config.imageScore.rule === 'max' || this.config.imageScore.neighbours === 1 ? T.amax(perImage, 1) : this.reweighted(perImage, queries, nn.index);
        const patchScores = T.reshape(perImage, [b, h, w]);
        const maps = anomalyMaps(patchScores, opts.imageSize ?? this.config.input.imageSize, this.config.map);
        return { imageScores, maps, patchScores };
      }),
    );
  }

  /**
   * Paper eq. 7 as anomalib computes it: for each image, the patch with the largest score s*
   * (m_test*), its nearest memory entry m*, and m*'s k nearest entries N_b(m*) in the bank
   * (m* itself first); s = (1 − softmax(‖m_test* − n‖ for n in N_b(m*))[0]) · s*.
   * With k = 1 the weight would be 0, so anomalib (and this) fall back to the max.
   */
  private reweighted(perImage: T.Tensor, queries: T.Tensor, nnIndex: T.Tensor): T.Tensor {
    const [b, p] = perImage.shape as [number, number];
    const device = perImage.device;
    const k = Math.min(this.config.imageScore.neighbours, this.memorySize);
    const worst = T.argmax(perImage, 1); // [B]
    const flat = T.add(worst, T.mul(T.arange(0, b, 1, { device }), p));
    const sStar = T.indexSelect(T.reshape(perImage, [b * p]), 0, flat);
    const testFeature = T.indexSelect(queries, 0, flat); // [B, D]
    const mStar = T.indexSelect(this.memory, 0, T.indexSelect(nnIndex, 0, flat));
    const support = kNearest(mStar, this.memory, this.memoryNorms, k); // [B, k]
    const supportFeatures = T.reshape(T.indexSelect(this.memory, 0, T.reshape(support, [b * k])), [b, k, -1]);
    const diff = T.sub(supportFeatures, T.unsqueeze(testFeature, 1));
    const squared = T.sum(T.mul(diff, diff), 2);
    const dist = this.config.distance === 'euclidean' ? T.sqrt(squared) : squared;
    const weight = T.rsub(T.select(T.softmax(dist, 1), 1, 0), 1);
    return T.mul(weight, sStar);
  }

  /** The tensors to save: memory_bank float32 [M, D]. The model keeps owning it. */
  stateDict(): Map<string, T.Tensor> {
    this.checkAlive();
    return new Map([['memory_bank', this.memory]]);
  }

  /** Rebuilds a model from its config and tensors; takes ownership of the tensors (unused ones are disposed). */
  static fromStateDict(config: PatchcoreConfig, tensors: ReadonlyMap<string, T.Tensor>): PatchcoreModel {
    try {
      checkPatchcoreConfig(config, true);
      const f = config.fitted!;
      const memory = tensors.get('memory_bank');
      if (memory === undefined) throw new SpotdiffError('ERR_BAD_CHECKPOINT', 'PatchCore weights lack the tensor "memory_bank"');
      if (memory.dtype !== 'float32' || memory.rank !== 2 || memory.shape[0] !== f.memorySize || memory.shape[1] !== f.embeddingDim) {
        throw new SpotdiffError('ERR_BAD_CHECKPOINT', `memory_bank has shape [${memory.shape.join(', ')}] (${memory.dtype}), expected float32 [${f.memorySize}, ${f.embeddingDim}]`);
      }
      for (const t of tensors.values()) if (t !== memory) t.dispose();
      return new PatchcoreModel(config, T.keep(memory));
    } catch (e) {
      for (const t of tensors.values()) t.dispose();
      throw e;
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.memory.dispose();
    this.memoryNorms.dispose();
  }

  private checkAlive(): void {
    if (this.disposed) throw new SpotdiffError('ERR_DISPOSED', 'this PatchCore model was disposed');
  }
}

export interface PatchcoreFitOptions {
  /** Coreset progress: (selected, total). */
  onProgress?: (done: number, total: number) => void;
  /** Rows per lazily updated coreset block (speed only). */
  blockRows?: number;
}

/**
 * Fits PatchCore one batch at a time: add() each batch of training features (kept as patch
 * embeddings, plus their coreset projection), then finish() runs the coreset selection.
 * The batches are read, never disposed.
 */
export class PatchcoreFitter implements FeatureHeadFitter<PatchcoreModel> {
  private readonly config: PatchcoreConfig;
  private readonly parts: T.Tensor[] = [];
  private readonly projected: T.Tensor[] = [];
  private projection: T.Tensor | null = null;
  private layout: { layerChannels: number[]; grid: [number, number]; dim: number } | null = null;
  private images = 0;
  private done = false;
  private readonly fit: PatchcoreFitOptions;

  constructor(options: PatchcoreOptions, fit: PatchcoreFitOptions = {}) {
    this.config = resolvePatchcoreConfig(options);
    this.fit = fit;
  }

  get imagesSeen(): number {
    return this.images;
  }

  add(features: FeatureMaps): void {
    if (this.done) throw new SpotdiffError('ERR_DISPOSED', 'PatchcoreFitter: add() after finish()');
    const { embedding, layerChannels, grid } = patchcoreEmbedding(features, this.config);
    try {
      const [b, h, w, d] = embedding.shape as [number, number, number, number];
      if (this.layout === null) {
        this.layout = { layerChannels, grid, dim: d };
        const pd = this.config.coreset.projectionDim;
        // As the official sampler: no projection when the features already have that size.
        if (this.config.coreset.ratio < 1 && pd !== null && pd !== d) this.projection = T.keep(coresetProjection(d, pd, this.config.coreset.seed, embedding.device));
      } else if (layerChannels.some((c, i) => c !== this.layout!.layerChannels[i]) || grid[0] !== this.layout.grid[0] || grid[1] !== this.layout.grid[1]) {
        throw new SpotdiffError(
          'ERR_SHAPE',
          `PatchCore: this batch has ${layerChannels.join('/')} channels on a ${grid.join('×')} grid, the first had ${this.layout.layerChannels.join('/')} on ${this.layout.grid.join('×')}`,
        );
      }
      const rows = T.keep(T.reshape(embedding, [b * h * w, d]));
      this.parts.push(rows);
      if (this.projection !== null) this.projected.push(T.keep(T.noGrad(() => T.mm(rows, this.projection!))));
      this.images += b;
    } finally {
      embedding.dispose();
    }
  }

  /** Runs the coreset selection (`fit` defaults to the constructor's options). */
  finish(fit: PatchcoreFitOptions = this.fit): PatchcoreModel {
    if (this.done) throw new SpotdiffError('ERR_DISPOSED', 'PatchcoreFitter: finish() called twice');
    if (this.layout === null) throw new SpotdiffError('ERR_BAD_INPUT', 'PatchCore: the training set is empty (no feature batches were given)');
    this.done = true;
    try {
      const n = this.parts.reduce((a, t) => a + (t.shape[0] as number), 0);
      const memory = T.keep(
        T.noGrad(() =>
          T.tidy(() => {
            if (this.config.coreset.ratio >= 1) return this.parts.length === 1 ? T.clone(this.parts[0]!) : T.cat(this.parts, 0);
            const count = coresetSize(n, this.config.coreset.ratio);
            const points = this.projection === null ? (this.parts.length === 1 ? this.parts[0]! : T.cat(this.parts, 0)) : T.cat(this.projected, 0);
            const chosen = greedyCoreset(points, {
              count,
              startIndices: coresetStartIndices(n, this.config.coreset.startPoints, this.config.coreset.seed),
              blockRows: fit.blockRows,
              onProgress: fit.onProgress,
            });
            return gatherRows(this.parts, chosen);
          }),
        ),
      );
      const f = this.layout;
      const config: PatchcoreConfig = {
        ...this.config,
        fitted: { layerChannels: f.layerChannels, grid: f.grid, embeddingDim: f.dim, trainPatches: n, memorySize: memory.shape[0] as number, trainImages: this.images },
      };
      return new PatchcoreModel(config, memory);
    } finally {
      this.dispose();
    }
  }

  /** Frees the collected embeddings (finish() does it too). */
  dispose(): void {
    this.done = true;
    T.dispose(this.parts);
    T.dispose(this.projected);
    this.parts.length = 0;
    this.projected.length = 0;
    this.projection?.dispose();
    this.projection = null;
  }
}

/** Rows `indices` (global, in that order) of the row-concatenation of `parts`, without concatenating them. */
function gatherRows(parts: readonly T.Tensor[], indices: Int32Array): T.Tensor {
  const pieces: T.Tensor[] = [];
  const order: number[] = [];
  let offset = 0;
  for (const part of parts) {
    const size = part.shape[0] as number;
    const local: bigint[] = [];
    indices.forEach((g, k) => {
      if (g >= offset && g < offset + size) {
        local.push(BigInt(g - offset));
        order.push(k);
      }
    });
    if (local.length > 0) pieces.push(T.indexSelect(part, 0, T.tensor(BigInt64Array.from(local), [local.length], { device: part.device })));
    offset += size;
  }
  const grouped = pieces.length === 1 ? pieces[0]! : T.cat(pieces, 0);
  // grouped row j holds selection order[j]; put it back in selection order.
  const inverse = new BigInt64Array(order.length);
  order.forEach((k, j) => (inverse[k] = BigInt(j)));
  return T.indexSelect(grouped, 0, T.tensor(inverse, [inverse.length], { device: grouped.device }));
}

/** Fits PatchCore on batches of training features. */
export function fitPatchcore(batches: Iterable<FeatureMaps>, options: PatchcoreOptions, fit: PatchcoreFitOptions = {}): PatchcoreModel {
  return fitHead(new PatchcoreFitter(options, fit), batches);
}

export function fitPatchcoreAsync(batches: AsyncIterable<FeatureMaps> | Iterable<FeatureMaps>, options: PatchcoreOptions, fit: PatchcoreFitOptions = {}): Promise<PatchcoreModel> {
  return fitHeadAsync(new PatchcoreFitter(options, fit), batches);
}
