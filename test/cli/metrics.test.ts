import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { binaryMetrics } from '../../src/metrics/binary.js';
import { pixelMetrics } from '../../src/metrics/pixel.js';
import { mapsInMemory, type ScoreMap } from '../../src/metrics/score-map.js';
import { writeNpy } from '../../src/data/npy.js';
import { Random } from '../../src/util/random.js';
import { repoRoot, tempDir } from '../helpers/tmp.js';

const main = join(repoRoot, 'dist/src/cli/main.js');
const dir = tempDir();

function spotdiff(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, 'metrics', ...args], { encoding: 'utf8', cwd: dir });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1e-12, `${what}: ${a} vs ${b}`);

const rng = new Random(3);
const labels = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? 1 : 0));
const scores = labels.map((l) => Math.round(rng.normal(l, 1) * 8) / 8);

test('--scores: text and --json for a label,score CSV (labels 0/1 or normal/anomaly)', () => {
  const csv = ['label,score', ...labels.map((l, i) => `${i % 2 ? (l ? 'anomaly' : 'normal') : l},${scores[i]}`)].join('\n');
  writeFileSync(join(dir, 'scores.csv'), csv + '\n');
  const expected = binaryMetrics(labels, scores);
  const json = spotdiff('--scores', 'scores.csv', '--json');
  assert.equal(json.code, 0, json.stderr);
  const out = JSON.parse(json.stdout) as Record<string, number>;
  close(out.aupr!, expected.aupr, 'AU-PR');
  close(out.auroc!, expected.auroc, 'AU-ROC');
  close(out.averagePrecision!, expected.averagePrecision, 'AP');
  close(out.maxF1!, expected.maxF1, 'max-F1');
  assert.equal(out.positives, 20);
  const text = spotdiff('--scores', 'scores.csv', '--digits', '2', '--curves', 'curves.json');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`AU-PR\\s+${(expected.aupr * 100).toFixed(2)}`));
  assert.match(text.stdout, new RegExp(`AU-ROC\\s+${(expected.auroc * 100).toFixed(2)}`));
  const curves = JSON.parse(readFileSync(join(dir, 'curves.json'), 'utf8')) as { roc: { fpr: number[] }; pr: { precision: number[]; thresholds: (number | null)[] } };
  assert.equal(curves.roc.fpr.length, expected.roc.fpr.length);
  assert.equal(curves.pr.thresholds[0], null, 'the anchor point has no finite threshold');
});

test('--scores with object and run columns: a per-object table with the mean, as text, markdown and JSON', () => {
  const rows = ['object,run,label,score'];
  for (const object of ['candle', 'pcb1']) for (const run of [0, 1]) labels.forEach((l, i) => rows.push(`${object},${run},${l},${scores[(i + run * 7 + (object === 'pcb1' ? 3 : 0)) % 60]}`));
  writeFileSync(join(dir, 'runs.csv'), rows.join('\n') + '\n');
  const text = spotdiff('--scores', 'runs.csv');
  assert.equal(text.code, 0, text.stderr);
  const lines = text.stdout.trim().split('\n');
  assert.match(lines[0]!, /^object\s+AU-PR\s+AU-ROC\s+AP\s+max-F1$/);
  assert.deepEqual(lines.map((l) => l.split(/\s+/)[0]), ['object', 'candle', 'pcb1', 'mean']);
  assert.match(lines[1]!, /\d+\.\d ± \d+\.\d/);
  const md = spotdiff('--scores', 'runs.csv', '--markdown');
  assert.match(md.stdout, /^\| object \| AU-PR \| AU-ROC \| AP \| max-F1 \|$/m);
  const json = JSON.parse(spotdiff('--scores', 'runs.csv', '--json').stdout) as { rows: { name: string; metrics: Record<string, { mean: number; runs: number }> }[]; results: unknown[] };
  assert.equal(json.results.length, 4);
  assert.deepEqual(json.rows.map((r) => r.name), ['candle', 'pcb1', 'mean']);
  assert.equal(json.rows[0]!.metrics.aupr!.runs, 2);
});

test('bad CSV input exits 1 with a message naming the problem', () => {
  const cases: [string, RegExp][] = [
    ['label,score\n1,0.5\n0,nan\n', /line 3: score "nan" is not a finite number/],
    ['label,score\n1,0.5\n1,0.7\n', /only anomalous/],
    ['label,score\n1,0.5\nmaybe,0.7\n', /line 3: label "maybe"/],
    ['label,value\n1,0.5\n', /missing column\(s\) score/],
    ['label,score\n', /no rows/],
  ];
  cases.forEach(([csv, re], i) => {
    writeFileSync(join(dir, `bad${i}.csv`), csv);
    const r = spotdiff('--scores', `bad${i}.csv`);
    assert.equal(r.code, 1, `case ${i}: ${r.stderr}`);
    assert.match(r.stderr, re);
  });
  const missing = spotdiff('--scores', 'nope.csv');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.csv/);
});

test('usage errors exit 2', () => {
  assert.equal(spotdiff().code, 2);
  assert.equal(spotdiff('--scores', 'scores.csv', '--pred-dir', 'x', '--gt-dir', 'y').code, 2);
  assert.equal(spotdiff('--scores', 'scores.csv', '--bogus').code, 2);
  assert.equal(spotdiff('--pred-dir', 'x').code, 2);
  assert.equal(spotdiff('--scores', 'scores.csv', '--json', '--markdown').code, 2);
  const help = spotdiff('--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--pred-dir DIR --gt-dir DIR/);
});

test('--pred-dir/--gt-dir: .npy and 16-bit PNG maps with PNG masks; missing masks, orphans and size mismatches', async () => {
  const pred = join(dir, 'pred');
  const gt = join(dir, 'gt');
  for (const d of [join(pred, 'bad'), join(pred, 'good'), join(gt, 'bad')]) mkdirSync(d, { recursive: true });
  const W = 24;
  const H = 16;
  const maps: ScoreMap[] = [];
  const mask = (seed: number): Uint8Array => Uint8Array.from({ length: W * H }, (_, i) => ((i % W) - 6 - seed) ** 2 + (Math.floor(i / W) - 8) ** 2 < 16 ? 1 : 0);
  // bad/000.npy (float32) + bad/000.png; bad/001.png (16-bit map) + bad/001_mask.png (MVTec name); good/000.npy, no mask.
  const m0 = mask(0);
  const s0 = Float32Array.from(m0, (d) => rng.normal(d ? 1.2 : 0, 1));
  await writeNpy(join(pred, 'bad/000.npy'), s0, [H, W]);
  await sharp(Buffer.from(m0.map((v) => v * 255)), { raw: { width: W, height: H, channels: 1 } }).png().toFile(join(gt, 'bad/000.png'));
  const m1 = mask(5);
  const u16 = Uint16Array.from(m1, (d) => Math.max(0, Math.min(65535, Math.round(rng.normal(d ? 40000 : 25000, 9000)))));
  await sharp(u16, { raw: { width: W, height: H, channels: 1 } }).toColourspace('grey16').png().toFile(join(pred, 'bad/001.png'));
  await sharp(Buffer.from(m1.map((v) => v * 3)), { raw: { width: W, height: H, channels: 1 } }).png().toFile(join(gt, 'bad/001_mask.png')); // class-id mask
  const s2 = Float32Array.from({ length: W * H }, () => rng.normal(0, 1));
  await writeNpy(join(pred, 'good/000.npy'), s2, [1, H, W]);
  maps.push({ scores: s0, mask: m0, width: W, height: H });
  maps.push({ scores: Float32Array.from(u16, (v) => v / 65535), mask: m1, width: W, height: H });
  maps.push({ scores: s2, mask: null, width: W, height: H });

  const noFlag = spotdiff('--pred-dir', 'pred', '--gt-dir', 'gt');
  assert.equal(noFlag.code, 1);
  assert.match(noFlag.stderr, /1 map\(s\) in pred have no mask in gt[\s\S]*good\/000\.npy[\s\S]*--missing-masks-normal/);

  const r = spotdiff('--pred-dir', 'pred', '--gt-dir', 'gt', '--missing-masks-normal', '--official', '--json', '--quiet');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, number> & { official: Record<string, number> };
  const expected = await pixelMetrics(mapsInMemory(maps), { official: true });
  for (const k of ['aupr', 'auroc', 'averagePrecision', 'maxF1', 'aupro'] as const) close(out[k]!, expected[k] as number, k);
  close(out.official.aupr!, expected.official!.aupr, 'official AU-PR');
  assert.equal(out.maps, 3);
  assert.equal(out.regions, 2);

  const text = spotdiff('--pred-dir', 'pred', '--gt-dir', 'gt', '--missing-masks-normal', '--quiet');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /AUPRO\s+\d+\.\d\s+to FPR 0\.3, 8-connected regions/);

  // A mask of another size, and a mask without a map.
  await sharp(Buffer.alloc(10 * 10), { raw: { width: 10, height: 10, channels: 1 } }).png().toFile(join(gt, 'bad/000.png'));
  const mismatch = spotdiff('--pred-dir', 'pred', '--gt-dir', 'gt', '--missing-masks-normal', '--quiet');
  assert.equal(mismatch.code, 1);
  assert.match(mismatch.stderr, /size mismatch: map .*bad\/000\.npy is 24×16, mask .*bad\/000\.png is 10×10/);
  await sharp(Buffer.from(m0.map((v) => v * 255)), { raw: { width: W, height: H, channels: 1 } }).png().toFile(join(gt, 'bad/000.png'));
  await sharp(Buffer.alloc(W * H), { raw: { width: W, height: H, channels: 1 } }).png().toFile(join(gt, 'bad/777.png'));
  const orphan = spotdiff('--pred-dir', 'pred', '--gt-dir', 'gt', '--missing-masks-normal', '--quiet');
  assert.equal(orphan.code, 1);
  assert.match(orphan.stderr, /1 mask\(s\) in gt have no map in pred:\s+bad\/777\.png/);
});
