import { binaryMetrics } from '../../src/metrics/binary.js';
import { pixelMetrics } from '../../src/metrics/pixel.js';
import { mapsInMemory, type ScoreMap } from '../../src/metrics/score-map.js';
import { SYNTH_OBJECTS } from '../../src/data/synth/objects/index.js';
import { renderSample } from '../../src/data/synth/render.js';
import { maskPng, overlayPng, sharedRange, type AnomalyMap } from '../../src/report/overlay.js';
import type { ExampleOverlay, ObjectReport, Report, ScoredImage } from '../../src/report/types.js';
import { Random } from '../../src/util/random.js';

/**
 * A report as eval/benchmark will fill it, from synthetic images: each object gets a few rendered
 * normal and anomalous images with stand-in anomaly maps (the blurred difference to the image's
 * defect-free twin, plus smooth noise), and a larger set of drawn scores for the histograms.
 */

const SIZE = 96;

/** Separable box blur, a few passes: a stand-in for a detector's smooth maps. */
function blur(map: Float32Array, w: number, h: number, passes = 3, r = 2): Float32Array {
  let a = map;
  for (let p = 0; p < passes; p++) {
    const b = new Float32Array(a.length);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0;
        let n = 0;
        for (let d = -r; d <= r; d++) {
          const xx = x + d;
          if (xx >= 0 && xx < w) {
            s += a[y * w + xx] as number;
            n++;
          }
        }
        b[y * w + x] = s / n;
      }
    }
    const c = new Float32Array(a.length);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0;
        let n = 0;
        for (let d = -r; d <= r; d++) {
          const yy = y + d;
          if (yy >= 0 && yy < h) {
            s += b[yy * w + x] as number;
            n++;
          }
        }
        c[y * w + x] = s / n;
      }
    }
    a = c;
  }
  return a;
}

interface Rendered {
  name: string;
  label: 0 | 1;
  rgb: Uint8Array;
  map: AnomalyMap;
  mask: Uint8Array | null;
}

function renderImages(object: string, seed: number, perClass: number): Rendered[] {
  const synth = SYNTH_OBJECTS[object];
  if (!synth) throw new Error(`no synthetic object ${object}`);
  const rng = new Random(seed);
  const out: Rendered[] = [];
  for (let i = 0; i < 2 * perClass; i++) {
    const label: 0 | 1 = i < perClass ? 0 : 1;
    const s = renderSample(synth, { seed, size: SIZE, index: i, defects: label === 1 ? [1 + (i % synth.defectClasses.length)] : [] });
    const diff = new Float32Array(SIZE * SIZE);
    for (let p = 0; p < diff.length; p++) {
      let d = 0;
      for (let c = 0; c < 3; c++) d += Math.abs((s.image[p * 3 + c] as number) - (s.twin[p * 3 + c] as number));
      diff[p] = d / 60 + 0.4 * rng.float();
    }
    const mask = s.classMask ? Uint8Array.from(s.classMask, (v) => (v !== 0 ? 1 : 0)) : null;
    out.push({ name: `${label === 1 ? 'bad' : 'good'}/${String(i).padStart(3, '0')}.png`, label, rgb: s.image, map: { width: SIZE, height: SIZE, data: blur(diff, SIZE, SIZE) }, mask });
  }
  return out;
}

function maxOf(a: Float32Array): number {
  let m = -Infinity;
  for (const v of a) if (v > m) m = v;
  return m;
}

async function objectReport(object: string, seed: number, perClass: number): Promise<ObjectReport> {
  const rendered = renderImages(object, seed, perClass);
  const rng = new Random(seed + 100);
  const scores: ScoredImage[] = rendered.map((r) => ({ name: r.name, label: r.label, score: maxOf(r.map.data) }));
  const normalMean = scores.filter((s) => s.label === 0).reduce((a, s) => a + s.score, 0) / perClass;
  for (let i = 0; i < 40; i++) scores.push({ name: `good/x${i}.png`, label: 0, score: rng.normal(normalMean, 0.05) });
  for (let i = 0; i < 30; i++) scores.push({ name: `bad/x${i}.png`, label: 1, score: rng.normal(normalMean + 0.25, 0.15) });
  const image = binaryMetrics(
    scores.map((s) => s.label),
    scores.map((s) => s.score),
  );
  const maps: ScoreMap[] = rendered.map((r) => ({ scores: r.map.data, mask: r.mask, width: SIZE, height: SIZE, name: r.name }));
  // A small counting budget: these maps are tiny, and the default 256 MiB costs more to set up than to use.
  const pixel = await pixelMetrics(mapsInMemory(maps), { memoryBudgetBytes: 4 << 20 });
  const range = sharedRange(rendered.map((r) => r.map));
  const threshold = normalMean + 0.1;
  const examples: ExampleOverlay[] = [];
  for (const r of rendered) {
    const score = maxOf(r.map.data);
    const overlay = await overlayPng(
      { width: SIZE, height: SIZE, data: r.rgb },
      r.map,
      { range, groundTruth: r.mask ? { width: SIZE, height: SIZE, data: r.mask } : null },
    );
    examples.push({ name: r.name, label: r.label, score, overlayPng: overlay, maskPng: r.label === 1 ? await maskPng(r.map, threshold) : null });
  }
  return {
    name: object,
    image,
    pixel,
    scores,
    threshold: { value: threshold, source: 'mean normal score + 0.1 (test fixture)', pixelValue: threshold },
    examples,
    heatmapScale: { ...range, colormap: 'turbo' },
  };
}

export const FIXTURE_TITLE = `PatchCore <WRN-50-2> & "friends" on synth's set`;

export async function fixtureReport(objects: readonly string[] = ['tealight', 'pills'], perClass = 3): Promise<Report> {
  const reports: ObjectReport[] = [];
  for (const [i, o] of objects.entries()) reports.push(await objectReport(o, 11 + i, perClass));
  return {
    title: FIXTURE_TITLE,
    run: {
      method: 'patchcore',
      backbone: 'wide_resnet50_2',
      dataset: 'synth (1cls)',
      date: '2024-05-01T12:00:00Z',
      config: { coreset: 0.1, inputSize: 256, note: '</pre><b>not bold</b>' },
      extra: { seed: '0', weights: 'wide_resnet50_2.pth' },
    },
    objects: reports,
    paper: { source: 'Zou et al., ECCV 2022, Table 6 (test values)', rows: { mean: { 'image.aupr': 0.933, 'image.auroc': 0.924, 'pixel.aupr': 0.384, 'pixel.auroc': 0.984 } } },
  };
}
