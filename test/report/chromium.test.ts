import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { writeReport } from '../../src/report/html.js';
import { tableColumns } from '../../src/report/metrics-table.js';
import { fixtureReport, FIXTURE_TITLE } from './fixture.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Opens a written report in Debian's headless Chromium (setup.mjs --test installs it) and checks
 * what a reader would see: the table's numbers, charts with a real size, every image decoded,
 * nothing fetched from anywhere. The screenshot (SPOTDIFF_REPORT_SCREENSHOT, default
 * /tmp/spotdiff-report.png) is for a person to look at.
 */

const CHROMIUM = process.env.SPOTDIFF_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOT = process.env.SPOTDIFF_REPORT_SCREENSHOT ?? '/tmp/spotdiff-report.png';

interface Seen {
  title: string;
  headers: string[];
  rows: { name: string; cells: string[] }[];
  charts: { cls: string; width: number; height: number; polylines: number; bars: number }[];
  images: { complete: boolean; naturalWidth: number; width: number; alt: string }[];
  h2: string[];
  configText: string;
}

test('the report renders in headless Chromium: table, charts, images, offline', { timeout: 60_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run node scripts/setup.mjs --test (installs Debian's chromium)`);
  const report = await fixtureReport();
  const dir = tempDir();
  const page = await writeReport(join(dir, 'report'), report);
  const profile = join(dir, 'profile');
  mkdirSync(profile);

  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  try {
    const tab = await context.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    tab.on('request', (r) => requests.push(r.url()));
    tab.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.goto(pathToFileURL(page).href, { waitUntil: 'load' });

    const seen = await tab.evaluate(`(() => {
      const text = (e) => (e.textContent || '').trim();
      const table = document.querySelector('table.metrics');
      return {
        title: document.title,
        headers: [...table.querySelectorAll('thead th')].map(text),
        rows: [...table.querySelectorAll('tbody tr')].map((tr) => ({ name: text(tr.querySelector('th')), cells: [...tr.querySelectorAll('td')].map(text) })),
        charts: [...document.querySelectorAll('svg.chart')].map((s) => {
          const r = s.getBoundingClientRect();
          return { cls: s.getAttribute('class'), width: r.width, height: r.height, polylines: s.querySelectorAll('polyline').length, bars: s.querySelectorAll('rect.bar').length };
        }),
        images: [...document.images].map((i) => ({ complete: i.complete, naturalWidth: i.naturalWidth, width: i.getBoundingClientRect().width, alt: i.alt })),
        h2: [...document.querySelectorAll('h2')].map(text),
        configText: text(document.querySelector('pre.config')),
      };
    })()`) as Seen;

    // Escaped text shows as written.
    assert.equal(seen.title, FIXTURE_TITLE);
    assert.match(seen.configText, /"note": "<\/pre><b>not bold<\/b>"/);
    assert.deepEqual(seen.h2, ['Metrics', 'tealight', 'pills']);

    // The table: one row per object and the mean, each number the metric in percent to 1 decimal.
    const { shown } = tableColumns(report);
    assert.deepEqual(shown, ['image.aupr', 'image.auroc', 'image.maxF1', 'pixel.aupr', 'pixel.auroc', 'pixel.maxF1', 'pixel.aupro']);
    assert.deepEqual(seen.rows.map((r) => r.name), ['tealight', 'pills', 'mean']);
    const value = (o: number, key: string): number => {
      const [level, metric] = key.split('.') as ['image' | 'pixel', string];
      const m = (level === 'image' ? report.objects[o]!.image : report.objects[o]!.pixel!) as unknown as Record<string, number>;
      return m[metric] as number;
    };
    // Paper figures were given for image AU-PR/AU-ROC and pixel AU-PR/AU-ROC: a paper column after each.
    const paperAfter = new Set(['image.aupr', 'image.auroc', 'pixel.aupr', 'pixel.auroc']);
    const paper = report.paper!.rows.mean!;
    for (const [ri, row] of seen.rows.entries()) {
      const expected: string[] = [];
      for (const key of shown) {
        const v = ri < 2 ? value(ri, key) : (value(0, key) + value(1, key)) / 2;
        expected.push((v * 100).toFixed(1));
        if (paperAfter.has(key)) {
          const p = paper[key as keyof typeof paper];
          expected.push(ri === 2 && p !== undefined ? (p * 100).toFixed(1) : '');
        }
      }
      assert.deepEqual(row.cells, expected, `row ${row.name}`);
    }
    assert.deepEqual(seen.headers.slice(0, 3), ['object', 'Image level (classification)', 'Pixel level (segmentation)']);
    assert.deepEqual(seen.headers.slice(3), ['AU-PR', 'paper', 'AU-ROC', 'paper', 'max-F1', 'AU-PR', 'paper', 'AU-ROC', 'paper', 'max-F1', 'AUPRO']);

    // Three charts per object, each laid out with a real size and holding its marks.
    assert.equal(seen.charts.length, 6);
    for (const c of seen.charts) assert.ok(c.width > 100 && c.height > 100, `${c.cls}: ${c.width}×${c.height}`);
    assert.deepEqual(seen.charts.map((c) => c.cls), ['chart roc', 'chart pr', 'chart histogram', 'chart roc', 'chart pr', 'chart histogram']);
    for (const c of seen.charts.filter((c) => c.cls !== 'chart histogram')) assert.equal(c.polylines, 2); // image and pixel
    for (const c of seen.charts.filter((c) => c.cls === 'chart histogram')) assert.ok(c.bars > 3);

    // Every image decoded: 6 overlays per object and a predicted mask beside each anomalous one.
    assert.equal(seen.images.length, 2 * (6 + 3));
    for (const im of seen.images) assert.ok(im.complete && im.naturalWidth > 0 && im.width > 20, `${im.alt}: ${JSON.stringify(im)}`);

    // Offline: the page asked for nothing but itself and its data: URIs.
    assert.deepEqual(requests.filter((u) => !u.startsWith('file://') && !u.startsWith('data:')), []);
    assert.deepEqual(errors, []);

    await tab.screenshot({ path: SCREENSHOT, fullPage: true });
  } finally {
    await context.close();
  }
});
