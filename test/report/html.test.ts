import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderReportHtml, writeReport } from '../../src/report/html.js';
import { escapeHtml } from '../../src/report/escape.js';
import { selectExamples } from '../../src/report/examples.js';
import { encodePng } from '../../src/report/overlay.js';
import type { ObjectReport, Report } from '../../src/report/types.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { pythonJson } from '../helpers/python.js';
import { tempDir } from '../helpers/tmp.js';

const png = await encodePng({ width: 2, height: 2, data: new Uint8Array(12).fill(200) });
const curve = { fpr: Float64Array.from([0, 0.5, 1]), tpr: Float64Array.from([0, 1, 1]), thresholds: Float64Array.from([Infinity, 2, 1]) };
const pr = { recall: Float64Array.from([0, 1, 1]), precision: Float64Array.from([1, 1, 0.5]), thresholds: Float64Array.from([Infinity, 2, 1]) };

function object(name: string, image: [number, number, number], pixel: [number, number, number, number] | null): ObjectReport {
  return {
    name,
    image: { aupr: image[0], auroc: image[1], maxF1: image[2], roc: curve, pr },
    pixel: pixel === null ? null : { aupr: pixel[0], auroc: pixel[1], maxF1: pixel[2], aupro: pixel[3], roc: curve, pr },
    scores: [
      { name: 'good/0.png', label: 0, score: 0.2 },
      { name: 'good/1.png', label: 0, score: 0.9 },
      { name: 'bad/0.png', label: 1, score: 0.5 },
      { name: 'bad/1.png', label: 1, score: 1.5 },
    ],
    threshold: { value: 0.8, source: 'validation normals' },
    examples: [
      { name: 'good/1.png', label: 0, score: 0.9, overlayPng: png },
      { name: 'bad/0.png', label: 1, score: 0.5, overlayPng: png, maskPng: png },
    ],
    heatmapScale: { vmin: 0, vmax: 2, colormap: 'inferno' },
  };
}

function report(objects: ObjectReport[], extra: Partial<Report> = {}): Report {
  return {
    title: 'Test report',
    run: { method: 'padim', backbone: 'resnet18', dataset: 'synth', date: '2024-01-02T03:04:05Z', config: { d: 100 } },
    objects,
    ...extra,
  };
}

// Python's html.parser reads the page back: the table cells as a reader sees their text.
const TABLE = `
import json, sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.rows = []; self.cell = None; self.in_table = False; self.title = ''; self.in_title = False; self.h1 = ''; self.in_h1 = False
    def handle_starttag(self, tag, attrs):
        if tag == 'table': self.in_table = True
        if self.in_table and tag == 'tr': self.rows.append([])
        if self.in_table and tag in ('td', 'th'): self.cell = ''
        self.in_title = tag == 'title' and self.title == ''; self.in_h1 = tag == 'h1'  # the page's title, not the SVGs'
    def handle_endtag(self, tag):
        if tag == 'table': self.in_table = False
        if self.in_table and tag in ('td', 'th'): self.rows[-1].append(self.cell.strip()); self.cell = None
        if tag == 'title': self.in_title = False
        if tag == 'h1': self.in_h1 = False
    def handle_data(self, data):
        if self.cell is not None: self.cell += data
        if self.in_title: self.title += data
        if self.in_h1: self.h1 += data
p = P(); p.feed(open(sys.argv[1]).read()); print(json.dumps(dict(rows=p.rows, title=p.title, h1=p.h1)))
`;

function readBack(html: string): { rows: string[][]; title: string; h1: string } {
  const dir = tempDir();
  writeFileSync(join(dir, 'page.html'), html);
  return pythonJson(TABLE, [join(dir, 'page.html')]);
}

test('escapeHtml covers the five special characters', () => {
  assert.equal(escapeHtml(`<a href="x">Tom & 'Jerry'</a>`), '&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;');
  assert.equal(escapeHtml('plain'), 'plain');
});

test('all user text is escaped: nothing injected, and it reads back as written', () => {
  const evil = `<script>alert("x")</script> & 'q'`;
  const r = report([object(`cap<s>ule & co`, [0.9, 0.8, 0.7], null)], { title: evil });
  r.run = { ...r.run, method: '<b>m</b>', config: { path: '</pre><img src=x onerror=alert(1)>' }, extra: { '<k>': '"v"' } };
  r.objects[0]!.examples[0]!.name = '<img src=x>';
  r.objects[0]!.threshold = { value: 0.8, source: '<i>q</i>' };
  const html = renderReportHtml(r);
  assert.ok(!html.includes('<script>') && !html.includes('<img src=x') && !html.includes('<b>m</b>') && !html.includes('<i>q</i>'));
  const back = readBack(html);
  assert.equal(back.title, evil);
  assert.equal(back.h1, evil);
  assert.ok(back.rows.some((row) => row[0] === 'cap<s>ule & co'));
});

test('metrics table: percent per object, mean row, paper column where figures exist, missing levels noted', () => {
  const objs = [object('a', [0.9, 0.8, 0.7], [0.3, 0.95, 0.4, 0.85]), object('b', [0.5, 0.6, 0.61], [0.1, 0.9, 0.2, 0.75])];
  const paper = { source: 'Paper X', rows: { mean: { 'image.aupr': 0.881, 'pixel.auroc': 0.931 }, b: { 'image.aupr': 0.5 } } };
  const back = readBack(renderReportHtml(report(objs, { paper })));
  assert.deepEqual(back.rows[0], ['object', 'Image level (classification)', 'Pixel level (segmentation)']);
  assert.deepEqual(back.rows[1], ['AU-PR', 'paper', 'AU-ROC', 'max-F1', 'AU-PR', 'AU-ROC', 'paper', 'max-F1', 'AUPRO']);
  assert.deepEqual(back.rows[2], ['a', '90.0', '', '80.0', '70.0', '30.0', '95.0', '', '40.0', '85.0']);
  assert.deepEqual(back.rows[3], ['b', '50.0', '50.0', '60.0', '61.0', '10.0', '90.0', '', '20.0', '75.0']);
  // Means: (0.9+0.5)/2 = 70.0, (0.8+0.6)/2 = 70.0, (0.7+0.61)/2 = 65.5, 20.0, 92.5, 30.0, 80.0.
  assert.deepEqual(back.rows[4], ['mean', '70.0', '88.1', '70.0', '65.5', '20.0', '92.5', '93.1', '30.0', '80.0']);

  // One object without masks: the pixel columns go, and the page says so.
  const html = renderReportHtml(report([object('a', [0.9, 0.8, 0.7], [0.3, 0.95, 0.4, 0.85]), object('b', [0.5, 0.6, 0.6], null)], { digits: 2 }));
  const partial = readBack(html);
  assert.deepEqual(partial.rows[1], ['AU-PR', 'AU-ROC', 'max-F1']);
  assert.deepEqual(partial.rows[2], ['a', '90.00', '80.00', '70.00']);
  assert.match(html, /Not shown, as some objects lack them: pixel AU-PR, pixel AU-ROC, pixel max-F1, pixel AUPRO/);
});

test('the page holds the charts, the threshold, and the examples as inline PNGs', () => {
  const html = renderReportHtml(report([object('a', [0.9, 0.8, 0.7], [0.3, 0.95, 0.4, 0.85])]));
  assert.equal((html.match(/<svg [^>]*class="chart roc"/g) ?? []).length, 1);
  assert.equal((html.match(/<svg [^>]*class="chart pr"/g) ?? []).length, 1);
  assert.equal((html.match(/<svg [^>]*class="chart histogram"/g) ?? []).length, 1);
  assert.equal((html.match(/<svg [^>]*class="colorbar"/g) ?? []).length, 1);
  // 2 overlays + 1 mask, each the PNG's bytes in base64.
  const uris = html.match(/src="data:image\/png;base64,([A-Za-z0-9+/=]+)"/g) ?? [];
  assert.equal(uris.length, 3);
  assert.ok(html.includes(Buffer.from(png).toString('base64')));
  // Threshold 0.8: good/1 (0.9) is a false alarm, bad/0 (0.5) a miss; 1 of 2 normal flagged, 1 of 2 anomalous missed.
  assert.match(html, /Threshold: <b>0\.8<\/b>/);
  assert.match(html, /1 of 2 normal images flagged, 1 of 2 anomalous images missed/);
  assert.match(html, /false alarm/);
  assert.match(html, /missed/);
  // Nothing that would need the network.
  assert.ok(!/(src|href)="(https?:)?\/\//.test(html));
  assert.ok(!/<link|<script|@import|url\(/.test(html));
});

test('bad reports are refused with the problem named', () => {
  const ok = (): Report => report([object('a', [0.9, 0.8, 0.7], null)]);
  const cases: [string, (r: Report) => void, RegExp][] = [
    ['percent instead of fraction', (r) => (r.objects[0]!.image.aupr = 88.2), /aupr = 88.2; metrics are fractions/],
    ['duplicate object', (r) => r.objects.push(object('a', [0.5, 0.5, 0.5], null)), /object a appears twice/],
    ['object called mean', (r) => (r.objects[0]!.name = 'mean'), /may not be called "mean"/],
    ['no objects', (r) => (r.objects = []), /no objects/],
    ['non-PNG overlay', (r) => (r.objects[0]!.examples[0]!.overlayPng = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])), /not PNG bytes/],
    ['NaN score', (r) => (r.objects[0]!.scores[0]!.score = NaN), /score NaN/],
    ['paper in percent', (r) => (r.paper = { source: 's', rows: { mean: { 'image.aupr': 88.2 } } }), /divide percentages by 100/],
    ['unknown paper metric', (r) => (r.paper = { source: 's', rows: { mean: { 'image.f1': 0.5 } as never } }), /unknown metric image\.f1/],
    ['bad colour range', (r) => (r.objects[0]!.heatmapScale = { vmin: 1, vmax: 1, colormap: 'turbo' }), /vmin < vmax/],
  ];
  for (const [what, spoil, message] of cases) {
    const r = ok();
    spoil(r);
    assert.throws(() => renderReportHtml(r), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && message.test(e.message), what);
  }
});

test('writeReport writes DIR/index.html whole, replaces an earlier report, refuses a folder with other files', async () => {
  const root = tempDir();
  const dir = join(root, 'nested', 'report');
  const path = await writeReport(dir, report([object('a', [0.9, 0.8, 0.7], null)], { title: 'first' }));
  assert.equal(path, join(dir, 'index.html'));
  assert.deepEqual(readdirSync(dir), ['index.html']);
  assert.match(readFileSync(path, 'utf8'), /<title>first<\/title>/);
  await writeReport(dir, report([object('a', [0.9, 0.8, 0.7], null)], { title: 'second' }));
  assert.match(readFileSync(path, 'utf8'), /<title>second<\/title>/);
  // No temporary folders left beside it.
  assert.deepEqual(readdirSync(join(root, 'nested')), ['report']);

  const busy = join(root, 'busy');
  mkdirSync(busy);
  writeFileSync(join(busy, 'thesis.tex'), 'precious');
  await assert.rejects(writeReport(busy, report([object('a', [0.9, 0.8, 0.7], null)])), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /thesis\.tex/.test(e.message));
  assert.equal(readFileSync(join(busy, 'thesis.tex'), 'utf8'), 'precious');
  writeFileSync(join(root, 'file'), 'x');
  await assert.rejects(writeReport(join(root, 'file'), report([object('a', [0.9, 0.8, 0.7], null)])), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT') && /is a file/.test(e.message));
  // A bad report writes nothing.
  await assert.rejects(writeReport(join(root, 'never'), report([])));
  assert.ok(!existsSync(join(root, 'never')));
});

test('selectExamples: highest-scoring normals, lowest-scoring anomalies, ties by name', () => {
  const images = [
    { name: 'n3', label: 0 as const, score: 0.3 },
    { name: 'n9b', label: 0 as const, score: 0.9 },
    { name: 'n9a', label: 0 as const, score: 0.9 },
    { name: 'n1', label: 0 as const, score: 0.1 },
    { name: 'a2', label: 1 as const, score: 2 },
    { name: 'a05', label: 1 as const, score: 0.5 },
    { name: 'a7', label: 1 as const, score: 0.7 },
  ];
  const picked = selectExamples(images, 2);
  assert.deepEqual(picked.normals.map((i) => i.name), ['n9a', 'n9b']);
  assert.deepEqual(picked.anomalies.map((i) => i.name), ['a05', 'a7']);
  assert.deepEqual(selectExamples(images, 10).anomalies.map((i) => i.name), ['a05', 'a7', 'a2']);
  assert.throws(() => selectExamples(images, -1), (e) => isSpotdiffError(e, 'ERR_BAD_INPUT'));
});
