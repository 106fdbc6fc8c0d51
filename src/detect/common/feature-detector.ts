import * as T from '../../tensor/index.js';
import type { HostTensor } from '../../tensor/io/index.js';
import { fromHost } from '../../tensor/host.js';
import type { ResNet } from '../../models/resnet.js';
import { backboneFromState, checkArch } from '../../models/backbone.js';
import { batchFeatures, disposeFeatures, extractFeatures } from '../../models/feature-extractor.js';
import { moduleDevice } from '../../nn/device.js';
import { Progress } from '../../util/progress.js';
import type { AnomalyDetector, FitContext, ImageScores } from '../method.js';
import { maxPerImage, upsampleScores } from './anomaly-map.js';
import { gaussianBlur } from '../../augment/gaussian-blur.js';
import type { FeatureHead, FeatureHeadFitter } from './feature-head.js';
import { forEachFitBatch } from './fit-batches.js';

/**
 * A 1-class detector: a frozen backbone and a feature head (PaDiM, PatchCore) fitted on its
 * features. State names: "backbone.<name>" for the backbone's tensors, "detector.<name>" for
 * the head's (the model-folder layout since format version 1).
 */
export class FeatureDetector<H extends FeatureHead = FeatureHead> implements AnomalyDetector {
  readonly device: T.Device;
  private disposed = false;

  /** Takes ownership of both. */
  constructor(
    readonly method: string,
    readonly backbone: ResNet,
    readonly head: H,
  ) {
    this.device = moduleDevice(backbone);
  }

  get config(): H['config'] {
    return this.head.config;
  }

  score(images: T.Tensor, opts: { imageSize?: readonly [number, number] } = {}): ImageScores {
    return T.noGrad(() =>
      T.tidy(() => {
        const s = this.head.scoreTensors(extractFeatures(this.backbone, images, this.head.config.layers), opts);
        return { imageScores: s.imageScores, maps: s.maps };
      }),
    );
  }

  /** Each tile's patch scores upsampled (bilinear) to the tile; the blur waits for the stitched map. */
  tileMaps(tiles: T.Tensor): T.Tensor {
    const size: [number, number] = [tiles.shape[2] as number, tiles.shape[3] as number];
    return T.noGrad(() => T.tidy(() => upsampleScores(this.head.scoreTensors(extractFeatures(this.backbone, tiles, this.head.config.layers), { imageSize: size }).patchScores, size)));
  }

  /** The head's map blur over the whole stitched map; image score = its maximum (for either head's rule). */
  finishStitched(stitched: T.Tensor): ImageScores {
    const blur = this.head.config.map.blur;
    return T.noGrad(() =>
      T.tidy(() => {
        const maps = gaussianBlur(stitched, blur.sigma, { truncate: blur.truncate, padding: blur.padding });
        return { imageScores: maxPerImage(maps), maps };
      }),
    );
  }

  stateDict(): Map<string, T.Tensor> {
    const out = new Map<string, T.Tensor>();
    for (const [name, t] of this.head.stateDict()) out.set(`detector.${name}`, t);
    for (const [name, t] of this.backbone.stateDict()) out.set(`backbone.${name}`, t);
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.head.dispose();
    this.backbone.dispose();
  }
}

/**
 * The fit both 1-class methods share: one pass of ctx's images (whole or tiled) through the
 * backbone, each feature batch to `fitter`, then finish(). The detector holds ctx.backbone
 * (on a throw the glue disposes it).
 */
export async function fitFeatureDetector<H extends FeatureHead>(ctx: FitContext, method: string, layers: readonly string[], fitter: FeatureHeadFitter<H>): Promise<FeatureDetector<H>> {
  try {
    await forEachFitBatch(ctx, (images, shape) => {
      const features = batchFeatures(ctx.backbone, images, shape, layers);
      try {
        fitter.add(features);
      } finally {
        disposeFeatures(features);
      }
    });
    return new FeatureDetector(method, ctx.backbone, fitter.finish());
  } finally {
    fitter.dispose();
  }
}

/**
 * Rebuilds a FeatureDetector from a model folder's tensors: the backbone (arch from
 * config.input.backbone) from "backbone.*" on `device`, the head by `head` from "detector.*"
 * (engine tensors on `device`, owned by the head).
 */
export function loadFeatureDetector<H extends FeatureHead>(
  method: string,
  arch: string,
  tensors: ReadonlyMap<string, HostTensor>,
  device: T.Device,
  source: string,
  head: (tensors: ReadonlyMap<string, T.Tensor>) => H,
): FeatureDetector<H> {
  const backboneHost = new Map<string, HostTensor>();
  const headHost = new Map<string, HostTensor>();
  for (const [name, t] of tensors) {
    if (name.startsWith('backbone.')) backboneHost.set(name.slice('backbone.'.length), t);
    else if (name.startsWith('detector.')) headHost.set(name.slice('detector.'.length), t);
  }
  const backbone = backboneFromState(checkArch(arch), backboneHost, source, device);
  try {
    const engine = new Map<string, T.Tensor>();
    for (const [name, h] of headHost) engine.set(name, T.keep(fromHost(h, device)));
    return new FeatureDetector(method, backbone, head(engine));
  } catch (e) {
    backbone.dispose();
    throw e;
  }
}

/** A coreset-style progress bar for a fitter's finish(): (done, total) callbacks, shown unless quiet. */
export function finishProgress(label: string, unit: string, quiet: boolean): (done: number, total: number) => void {
  let bar: Progress | null = null;
  let shown = 0;
  return (done, total) => {
    bar ??= new Progress({ total, label, unit, enabled: !quiet });
    bar.tick(done - shown);
    shown = done;
    if (done === total) bar.finish();
  };
}
