import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { binaryMetrics } from '../../src/metrics/binary.js';
import { colorbarSvg, histogramBins, histogramSvg, prSvg, rocSvg, MAX_CURVE_POINTS } from '../../src/report/plots.js';
import { niceTicks } from '../../src/report/svg-chart.js';
import { Random } from '../../src/util/random.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { pythonJson } from '../helpers/python.js';
import { tempDir } from '../helpers/tmp.js';

// The SVGs are read back by Python's XML parser (an independent reader: it also proves the
// markup is well-formed XML, which raw '<' or '&' in a label would break).
const PARSE = `
import json, sys, xml.etree.ElementTree as ET
NS = '{http://www.w3.org/2000/svg}'
out = []
for svg in json.load(open(sys.argv[1])):
    root = ET.fromstring(svg)
    parent = {c: p for p in root.iter() for c in p}
    def f(e, k): return float(e.get(k))
    frame = [dict(x=f(r,'x'), y=f(r,'y'), w=f(r,'width'), h=f(r,'height')) for r in root.iter(NS+'rect') if r.get('class') == 'frame']
    polys = [dict(series=p.get('data-series'), points=[[float(v) for v in pt.split(',')] for pt in p.get('points').split()])
             for p in root.iter(NS+'polyline')]
    bars = [dict(cls=parent[r].get('class'), bin=int(r.get('data-bin')), count=int(r.get('data-count')),
                 x=f(r,'x'), y=f(r,'y'), w=f(r,'width'), h=f(r,'height')) for r in root.iter(NS+'rect') if r.get('class') == 'bar']
    lines = [dict(cls=l.get('class'), x1=f(l,'x1'), y1=f(l,'y1'), x2=f(l,'x2'), y2=f(l,'y2')) for l in root.iter(NS+'line') if l.get('class') in ('threshold', 'chance')]
    texts = [''.join(t.itertext()) for t in root.iter(NS+'text')]
    out.append(dict(width=f(root,'width'), height=f(root,'height'), frame=frame[0] if frame else None, polys=polys, bars=bars, lines=lines, texts=texts, rects=len(list(root.iter(NS+'rect')))))
print(json.dumps(out))
`;

interface Parsed {
  width: number;
  height: number;
  frame: { x: number; y: number; w: number; h: number } | null;
  polys: { series: string; points: [number, number][] }[];
  bars: { cls: string; bin: number; count: number; x: number; y: number; w: number; h: number }[];
  lines: { cls: string; x1: number; y1: number; x2: number; y2: number }[];
  texts: string[];
  rects: number;
}

function parseSvgs(svgs: string[]): Parsed[] {
  const dir = tempDir();
  const file = join(dir, 'svgs.json');
  writeFileSync(file, JSON.stringify(svgs));
  return pythonJson<Parsed[]>(PARSE, [file]);
}

function sample(seed: number, n: number): { labels: number[]; scores: number[] } {
  const rng = new Random(seed);
  const labels: number[] = [];
  const scores: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = i % 3 === 0 ? 1 : 0;
    labels.push(y);
    // Rounded to 1 decimal so there are ties (diagonal ROC segments).
    scores.push(Math.round((rng.float() + 0.6 * y) * 10) / 10);
  }
  return { labels, scores };
}

/** Data coordinates of SVG points, read through the drawn frame: (0, 0) is its bottom left, (1, 1) its top right. */
function toData(frame: NonNullable<Parsed['frame']>, points: [number, number][]): [number, number][] {
  return points.map(([x, y]) => [(x - frame.x) / frame.w, (frame.y + frame.h - y) / frame.h]);
}

// Coordinates are written to 1/100 px: half of that over a plot ~290 px wide is < 2e-5 in data units.
const TOL = 1e-4;

function assertPointsMatch(got: [number, number][], xs: ArrayLike<number>, ys: ArrayLike<number>, what: string): void {
  assert.equal(got.length, xs.length, `${what}: point count`);
  got.forEach(([x, y], i) => {
    assert.ok(Math.abs(x - (xs[i] as number)) < TOL && Math.abs(y - (ys[i] as number)) < TOL, `${what} point ${i}: (${x}, ${y}) vs (${xs[i]}, ${ys[i]})`);
  });
}

test('ROC and PR curves: the drawn points are the input points; areas in the legend', () => {
  const a = sample(1, 90);
  const b = sample(2, 300);
  const image = binaryMetrics(a.labels, a.scores);
  const pixel = binaryMetrics(b.labels, b.scores);
  const roc = rocSvg([
    { label: 'image', roc: image.roc, auroc: image.auroc },
    { label: 'pixel', roc: pixel.roc, auroc: pixel.auroc },
  ]);
  const pr = prSvg([{ label: 'image', pr: image.pr, aupr: image.aupr, positiveRate: 30 / 90 }]);
  const [r, p] = parseSvgs([roc, pr]) as [Parsed, Parsed];

  assert.ok(r.frame && r.frame.w > 100 && r.frame.h > 100);
  assert.equal(r.polys.length, 2);
  assertPointsMatch(toData(r.frame, r.polys[0]!.points), image.roc.fpr, image.roc.tpr, 'image ROC');
  assertPointsMatch(toData(r.frame, r.polys[1]!.points), pixel.roc.fpr, pixel.roc.tpr, 'pixel ROC');
  // The curve runs from the frame's bottom-left corner to its top-right one.
  assert.deepEqual(toData(r.frame, [r.polys[0]!.points[0]!])[0], [0, 0]);
  assert.ok(r.texts.includes(`image: AU-ROC ${(image.auroc * 100).toFixed(1)}%`), r.texts.join(' | '));
  assert.ok(r.texts.includes(`pixel: AU-ROC ${(pixel.auroc * 100).toFixed(1)}%`));
  const chance = r.lines.find((l) => l.cls === 'chance');
  assert.ok(chance);
  assert.deepEqual(toData(r.frame, [[chance.x1, chance.y1], [chance.x2, chance.y2]]), [[0, 0], [1, 1]]);
  // Axes: ticks 0 ... 1 and labels.
  for (const t of ['0', '0.2', '0.4', '0.6', '0.8', '1', 'false-positive rate', 'true-positive rate', 'ROC curve']) assert.ok(r.texts.includes(t), t);

  assert.ok(p.frame);
  assertPointsMatch(toData(p.frame, p.polys[0]!.points), image.pr.recall, image.pr.precision, 'image PR');
  assert.ok(p.texts.includes(`image: AU-PR ${(image.aupr * 100).toFixed(1)}% (chance 33.3%)`), p.texts.join(' | '));
  for (const t of ['recall', 'precision']) assert.ok(p.texts.includes(t), t);
});

test('a curve over MAX_CURVE_POINTS is thinned to points half a pixel apart, ends kept', () => {
  const n = 20001;
  const fpr = Float64Array.from({ length: n }, (_, i) => i / (n - 1));
  const tpr = Float64Array.from(fpr, (x) => Math.sqrt(x));
  const [parsed] = parseSvgs([rocSvg([{ label: 'many', roc: { fpr, tpr, thresholds: new Float64Array(n) }, auroc: 2 / 3 }])]) as [Parsed];
  const pts = toData(parsed.frame!, parsed.polys[0]!.points);
  assert.ok(pts.length < MAX_CURVE_POINTS && pts.length > 200, `${pts.length} points`);
  assert.deepEqual(pts[0], [0, 0]);
  assert.deepEqual(pts[pts.length - 1], [1, 1]);
  // Every kept point is on the curve x = y² (this form: sqrt is too steep near 0 to compare y).
  for (const [x, y] of pts) assert.ok(Math.abs(x - y * y) < 2e-4, `(${x}, ${y})`);
});

test('histogram bins are shared by both classes (hand-computed, and as NumPy counts)', () => {
  // Range [0, 10] in 4 bins: edges 0, 2.5, 5, 7.5, 10; the last bin is closed.
  const h = histogramBins([0, 1, 2, 3], [2.5, 3, 9, 10], 4);
  assert.deepEqual([...h.edges], [0, 2.5, 5, 7.5, 10]);
  assert.deepEqual([...h.normal], [3, 1, 0, 0]);
  assert.deepEqual([...h.anomalous], [0, 2, 0, 2]);
  // Equal values only: a unit-wide range around them.
  assert.deepEqual([...histogramBins([5, 5], [], 2).edges], [4.5, 5, 5.5]);

  const rng = new Random(7);
  const normal = Array.from({ length: 400 }, () => rng.float() * 3.3);
  const anomalous = Array.from({ length: 250 }, () => 1.1 + rng.float() * 7.7);
  anomalous.push(Math.max(...normal, ...anomalous)); // a value exactly on the last edge
  const ours = histogramBins(normal, anomalous, 23);
  const ref = pythonJson<{ edges: number[]; n: number[]; a: number[] }>(
    `import json, sys, numpy as np
d = json.loads(sys.argv[1]); lo = min(d['n'] + d['a']); hi = max(d['n'] + d['a'])
n, e = np.histogram(d['n'], bins=23, range=(lo, hi)); a, _ = np.histogram(d['a'], bins=23, range=(lo, hi))
print(json.dumps(dict(edges=e.tolist(), n=n.tolist(), a=a.tolist())))`,
    [JSON.stringify({ n: normal, a: anomalous })],
  );
  ours.edges.forEach((e, i) => assert.ok(Math.abs(e - (ref.edges[i] as number)) < 1e-12, `edge ${i}`));
  assert.deepEqual([...ours.normal], ref.n);
  assert.deepEqual([...ours.anomalous], ref.a);
});

test('histogram SVG: bar heights are class fractions on shared bins; the threshold line sits at its score', () => {
  const svg = histogramSvg([0, 1, 2, 3], [2.5, 3, 9, 10], { bins: 4, threshold: 5 });
  const [p] = parseSvgs([svg]) as [Parsed];
  const bar = (cls: string, bin: number) => p.bars.find((b) => b.cls === `bars ${cls}` && b.bin === bin);
  const n0 = bar('normal', 0)!;
  const n1 = bar('normal', 1)!;
  const a1 = bar('anomalous', 1)!;
  const a3 = bar('anomalous', 3)!;
  assert.deepEqual([n0.count, n1.count, a1.count, a3.count], [3, 1, 2, 2]);
  assert.equal(p.bars.length, 4); // empty bins draw nothing
  // Fractions 3/4, 1/4 (normal) and 2/4 (anomalous): heights in those ratios, all on one baseline.
  assert.ok(Math.abs(n0.h / n1.h - 3) < 1e-3 && Math.abs(n0.h / a1.h - 1.5) < 1e-3);
  for (const b of [n1, a1, a3]) assert.ok(Math.abs(b.y + b.h - (n0.y + n0.h)) < 0.02);
  // Shared bins: the same x for both classes, bins side by side, equal widths.
  assert.ok(Math.abs(n1.x - a1.x) < 1e-9 && Math.abs(n0.x + n0.w - n1.x) < 0.02 && Math.abs(n0.w - a3.w) < 0.02);
  // Threshold 5 is the edge between bins 1 and 2: edge(2) = x of bin 1 + width.
  const t = p.lines.find((l) => l.cls === 'threshold')!;
  assert.ok(Math.abs(t.x1 - (n1.x + n1.w)) < 0.02, `${t.x1} vs ${n1.x + n1.w}`);
  for (const text of ['normal (4)', 'anomalous (4)', 'threshold 5', 'image score', 'fraction of the class']) assert.ok(p.texts.includes(text), text);
});

test('a threshold outside the scores widens the axis to show it', () => {
  const [p] = parseSvgs([histogramSvg([1, 2], [3, 4], { bins: 2, threshold: 10 })]) as [Parsed];
  const t = p.lines.find((l) => l.cls === 'threshold')!;
  assert.ok(p.frame && t.x1 > p.frame.x && t.x1 < p.frame.x + p.frame.w);
  assert.ok(Math.max(...p.bars.map((b) => b.x + b.w)) < t.x1);
});

test('labels are escaped: the SVG stays well-formed and shows the text as written', () => {
  const label = `a<b & "c" 'd' </text><script>alert(1)</script>`;
  const m = binaryMetrics([0, 1, 0, 1], [0.1, 0.4, 0.35, 0.8]);
  const svg = rocSvg([{ label, roc: m.roc, auroc: m.auroc }], { title: label });
  assert.ok(!svg.includes('<script>'));
  const [p] = parseSvgs([svg]) as [Parsed];
  assert.ok(p.texts.includes(label));
  assert.equal(p.polys[0]!.series, label);
});

test('colour bar: 128 colour steps and tick labels over the range', () => {
  const [p] = parseSvgs([colorbarSvg('turbo', { vmin: 0, vmax: 2.5 }, { label: 'map value' })]) as [Parsed];
  assert.equal(p.rects, 129); // 128 steps and the outline
  for (const t of ['0', '0.5', '1', '1.5', '2', '2.5', 'map value']) assert.ok(p.texts.includes(t), t);
});

test('nice ticks: 1-2-5 steps inside the range', () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0.13, 7.9, 5), [2, 4, 6]);
  assert.deepEqual(niceTicks(-3, 3, 4), [-2, 0, 2]);
  assert.deepEqual(niceTicks(0, 0.07, 4), [0, 0.02, 0.04, 0.06]);
  assert.deepEqual(niceTicks(120, 980, 4), [200, 400, 600, 800]);
});

test('bad curves are clear errors', () => {
  const f = new Float64Array(3);
  assert.throws(() => rocSvg([{ label: 'x', roc: { fpr: f, tpr: new Float64Array(2), thresholds: f }, auroc: 0.5 }]), (e) => isSpotdiffError(e, 'ERR_SHAPE'));
  const empty = new Float64Array(0);
  assert.throws(() => prSvg([{ label: 'x', pr: { precision: empty, recall: empty, thresholds: empty }, aupr: 0.5 }]), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /no points/.test(e.message));
  assert.throws(() => histogramSvg([], []), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT'));
});
