import * as T from '../../tensor/index.js';
import { SpotdiffError } from '../../util/errors.js';
import { layerTensors, type FeatureMaps } from '../common/features.js';

/** Channels per layer and the first layer's grid, as seen in a batch of features. */
export interface PadimLayout {
  layerChannels: number[];
  grid: [number, number];
}

/** Reads and checks the layout: every later layer's grid must divide the first one's. */
export function padimLayout(features: FeatureMaps, layers: readonly string[]): PadimLayout {
  const ts = layerTensors(features, layers, 'PaDiM');
  const [h, w] = [ts[0]!.shape[2] as number, ts[0]!.shape[3] as number];
  ts.forEach((t, i) => {
    const [hl, wl] = [t.shape[2] as number, t.shape[3] as number];
    if (hl < 1 || wl < 1 || h % hl !== 0 || w % wl !== 0) {
      throw new SpotdiffError(
        'ERR_SHAPE',
        `PaDiM: layer ${layers[i]} is ${hl}×${wl}, which does not divide ${layers[0]}'s ${h}×${w} grid (the layers must come from one backbone pass, highest resolution first)`,
      );
    }
  });
  return { layerChannels: ts.map((t) => t.shape[1] as number), grid: [h, w] };
}

/** Row indices floor(i / s): repeating each source row s times, as unfold/fold block copies do. */
function repeatIndex(out: number, factor: number, device: string): T.Tensor {
  return T.tensor(BigInt64Array.from({ length: out }, (_, i) => BigInt(Math.floor(i / factor))), [out], { device });
}

/**
 * The PaDiM embedding [B, d, H, W]: the chosen channels of every layer, lower-resolution layers
 * repeated onto the first layer's grid, in the order of `channelIndex` (indices into the
 * concatenation layer1 ‖ layer2 ‖ layer3). Equal to the official embedding_concat (F.unfold /
 * F.fold with kernel = stride = s) followed by index_select(idx): for a grid ratio s, fold
 * writes the coarse value into every cell of its s×s block, i.e. nearest upsampling by s.
 * Only the chosen channels are upsampled, which saves most of the memory.
 */
export function padimEmbedding(features: FeatureMaps, layers: readonly string[], channelIndex: readonly number[], expect?: PadimLayout): T.Tensor {
  const layout = padimLayout(features, layers);
  if (expect !== undefined) {
    if (layout.layerChannels.some((c, i) => c !== expect.layerChannels[i])) {
      throw new SpotdiffError('ERR_SHAPE', `PaDiM: layers have ${layout.layerChannels.join('/')} channels, the model was fitted on ${expect.layerChannels.join('/')}`);
    }
    if (layout.grid[0] !== expect.grid[0] || layout.grid[1] !== expect.grid[1]) {
      throw new SpotdiffError(
        'ERR_SHAPE',
        `PaDiM: the feature grid is ${layout.grid.join('×')}, the model was fitted on ${expect.grid.join('×')} (images of another size? PaDiM's statistics are per position)`,
      );
    }
  }
  const total = layout.layerChannels.reduce((a, b) => a + b, 0);
  if (channelIndex.some((c) => !Number.isInteger(c) || c < 0 || c >= total)) {
    throw new SpotdiffError('ERR_BAD_INPUT', `PaDiM: channel indices must lie in [0, ${total})`);
  }
  const ts = layerTensors(features, layers, 'PaDiM');
  const [h, w] = layout.grid;
  return T.tidy(() => {
    const parts: T.Tensor[] = [];
    const groupedPosition = new Array<number>(channelIndex.length);
    let offset = 0;
    let filled = 0;
    ts.forEach((x, li) => {
      const c = layout.layerChannels[li] as number;
      const mine: number[] = [];
      channelIndex.forEach((g, k) => {
        if (g >= offset && g < offset + c) {
          groupedPosition[k] = filled + mine.length;
          mine.push(g - offset);
        }
      });
      offset += c;
      if (mine.length === 0) return;
      filled += mine.length;
      let part = T.indexSelect(x, 1, T.tensor(BigInt64Array.from(mine, (v) => BigInt(v)), [mine.length], { device: x.device }));
      const [hl, wl] = [x.shape[2] as number, x.shape[3] as number];
      if (hl !== h) part = T.indexSelect(part, 2, repeatIndex(h, h / hl, x.device));
      if (wl !== w) part = T.indexSelect(part, 3, repeatIndex(w, w / wl, x.device));
      parts.push(part);
    });
    const grouped = parts.length === 1 ? parts[0]! : T.cat(parts, 1);
    const order = T.tensor(BigInt64Array.from(groupedPosition, (v) => BigInt(v)), [groupedPosition.length], { device: grouped.device });
    return T.contiguous(T.indexSelect(grouped, 1, order));
  });
}
