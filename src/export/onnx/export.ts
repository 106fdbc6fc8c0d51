import { FeatureDetector } from '../../detect/common/feature-detector.js';
import { PadimModel } from '../../detect/padim/model.js';
import { PatchcoreModel } from '../../detect/patchcore/model.js';
import { ClassifierDetector } from '../../detect/classifier/detector.js';
import { SegmenterDetector } from '../../detect/segmenter/detector.js';
import { methodInfo } from '../../detect/registry.js';
import type { LoadedModel } from '../../detect/run/model-folder.js';
import { spotdiffVersion } from '../../util/version.js';
import type { AnomalyDetector } from '../../detect/method.js';
import { SpotdiffError } from '../../util/errors.js';
import type { FeatureLayer } from '../../models/backbone-names.js';
import { GraphBuilder } from './graph.js';
import { GRAPH_INPUT, normalizeInput } from './preprocess.js';
import { convertResNet } from './resnet.js';
import { anomalyMaps, maxPerImage } from './anomaly-map.js';
import { padimScores } from './padim.js';
import { patchcoreScores } from './patchcore.js';
import { classifierScores, segmenterScores } from './twoclass.js';
import { modelInfo, OUTPUT_MAPS, OUTPUT_SCORES, toMetadataProps, type OnnxModelInfo } from './metadata.js';

/** A model as ONNX bytes, with what its metadata says. */
export interface OnnxExport {
  bytes: Uint8Array;
  info: OnnxModelInfo;
}

/** [h, w] of a ResNet stage's output for an input of size × size (conv1 s2, maxpool s2, then s2 per stage from layer2). */
function stageSize(layer: FeatureLayer, size: readonly [number, number]): [number, number] {
  const half = (x: number): number => Math.floor((x - 1) / 2) + 1;
  const stage = ['layer1', 'layer2', 'layer3', 'layer4'].indexOf(layer);
  return size.map((x) => {
    let v = half(half(x));
    for (let i = 0; i < stage; i++) v = half(v);
    return v;
  }) as [number, number];
}

type Converter = (g: GraphBuilder, detector: AnomalyDetector, images: string, size: [number, number]) => { imageScores: string; maps: string };

/** PaDiM / PatchCore: backbone features, the head's patch scores, the map, the image score. */
function featureDetector(g: GraphBuilder, detector: AnomalyDetector, images: string, size: [number, number]): { imageScores: string; maps: string } {
  if (!(detector instanceof FeatureDetector)) throw new SpotdiffError('ERR_BAD_INPUT', `ONNX export: a ${detector.method} detector of type ${detector.constructor.name} is not supported by the exporter`);
  const { head } = detector;
  const cfg = head.config;
  const features = convertResNet(g, detector.backbone, images, cfg.layers);
  const layers = cfg.layers.map((l: string) => {
    const [h, w] = stageSize(l as FeatureLayer, size);
    const channels = detector.backbone.stageChannels[['layer1', 'layer2', 'layer3', 'layer4'].indexOf(l)];
    if (channels === undefined) throw new SpotdiffError('ERR_BAD_INPUT', `ONNX export: feature layer "${l}" is not supported by the exporter (residual stages only)`);
    return { value: features.get(l as FeatureLayer) as string, channels, h, w };
  });
  const state = head.stateDict();
  if (head instanceof PatchcoreModel) {
    const s = patchcoreScores(g, { config: head.config, memory: state.get('memory_bank')!.toFloat32(), layers });
    return { imageScores: s.imageScores, maps: anomalyMaps(g, s.patchScores, size, head.config.map) };
  }
  if (head instanceof PadimModel) {
    const names = [...state.keys()].filter((k) => k.startsWith('inv_covariance.')).sort();
    const chunks = names.map((n) => state.get(n)!.toFloat32());
    const inv = new Float32Array(chunks.reduce((a, c) => a + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      inv.set(c, at);
      at += c.length;
    }
    const patch = padimScores(g, { config: head.config, channelIndex: head.channelIndex, mean: state.get('mean')!.toFloat32(), invCovariance: inv, layers });
    const maps = anomalyMaps(g, patch, size, head.config.map);
    return { imageScores: maxPerImage(g, maps), maps };
  }
  throw new SpotdiffError('ERR_BAD_INPUT', `ONNX export: the feature head ${head.constructor.name} is not supported by the exporter`);
}

/** The 2-way classifier: softmax P(anomalous); its map is that score everywhere. */
function classifier(g: GraphBuilder, detector: AnomalyDetector, images: string, size: [number, number]): { imageScores: string; maps: string } {
  if (!(detector instanceof ClassifierDetector)) throw new SpotdiffError('ERR_BAD_INPUT', `ONNX export: a classifier detector of type ${detector.constructor.name} is not supported by the exporter`);
  return classifierScores(g, detector.network, images, size);
}

/** The U-Net segmenter: sigmoid maps, image score by its rule. */
function segmenter(g: GraphBuilder, detector: AnomalyDetector, images: string, size: [number, number]): { imageScores: string; maps: string } {
  if (!(detector instanceof SegmenterDetector)) throw new SpotdiffError('ERR_BAD_INPUT', `ONNX export: a segmenter detector of type ${detector.constructor.name} is not supported by the exporter`);
  return segmenterScores(g, detector.network, images, size, detector.config.imageScore);
}

const CONVERTERS: Readonly<Record<string, Converter>> = { padim: featureDetector, patchcore: featureDetector, classifier, segmenter };

/**
 * Writes a loaded model folder as one ONNX graph: images float32 [batch, 3, H, W] in [0, 1]
 * (normalised inside) → image_scores [batch] and maps [batch, H, W], the same numbers as the
 * detector's score(). Whole-image models only: a tiled model's stitching is not in the graph.
 */
export function exportOnnx(model: LoadedModel): OnnxExport {
  const { manifest, detector } = model;
  if (manifest.tiling !== null && manifest.tiling !== undefined) {
    throw new SpotdiffError('ERR_BAD_INPUT', `ONNX export: this model scores by ${manifest.tiling.size} px tiles, which the exporter does not support (tiling and stitching are not in the graph); fit a whole-image model to export`);
  }
  const convert = CONVERTERS[manifest.method];
  if (convert === undefined) throw new SpotdiffError('ERR_BAD_INPUT', `ONNX export: method "${manifest.method}" is not supported by the exporter (it knows ${Object.keys(CONVERTERS).join(', ')})`);
  const size: [number, number] = [manifest.detector.input.imageSize[0], manifest.detector.input.imageSize[1]];
  const g = new GraphBuilder();
  g.reserve([OUTPUT_SCORES, OUTPUT_MAPS]);
  const images = g.input(GRAPH_INPUT, ['batch', 3, size[0], size[1]]);
  const out = convert(g, detector, normalizeInput(g, images), size);
  g.output(out.imageScores, OUTPUT_SCORES, ['batch']);
  g.output(out.maps, OUTPUT_MAPS, ['batch', size[0], size[1]]);
  const info = modelInfo(manifest, methodInfo(manifest.method).localises, spotdiffVersion());
  return { bytes: g.encode(`spotdiff_${manifest.method}`, toMetadataProps(info), spotdiffVersion()), info };
}
