import type { Command } from './command.js';
import { intFlag, listFlag, MAX_IMAGE_SIDE, parseFlags, requireFlag } from './args.js';
import { SpotdiffError } from '../util/errors.js';

const usage = `usage: spotdiff features --backbone resnet18|resnet50|wide_resnet50_2 --image IMG
                         --out OUT.safetensors [--weights FILE] [--size N]
                         [--layers layer2,layer3] [--seed S] [--json]

Runs a backbone on one image and saves intermediate feature maps.

The image is preprocessed as torchvision does: decoded to RGB, resized to N×N with
bilinear antialiasing (an image already N×N is not resampled), scaled to [0, 1] and
normalised with ImageNet's mean and std. The backbone runs in eval mode without gradients.
Each requested layer is saved in OUT under its own name, as float32 [1, C, H, W]
(avgpool [1, C, 1, 1], fc [1, classes]).

  --backbone B    resnet18, resnet50 or wide_resnet50_2 (torchvision's architecture and names)
  --weights FILE  a torchvision .pth/.pt state dict or a safetensors file (or a saved model
                  folder with weights.safetensors). Without it the backbone has random
                  weights (seeded by --seed) and a warning says so: such features are only
                  good for testing.
  --image IMG     any image sharp decodes (PNG, JPEG, TIFF, WebP, ...)
  --size N        input side in pixels (default 224)
  --layers L      comma-separated, from layer1, layer2, layer3, layer4, avgpool, fc
                  (default layer2,layer3)
  --out FILE      the safetensors file to write (written atomically)
  --seed S        seed of the random initialisation without --weights (default 0)
  --json          print a JSON summary on stdout`;

export interface FeaturesRequest {
  backbone: string;
  image: string;
  size: number;
  layers: readonly string[];
  weights?: string;
  seed: number;
}

export interface LayerOutput {
  shape: number[];
  values: Float32Array;
}

export interface FeaturesResult {
  backbone: string;
  pretrained: boolean;
  layers: Map<string, LayerOutput>;
}

/** Checks names before any work, so a typo fails in milliseconds, not after loading 270 MB. */
async function validate(req: FeaturesRequest): Promise<void> {
  const { RESNET_ARCHS, isResNetArch, parseFeatureLayers } = await import('../models/backbone-names.js');
  if (!isResNetArch(req.backbone)) throw new SpotdiffError('ERR_USAGE', `unknown backbone "${req.backbone}"; choose one of ${RESNET_ARCHS.join(', ')}`);
  try {
    parseFeatureLayers(req.layers);
  } catch (e) {
    throw new SpotdiffError('ERR_USAGE', (e as Error).message);
  }
}

/** Preprocesses one image, runs the backbone (eval, no grad) and returns the requested layers. */
export async function computeFeatures(req: FeaturesRequest): Promise<FeaturesResult> {
  await validate(req);
  const { loadImage } = await import('../data/image.js');
  const image = await loadImage(req.image, { resize: [req.size, req.size] });
  // Files are read and checked before libtorch loads, so their errors come fast.
  const { readWeights } = await import('../models/weights-file.js');
  const weights = req.weights === undefined ? undefined : await readWeights(req.weights);
  const T = await import('../tensor/index.js');
  const { ResNet } = await import('../models/resnet.js');
  const { resNetFromWeights } = await import('../models/weights.js');
  const { extractFeatures } = await import('../models/feature-extractor.js');
  const arch = req.backbone as import('../models/backbone-names.js').ResNetArch;
  T.manualSeed(req.seed);
  const model = weights === undefined ? new ResNet(arch) : resNetFromWeights(arch, weights, req.weights as string);
  try {
    model.eval();
    const layers = T.noGrad(() =>
      T.tidy(() => {
        const x = T.tensor(image.data, [1, 3, image.height, image.width]);
        const out = new Map<string, LayerOutput>();
        for (const [name, t] of extractFeatures(model, x, req.layers)) out.set(name, { shape: [...t.shape], values: t.toFloat32() });
        return out;
      }),
    );
    return { backbone: arch, pretrained: req.weights !== undefined, layers };
  } finally {
    model.dispose();
  }
}

export const command: Command = {
  summary: 'save a backbone\'s intermediate features (layer1..layer4) for one image',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, {
      backbone: { type: 'string' },
      weights: { type: 'string' },
      image: { type: 'string' },
      size: { type: 'string' },
      layers: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean' },
    });
    const req: FeaturesRequest = {
      backbone: requireFlag(values.backbone, 'backbone'),
      image: requireFlag(values.image, 'image'),
      size: intFlag(values.size, 'size', 224, 32, MAX_IMAGE_SIDE),
      layers: listFlag(values.layers) ?? ['layer2', 'layer3'],
      weights: values.weights,
      seed: intFlag(values.seed, 'seed', 0, 0),
    };
    const out = requireFlag(values.out, 'out');
    await validate(req);
    if (req.weights === undefined) {
      process.stderr.write(
        `spotdiff: warning: no --weights given: ${req.backbone} has random weights (seed ${req.seed}); its features mean nothing for anomaly detection, give pretrained weights for real use\n`,
      );
    }
    const result = await computeFeatures(req);
    const { hostTensorFrom } = await import('../tensor/io/host-tensor.js');
    const { writeSafetensors } = await import('../tensor/io/safetensors.js');
    const tensors = new Map([...result.layers].map(([name, l]) => [name, hostTensorFrom('float32', l.shape, l.values)]));
    await writeSafetensors(out, tensors, {
      backbone: result.backbone,
      weights: req.weights ?? `random init, seed ${req.seed}`,
      image: req.image,
      size: String(req.size),
      preprocess: 'resize NxN bilinear antialias, ImageNet mean/std',
    });
    const shapes = Object.fromEntries([...result.layers].map(([name, l]) => [name, l.shape]));
    if (values.json) process.stdout.write(JSON.stringify({ out, backbone: result.backbone, pretrained: result.pretrained, size: req.size, layers: shapes }) + '\n');
    else {
      const lines = [...result.layers].map(([name, l]) => `  ${name}: [${l.shape.join(', ')}]`);
      process.stdout.write(`wrote ${out} (${result.backbone}, ${req.size}×${req.size})\n${lines.join('\n')}\n`);
    }
    return 0;
  },
};
