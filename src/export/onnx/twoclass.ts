import { ReLU, Sequential } from '../../nn/index.js';
import type { Module } from '../../nn/index.js';
import { ResNetEncoder } from '../../models/resnet-encoder.js';
import { UNet } from '../../models/unet.js';
import { UNetDecoderBlock } from '../../models/unet-decoder.js';
import type { SegmenterImageScore } from '../../detect/segmenter/config.js';
import type { GraphBuilder } from './graph.js';
import { checkChildren, convBn, maxPool, unsupported } from './layers.js';
import { convertResNet, resnetStem, stage } from './resnet.js';
import { maxPerImage } from './anomaly-map.js';

/**
 * The 2-class networks (detect/classifier, detect/segmenter) as ONNX nodes, from their
 * module trees (models/resnet.ts, models/unet.ts).
 */

/** Classifier: P(anomalous) = softmax(logits)[1] → image scores [B]; maps [B, H, W] hold it everywhere. */
export function classifierScores(g: GraphBuilder, network: Module, images: string, size: readonly [number, number]): { imageScores: string; maps: string } {
  const logits = convertResNet(g, network, images, ['fc'], 'network').get('fc')!;
  const p = g.op('Gather', [g.op('Softmax', [logits], { axis: 1 }), g.ints('class_anomalous', [1], [])], { axis: 1 }, 'p_anomalous');
  const maps = g.op('Expand', [g.op('Reshape', [p, g.intList([-1, 1, 1])]), g.intList([1, size[0], size[1]])], {}, 'constant_maps');
  return { imageScores: p, maps };
}

/** Conv-BN-ReLU as a Sequential of those three (the decoder's Conv2dReLU). */
function convBnRelu(g: GraphBuilder, x: string, seq: Module, path: string): string {
  if (!(seq instanceof Sequential) || seq.layers.length !== 3 || !(seq.layers[2] instanceof ReLU)) throw unsupported(path, seq, 'a block other than Sequential(Conv2d, BatchNorm2d, ReLU)');
  return g.op('Relu', [convBn(g, x, seq.layers[0]!, seq.layers[1]!, `${path}.0`)]);
}

/**
 * torch's legacy 'nearest' source index for each output index: ⌊dst · (in/out)⌋ in float32
 * (upsample nearest's nearest_idx; exact halving for a doubled size), capped at in − 1.
 */
export function nearestIndices(inSize: number, outSize: number): number[] {
  if (outSize === 2 * inSize) return Array.from({ length: outSize }, (_, i) => i >> 1);
  const scale = Math.fround(inSize / outSize);
  return Array.from({ length: outSize }, (_, i) => Math.min(Math.floor(Math.fround(i * scale)), inSize - 1));
}

/** Nearest upsampling of [B, C, h, w] to `size` by Gather with torch's indices (sizes are fixed at export). */
function upsampleNearest(g: GraphBuilder, x: string, from: readonly [number, number], size: readonly [number, number]): string {
  let out = x;
  if (from[0] !== size[0]) out = g.op('Gather', [out, g.ints('nearest_rows', nearestIndices(from[0], size[0]))], { axis: 2 });
  if (from[1] !== size[1]) out = g.op('Gather', [out, g.ints('nearest_cols', nearestIndices(from[1], size[1]))], { axis: 3 });
  return out;
}

/** Output size of the stem and of each stage: each stride-2 step rounds up. */
function halve(size: readonly [number, number]): [number, number] {
  return [Math.floor((size[0] - 1) / 2) + 1, Math.floor((size[1] - 1) / 2) + 1];
}

/** The encoder's five maps [stem, layer1..layer4] with their sizes (models/resnet-encoder.ts features()). */
function encoderMaps(g: GraphBuilder, enc: Module, x: string, size: readonly [number, number]): { value: string; size: [number, number] }[] {
  const path = 'network.encoder';
  if (!(enc instanceof ResNetEncoder)) throw unsupported(path, enc);
  checkChildren(enc, path, ['conv1', 'bn1', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4']);
  const stem = { value: resnetStem(g, enc, x, path), size: halve(size) };
  const out = [stem];
  let cur = { value: maxPool(g, stem.value, enc.maxpool, `${path}.maxpool`), size: halve(stem.size) };
  [enc.layer1, enc.layer2, enc.layer3, enc.layer4].forEach((seq, i) => {
    cur = { value: stage(g, cur.value, seq, `${path}.layer${i + 1}`), size: i === 0 ? cur.size : halve(cur.size) };
    out.push(cur);
  });
  return out;
}

/** U-Net logits → sigmoid maps [B, H, W] (models/unet.ts, models/unet-decoder.ts). */
function unetMaps(g: GraphBuilder, network: Module, images: string, size: readonly [number, number]): string {
  if (!(network instanceof UNet)) throw unsupported('network', network);
  checkChildren(network, 'network', ['encoder', 'decoder', 'segmentation_head']);
  const maps = encoderMaps(g, network.encoder, images, size);
  const blocks = network.decoder.blocks;
  checkChildren(network.decoder, 'network.decoder', ['blocks']);
  const skips = [maps[3], maps[2], maps[1], maps[0], null];
  let x = maps[4]!.value;
  let at = maps[4]!.size;
  blocks.layers.forEach((block, i) => {
    const path = `network.decoder.blocks.${i}`;
    if (!(block instanceof UNetDecoderBlock)) throw unsupported(path, block);
    checkChildren(block, path, ['conv1', 'conv2']);
    const skip = skips[i] ?? null;
    const to: [number, number] = skip === null ? [size[0], size[1]] : skip.size;
    let up = upsampleNearest(g, x, at, to);
    at = to;
    if (skip !== null) up = g.op('Concat', [up, skip.value], { axis: 1 });
    x = convBnRelu(g, convBnRelu(g, up, block.conv1, `${path}.conv1`), block.conv2, `${path}.conv2`);
  });
  const head = network.segmentationHead;
  if (head.layers.length !== 1) throw unsupported('network.segmentation_head', head, 'a segmentation head other than one Conv2d');
  const logits = convBn(g, x, head.layers[0]!, null, 'network.segmentation_head.0');
  return g.op('Squeeze', [g.op('Sigmoid', [logits]), g.intList([1])], {}, 'pixel_maps');
}

/** Segmenter: sigmoid maps at the input size; image score = the map's max or the mean of its top k pixels. */
export function segmenterScores(g: GraphBuilder, network: Module, images: string, size: readonly [number, number], rule: SegmenterImageScore): { imageScores: string; maps: string } {
  const maps = unetMaps(g, network, images, size);
  if (rule.rule === 'max') return { imageScores: maxPerImage(g, maps), maps };
  const k = Math.min(rule.topK, size[0] * size[1]);
  const [top] = g.opN('TopK', [g.op('Flatten', [maps], { axis: 1 }), g.intList([k])], 2, { axis: 1, largest: 1, sorted: 1 }, 'top_pixels') as [string, string];
  return { imageScores: g.op('ReduceMean', [top], { axes: [1], keepdims: 0 }, 'top_k_mean'), maps };
}
