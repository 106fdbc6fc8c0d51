import { readdir, mkdir } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import * as T from '../tensor/index.js';
import { DataLoader } from '../data/loader.js';
import { readRgb } from '../data/image.js';
import type { Sample } from '../data/datasets/sample.js';
import { checkArch, createBackbone } from '../models/backbone.js';
import { trainSamples } from '../data/datasets/object-splits.js';
import { overlayPng } from '../report/overlay.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { SpotdiffError } from '../util/errors.js';
import { Progress } from '../util/progress.js';
import { camToMaps, gradCamGrid, nearestByCosine, pooledEmbeddings } from './gradcam.js';
import { checkAttentionLayer, DEFAULT_ATTENTION_LAYER, type AttentionLayer } from './layers.js';

export interface AttentionRequest {
  backbone: string;
  /** torchvision .pth or safetensors; undefined: seeded random init (the caller warns). */
  weights?: string;
  /** The normal images: a dataset (its train normals) or a folder holding normal images directly. */
  data: string;
  object?: string;
  /** The (anomalous) images to explain. */
  images: readonly string[];
  out: string;
  layer?: string;
  /** Square network input side (default 224). */
  size?: number;
  seed?: number;
  quiet?: boolean;
}

export interface AttentionImage {
  image: string;
  /** The train normal it was compared with (highest cosine of pooled embeddings). */
  nearestNormal: string;
  cosine: number;
  /** Overlay PNG at the image's own size. */
  overlay: string;
  width: number;
  height: number;
}

export interface AttentionResult {
  layer: AttentionLayer;
  normals: number;
  images: AttentionImage[];
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp']);

const asSample = (image: string, label: 'normal' | 'anomaly'): Sample => ({ image, label, mask: null, object: '', defect: null, split: null });

/** The normal images: image files directly in `data`, or else the train normals of the dataset there. */
export async function normalImages(data: string, object?: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = (await readdir(data, { withFileTypes: true })).filter((e) => e.isFile() && IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase())).map((e) => join(resolve(data), e.name));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new SpotdiffError('ERR_NOT_FOUND', `folder of normal images not found: ${data}`, { cause: e });
    throw e;
  }
  if (entries.length > 0) return entries.sort();
  const { samples } = await trainSamples(data, object);
  return samples.filter((s) => s.label === 'normal').map((s) => s.image);
}

/** Unique output names: "<stem>-attention.png", with the input's position prefixed when two images share a name. */
function overlayNames(images: readonly string[]): string[] {
  const stems = images.map((p) => basename(p, extname(p)));
  return stems.map((s, i) => (stems.indexOf(s) !== stems.lastIndexOf(s) ? `${String(i).padStart(3, '0')}-${s}` : s) + '-attention.png');
}

async function embedAll(model: Parameters<typeof pooledEmbeddings>[0], paths: readonly string[], size: number): Promise<T.Tensor> {
  const loader = new DataLoader(paths.map((p) => asSample(p, 'normal')), { batchSize: 16, preprocess: { resize: [size, size] } });
  const parts: T.Tensor[] = [];
  try {
    for await (const b of loader) parts.push(T.keep(T.tidy(() => pooledEmbeddings(model, T.tensor(b.images, [...b.shape])))));
    return T.keep(T.tidy(() => T.cat(parts, 0)));
  } finally {
    T.dispose(parts);
  }
}

/**
 * Writes an attention overlay for each image: its nearest train normal by pooled-embedding
 * cosine, GradCAM of −cos(embedding, nearest normal's) at `layer`, upsampled to the image's own
 * size, normalised to [0, 1] and drawn with the report's turbo overlay. Also writes
 * attention.json listing the pairs.
 */
export async function runAttention(req: AttentionRequest): Promise<AttentionResult> {
  const arch = checkArch(req.backbone);
  const layer = checkAttentionLayer(req.layer ?? DEFAULT_ATTENTION_LAYER);
  const size = req.size ?? 224;
  if (!Number.isInteger(size) || size < 32) throw new SpotdiffError('ERR_BAD_INPUT', `size must be an integer ≥ 32, got ${size}`);
  if (req.images.length === 0) throw new SpotdiffError('ERR_USAGE', 'no images to explain');
  const normals = await normalImages(req.data, req.object);
  if (normals.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', `no normal images in ${req.data}`);
  const originals = await Promise.all(req.images.map((p) => readRgb(p))); // fails early on a missing or broken image
  const { model } = await createBackbone(arch, req.weights, req.seed ?? 0);
  const names = overlayNames(req.images);
  const results: AttentionImage[] = [];
  try {
    await mkdir(req.out, { recursive: true });
    const normalEmb = await embedAll(model, normals, size);
    try {
      const loader = new DataLoader(req.images.map((p) => asSample(p, 'anomaly')), { batchSize: 4, preprocess: { resize: [size, size] } });
      const progress = new Progress({ total: req.images.length, label: 'attention', unit: 'img', enabled: !req.quiet });
      let i0 = 0;
      for await (const b of loader) {
        const { maps, nearest } = T.tidy(() => {
          const x = T.tensor(b.images, [...b.shape]);
          const nearest = nearestByCosine(normalEmb, pooledEmbeddings(model, x));
          const targets = T.indexSelect(normalEmb, 0, T.tensor(BigInt64Array.from(nearest.index, (v) => BigInt(v)), [nearest.index.length]));
          const cam = gradCamGrid(model, x, targets, layer);
          // Each image's map at its own size (images of a batch may differ before resizing).
          const maps = b.samples.map((_, j) => {
            const img = originals[i0 + j]!;
            return camToMaps(T.narrow(cam, 0, j, 1), img.height, img.width).toFloat32();
          });
          return { maps, nearest };
        });
        for (let j = 0; j < b.samples.length; j++) {
          const img = originals[i0 + j]!;
          const overlay = join(req.out, names[i0 + j]!);
          await writeFileAtomic(overlay, await overlayPng(img, { width: img.width, height: img.height, data: maps[j]! }, { range: { vmin: 0, vmax: 1 } }));
          results.push({ image: req.images[i0 + j]!, nearestNormal: normals[nearest.index[j]!]!, cosine: nearest.cosine[j]!, overlay, width: img.width, height: img.height });
        }
        i0 += b.samples.length;
        progress.tick(b.samples.length);
      }
      progress.finish();
    } finally {
      normalEmb.dispose();
    }
  } finally {
    model.dispose();
  }
  const result: AttentionResult = { layer, normals: normals.length, images: results };
  await writeFileAtomic(join(req.out, 'attention.json'), JSON.stringify(result, null, 2) + '\n');
  return result;
}
