import { AdaptiveAvgPool2d, Sequential } from '../../nn/index.js';
import type { Module } from '../../nn/index.js';
import { BasicBlock, Bottleneck } from '../../models/resnet-blocks.js';
import { ResNet } from '../../models/resnet.js';
import { FEATURE_LAYERS, parseFeatureLayers, type FeatureLayer } from '../../models/backbone-names.js';
import type { GraphBuilder } from './graph.js';
import { checkChildren, convBn, linear, maxPool, unsupported } from './layers.js';

/**
 * A ResNet from the TS module tree (src/models/resnet.ts) as ONNX nodes, as deep as the deepest
 * requested output (the same outputs as models/feature-extractor.ts): conv+bn folded, Relu,
 * MaxPool, residual Add, GlobalAveragePool, Flatten + Gemm for fc.
 */
export function convertResNet(g: GraphBuilder, net: Module, x: string, layers: readonly string[], path = 'backbone'): Map<FeatureLayer, string> {
  if (!(net instanceof ResNet)) throw unsupported(path, net as Module);
  checkChildren(net, path, ['conv1', 'bn1', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4', 'avgpool', 'fc']);
  const wanted = parseFeatureLayers(layers);
  const depth = Math.max(...wanted.map((l) => FEATURE_LAYERS.indexOf(l)));
  const got = new Map<FeatureLayer, string>();
  let cur = maxPool(g, resnetStem(g, net, x, path), net.maxpool, `${path}.maxpool`);
  for (let i = 0; i <= depth; i++) {
    const name = FEATURE_LAYERS[i] as FeatureLayer;
    if (i < 4) cur = stage(g, cur, net.stages[i]!, `${path}.${name}`);
    else if (name === 'avgpool') {
      if (!(net.avgpool instanceof AdaptiveAvgPool2d) || net.avgpool.outputSize !== 1) throw unsupported(`${path}.avgpool`, net.avgpool, 'adaptive average pooling to a size other than 1');
      cur = g.op('GlobalAveragePool', [cur], {}, `${path}.avgpool`);
    } else cur = linear(g, g.op('Flatten', [cur], { axis: 1 }), net.fc, `${path}.fc`);
    got.set(name, cur);
  }
  return new Map(wanted.map((l) => [l, got.get(l) as string]));
}

/** conv1-bn1-relu (before the max pool), of a ResNet or of a U-Net's ResNet encoder (same child names). */
export function resnetStem(g: GraphBuilder, net: Module & { conv1: Module; bn1: Module }, x: string, path: string): string {
  return g.op('Relu', [convBn(g, x, net.conv1, net.bn1, `${path}.conv1`)]);
}

/** One residual stage (a Sequential of BasicBlock / Bottleneck). */
export function stage(g: GraphBuilder, x: string, seq: Module, path: string): string {
  if (!(seq instanceof Sequential)) throw unsupported(path, seq);
  let cur = x;
  seq.layers.forEach((block, i) => (cur = residualBlock(g, cur, block, `${path}.${i}`)));
  return cur;
}

function residualBlock(g: GraphBuilder, x: string, block: Module, path: string): string {
  let out: string;
  if (block instanceof BasicBlock) {
    checkChildren(block, path, ['conv1', 'bn1', 'conv2', 'bn2', 'downsample']);
    out = g.op('Relu', [convBn(g, x, block.conv1, block.bn1, `${path}.conv1`)]);
    out = convBn(g, out, block.conv2, block.bn2, `${path}.conv2`);
  } else if (block instanceof Bottleneck) {
    checkChildren(block, path, ['conv1', 'bn1', 'conv2', 'bn2', 'conv3', 'bn3', 'downsample']);
    out = g.op('Relu', [convBn(g, x, block.conv1, block.bn1, `${path}.conv1`)]);
    out = g.op('Relu', [convBn(g, out, block.conv2, block.bn2, `${path}.conv2`)]);
    out = convBn(g, out, block.conv3, block.bn3, `${path}.conv3`);
  } else throw unsupported(path, block);
  const identity = block.downsample === null ? x : downsample(g, x, block.downsample, `${path}.downsample`);
  return g.op('Relu', [g.op('Add', [out, identity])]);
}

/** The shortcut: Sequential(conv1x1, BatchNorm2d), folded into one Conv. */
function downsample(g: GraphBuilder, x: string, seq: Sequential, path: string): string {
  if (!(seq instanceof Sequential) || seq.layers.length !== 2) throw unsupported(path, seq, 'a shortcut other than Sequential(Conv2d, BatchNorm2d)');
  return convBn(g, x, seq.layers[0] as Module, seq.layers[1] as Module, `${path}.0`);
}
