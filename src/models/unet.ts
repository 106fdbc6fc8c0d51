import * as T from '../tensor/index.js';
import type { HostTensor } from '../tensor/io/index.js';
import { Module, Conv2d, Sequential } from '../nn/index.js';
import { consume } from './resnet-blocks.js';
import { ResNetEncoder } from './resnet-encoder.js';
import { UNetDecoder } from './unet-decoder.js';
import { backboneFeatures } from './feature-weights.js';
import { readWeights } from './weights-file.js';
import { loadWeightsInto } from './weights.js';
import type { ResNetArch } from './backbone-names.js';

export interface UNetOptions {
  /** Seeds the random initialisation (T.manualSeed): the encoder's, then the decoder's and the head's. Default 0. */
  seed?: number;
}

/**
 * A U-Net on a torchvision ResNet encoder, as segmentation_models_pytorch's
 * Unet(encoder_name=arch, classes=1) builds it: skips from the stem and layer1..layer4, five
 * decoder blocks of widths 256, 128, 64, 32, 16 (see UNetDecoder), and a 3×3 convolution to one
 * channel of logits. Its state dict has that model's names: encoder.<torchvision names, fc
 * excepted>, decoder.blocks.<i>.conv{1,2}.{0,1}.*, segmentation_head.0.{weight,bias}.
 *
 * Size rule: the output is [N, 1, H, W] for any input [N, 3, H, W]: each decoder block
 * upsamples (nearest) to its skip's size, the last one to the input's size, so no map is
 * padded or cropped; when H and W divide by 32 every step is an exact ×2.
 *
 * Initialisation: T.manualSeed(seed), then the encoder draws as torchvision's resnet*() does
 * (fc included, then dropped), then the decoder's and the head's layers draw torch's defaults
 * in registration order: the same numbers as, in PyTorch, manual_seed(seed), resnet*(), then
 * the decoder's and head's modules made in that order.
 */
export class UNet extends Module {
  readonly encoder: ResNetEncoder;
  readonly decoder: UNetDecoder;
  readonly segmentationHead: Sequential;

  constructor(readonly arch: ResNetArch, opts: UNetOptions = {}) {
    super();
    T.manualSeed(opts.seed ?? 0);
    this.encoder = this.registerModule('encoder', new ResNetEncoder(arch));
    this.decoder = this.registerModule('decoder', new UNetDecoder(this.encoder.channels));
    this.segmentationHead = this.registerModule('segmentation_head', new Sequential(new Conv2d(this.decoder.outChannels, 1, 3, { padding: 1 })));
  }

  /** The head's convolution (segmentation_head.0). */
  get head(): Conv2d {
    return this.segmentationHead.layers[0] as Conv2d;
  }

  /** Logits [N, 1, H, W] for images [N, 3, H, W]. Only the result survives, even outside a tidy scope. */
  forward(x: T.Tensor): T.Tensor {
    return T.tidy(() => {
      const maps = this.encoder.features(x);
      const out = this.decoder.decode(maps, [x.shape[2]!, x.shape[3]!]);
      for (const m of maps) m.dispose();
      return consume(out, (t) => this.head.forward(t));
    });
  }

  /**
   * Copies a torchvision ResNet's weights (of this U-Net's architecture) into the encoder,
   * unchanged; the file's fc is ignored, the decoder and head keep theirs.
   */
  loadEncoderWeights(weights: ReadonlyMap<string, HostTensor>, source: string): void {
    loadWeightsInto(this.encoder, backboneFeatures(weights, this.arch, source), source);
  }
}

/** A seeded U-Net whose encoder starts from `weights` (see UNet.loadEncoderWeights). */
export function unetFromEncoderWeights(arch: ResNetArch, weights: ReadonlyMap<string, HostTensor>, source: string, opts: UNetOptions = {}): UNet {
  const model = new UNet(arch, opts);
  try {
    model.loadEncoderWeights(weights, source);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/**
 * A U-Net whose encoder comes from a weights file (torchvision .pth, safetensors, a
 * `spotdiff pretrain` backbone or a model folder), or seeded random weights without one.
 */
export async function loadUNet(arch: ResNetArch, encoderWeightsPath?: string, opts: UNetOptions = {}): Promise<UNet> {
  if (encoderWeightsPath === undefined) return new UNet(arch, opts);
  return unetFromEncoderWeights(arch, await readWeights(encoderWeightsPath), encoderWeightsPath, opts);
}
