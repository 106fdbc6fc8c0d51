import * as T from '../tensor/index.js';
import { Module, Conv2d, BatchNorm2d, ReLU, Sequential } from '../nn/index.js';
import { SpotdiffError } from '../util/errors.js';
import { consume, runSequential } from './resnet-blocks.js';

/**
 * The decoder of segmentation_models_pytorch's Unet, with its state dict names
 * (blocks.<i>.conv1.0 conv, .conv1.1 BatchNorm, likewise conv2): five blocks, each one
 * upsampling, concatenating the encoder's skip (none for the last) and applying two 3×3
 * conv-BN-ReLU. New layers keep torch's default initialisation (src/nn/layers/init.ts),
 * where segmentation_models_pytorch re-draws its decoder with kaiming_uniform_(fan_in, relu).
 */

/** Output channels of the five blocks, deepest first (segmentation_models_pytorch's default). */
export const DECODER_CHANNELS = [256, 128, 64, 32, 16] as const;

/** Conv2d(3×3, no bias)-BatchNorm2d-ReLU, as segmentation_models_pytorch's Conv2dReLU with batch norm. */
function convBnRelu(inChannels: number, outChannels: number): Sequential {
  return new Sequential(new Conv2d(inChannels, outChannels, 3, { padding: 1, bias: false }), new BatchNorm2d(outChannels), new ReLU());
}

/**
 * Upsampling by nearest neighbour (segmentation_models_pytorch's default interpolation mode) to
 * a given size, concatenation with the skip along channels, then two conv-BN-ReLU.
 */
export class UNetDecoderBlock extends Module {
  readonly conv1: Sequential;
  readonly conv2: Sequential;

  constructor(readonly inChannels: number, readonly skipChannels: number, readonly outChannels: number) {
    super();
    this.conv1 = this.registerModule('conv1', convBnRelu(inChannels + skipChannels, outChannels));
    this.conv2 = this.registerModule('conv2', convBnRelu(outChannels, outChannels));
  }

  /**
   * x upsampled to `size` (default: the skip's size, else twice x's), joined with the skip.
   * x and skip stay the caller's.
   */
  forward(x: T.Tensor, skip: T.Tensor | null = null, size?: readonly [number, number]): T.Tensor {
    if ((skip === null) !== (this.skipChannels === 0)) {
      throw new SpotdiffError('ERR_BAD_INPUT', `U-Net decoder block: ${this.skipChannels === 0 ? 'takes no skip' : `needs a skip of ${this.skipChannels} channels`}`);
    }
    const to = size ?? (skip === null ? [2 * x.shape[2]!, 2 * x.shape[3]!] : [skip.shape[2]!, skip.shape[3]!]);
    let out = T.interpolate(x, [to[0], to[1]], 'nearest');
    if (skip !== null) out = consume(out, (t) => T.cat([t, skip], 1));
    out = consume(out, (t) => runSequential(this.conv1, t));
    return consume(out, (t) => runSequential(this.conv2, t));
  }
}

/**
 * The five blocks on the encoder's maps [stem, layer1, layer2, layer3, layer4] (channels
 * `encoderChannels`): block i upsamples to the size of skip i (layer3, layer2, layer1, stem),
 * which is twice the map's size when the input side divides by 32; the last block has no skip
 * and upsamples to `outSize`, the input's size. So the output has the input's size for any
 * input side (an odd side's stem is ceil(H/2), not twice the next map's).
 */
export class UNetDecoder extends Module {
  /** A container only (segmentation_models_pytorch's nn.ModuleList "blocks"); forward() runs the blocks with their skips. */
  readonly blocks: Sequential;
  readonly #blocks: UNetDecoderBlock[];

  constructor(encoderChannels: readonly [number, number, number, number, number], channels: readonly number[] = DECODER_CHANNELS) {
    super();
    if (channels.length !== 5) throw new SpotdiffError('ERR_BAD_INPUT', `U-Net decoder: 5 block widths needed, got ${channels.length}`);
    const skips = [encoderChannels[3], encoderChannels[2], encoderChannels[1], encoderChannels[0], 0];
    const ins = [encoderChannels[4], ...channels.slice(0, 4)];
    this.#blocks = channels.map((c, i) => new UNetDecoderBlock(ins[i]!, skips[i]!, c));
    this.blocks = this.registerModule('blocks', new Sequential(...this.#blocks));
  }

  /** Output channels of the last block. */
  get outChannels(): number {
    return this.#blocks[4]!.outChannels;
  }

  /**
   * Runs the blocks on the encoder's maps; the maps stay the caller's. Output
   * [N, outChannels, outSize[0], outSize[1]].
   */
  decode(maps: readonly [T.Tensor, T.Tensor, T.Tensor, T.Tensor, T.Tensor], outSize: readonly [number, number]): T.Tensor {
    const skips = [maps[3], maps[2], maps[1], maps[0], null];
    let x = this.#blocks[0]!.forward(maps[4], skips[0]);
    for (let i = 1; i < 5; i++) x = consume(x, (t) => this.#blocks[i]!.forward(t, skips[i]!, i === 4 ? outSize : undefined));
    return x;
  }

  forward(): T.Tensor {
    throw new SpotdiffError('ERR_BAD_INPUT', 'U-Net decoder: call decode(maps, size) with the encoder\'s five maps');
  }
}
