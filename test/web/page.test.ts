import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { generateSynthDataset } from '../../src/data/synth/generate.js';
import { prepareVisa } from '../../src/data/visa/prepare.js';
import { fitModel } from '../../src/detect/run/fit.js';
import { readRgb, resizeRgb, type RgbImage } from '../../src/data/image.js';
import { resamplePilBilinear } from '../../src/data/pil-resample.js';
import { openOnnxScorer, type OnnxScorer } from '../../src/export/onnx/index.js';
import { overlayRgb } from '../../src/report/overlay.js';
import { PAGE_DIR } from '../../src/serve/page-routes.js';
import { runCli } from '../cli/run-cli.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The inspection page in Debian's headless Chromium, served by `spotdiff serve` and opened from
 * disk: a synthetic image set as the page's input, the score read off the page, compared with
 * `spotdiff predict --json` and with ONNX Runtime in Node on the same pixels.
 *
 * Why two comparisons: the page resizes with Pillow's antialiased bilinear (spotdiff's
 * pil-resample, the torchvision reference); predict shrinks with sharp's 'linear', which
 * approximates it to within a grey level or so. So
 *  - page vs ONNX Runtime in Node on Pillow-resized pixels: the same graph on the same input,
 *    only the runtime builds (WebAssembly vs native kernels, float32 summation order) differ:
 *    within 1e-4 relative;
 *  - page vs predict: that, plus the two resizes' difference, measured here as the Node ONNX
 *    score on sharp-resized minus on Pillow-resized pixels, and reported.
 */

const CHROMIUM = process.env.SPOTDIFF_CHROMIUM ?? '/usr/bin/chromium';
const RUNTIME_TOL = 1e-4;
const SIZE = { image: 96, model: 64 };

interface Fitted {
  model: string;
  images: string[];
}

/** PaDiM on ResNet-18 (random init) at 64 px, fitted on 96 px synthetic pills: the page must shrink. */
async function fitTiny(dir: string): Promise<Fitted> {
  await generateSynthDataset({ out: join(dir, 'raw'), objects: ['pills'], seed: 0, normal: 10, anomalous: 2, size: SIZE.image, threads: 2 });
  const data = (await prepareVisa({ splitType: '1cls', dataFolder: join(dir, 'raw'), saveFolder: join(dir, 'prep'), progress: false })).outputFolder;
  const model = join(dir, 'model');
  await fitModel({ method: 'padim', data, object: 'pills', backbone: 'resnet18', size: SIZE.model, seed: 0, out: model, quiet: true });
  const testDir = join(data, 'pills', 'test');
  const images = readdirSync(testDir).flatMap((label) => readdirSync(join(testDir, label)).sort().map((f) => join(testDir, label, f)));
  return { model, images };
}

async function startServe(model: string): Promise<{ url: string; child: ChildProcess; done: ReturnType<typeof runCli> }> {
  let child!: ChildProcess;
  let address!: Promise<string>;
  const done = runCli(['serve', '--model', model, '--port', '0'], (c) => {
    child = c;
    address = new Promise((resolve, reject) => {
      let out = '';
      let err = '';
      c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      c.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      c.on('close', (code) => reject(new Error(`serve exited (${code}) before listening: ${out}${err}`)));
    });
  });
  return { url: await address, child, done };
}

interface Reference {
  pil: { score: number; map: Float32Array; rgb: RgbImage };
  sharpScore: number;
}

function chw(img: RgbImage): Float32Array {
  const plane = img.width * img.height;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) for (let i = 0; i < plane; i++) out[c * plane + i] = (img.data[i * 3 + c] as number) / 255;
  return out;
}

/** ONNX Runtime in Node on the image resized both ways. */
async function reference(scorer: OnnxScorer, image: string): Promise<Reference> {
  const rgb = await readRgb(image);
  const pil = { width: SIZE.model, height: SIZE.model, data: resamplePilBilinear(rgb.data, rgb.width, rgb.height, 3, SIZE.model, SIZE.model) };
  const sharpRgb = await resizeRgb(rgb, { width: SIZE.model, height: SIZE.model });
  const a = await scorer.score(chw(pil), 1);
  const b = await scorer.score(chw(sharpRgb), 1);
  return { pil: { score: a.imageScores[0]!, map: a.maps, rgb: pil }, sharpScore: b.imageScores[0]! };
}

interface Seen {
  score: number;
  verdict: string;
  overlay: { width: number; height: number; rgba: number[] };
}

async function waitState(tab: Page, states: string[]): Promise<string> {
  await tab.waitForFunction(`${JSON.stringify(states)}.includes(document.getElementById('status').dataset.state)`, undefined, { timeout: 20_000 });
  const state = (await tab.getAttribute('#status', 'data-state'))!;
  assert.notEqual(state, 'error', `the page shows an error: ${await tab.textContent('#status')}`);
  return state;
}

/** Sets the image input, waits for the score, reads what a person sees. */
async function scoreOnPage(tab: Page, image: string): Promise<Seen> {
  await tab.evaluate(`document.getElementById('status').dataset.state = 'test'`);
  await tab.setInputFiles('#image-file', image);
  await waitState(tab, ['scored', 'error']);
  return (await tab.evaluate(`(() => {
    const canvas = document.getElementById('overlay');
    const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    return {
      score: Number(document.getElementById('score').dataset.score),
      verdict: document.getElementById('verdict').textContent,
      overlay: { width: px.width, height: px.height, rgba: Array.from(px.data) },
    };
  })()`)) as Seen;
}

/** Largest per-channel difference between the page's overlay and spotdiff's overlayRgb on the reference map. */
async function overlayDiff(seen: Seen['overlay'], ref: Reference['pil'], pixelThreshold: number): Promise<number> {
  const expected = await overlayRgb(ref.rgb, { width: SIZE.model, height: SIZE.model, data: ref.map }, { range: { vmin: 0, vmax: 2 * pixelThreshold } });
  assert.deepEqual([seen.width, seen.height], [SIZE.model, SIZE.model]);
  let worst = 0;
  for (let i = 0; i < SIZE.model * SIZE.model; i++) {
    for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs((seen.rgba[i * 4 + c] as number) - (expected.data[i * 3 + c] as number)));
  }
  return worst;
}

async function launch(dir: string): Promise<BrowserContext> {
  const profile = join(dir, 'profile');
  mkdirSync(profile);
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1100, height: 900 },
  });
}

function watch(tab: Page): { requests: string[]; errors: string[] } {
  const seen = { requests: [] as string[], errors: [] as string[] };
  tab.on('request', (r) => seen.requests.push(r.url()));
  tab.on('console', (m) => {
    if (m.type() === 'error') seen.errors.push(m.text());
  });
  tab.on('pageerror', (e) => seen.errors.push(e.message));
  return seen;
}

const relDiff = (a: number, b: number): number => Math.abs(a - b) / Math.max(1, Math.abs(b));

test('the inspection page scores in headless Chromium as predict does, served and from disk, offline', { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (node scripts/setup.mjs --test installs Debian's chromium; SPOTDIFF_CHROMIUM names another)`, timeout: 90_000 }, async (t) => {
  assert.ok(existsSync(join(PAGE_DIR, 'index.html')), `${PAGE_DIR} is not built: run node scripts/build-web.mjs`);
  const dir = tempDir();
  const fitted = await fitTiny(dir);
  const images = [fitted.images[0]!, fitted.images[fitted.images.length - 1]!];
  const pr = await runCli(['predict', '--model', fitted.model, ...images, '--out', join(dir, 'pred'), '--json']);
  assert.equal(pr.code, 0, pr.stderr);
  const predicted = JSON.parse(pr.stdout) as { threshold: number; images: { score: number; anomalous: boolean }[] };

  const serve = await startServe(fitted.model);
  const context = await launch(dir);
  let scorer: OnnxScorer | null = null;
  try {
    const onnx = await fetch(`${serve.url}/v1/model.onnx`);
    assert.equal(onnx.status, 200);
    const onnxPath = join(dir, 'model.onnx');
    writeFileSync(onnxPath, new Uint8Array(await onnx.arrayBuffer()));
    scorer = await openOnnxScorer(onnxPath, { threads: 1 });
    assert.equal(scorer.info.threshold.image, predicted.threshold);

    const tab = await context.newPage();
    const watched = watch(tab);
    await tab.goto(`${serve.url}/`);
    assert.equal(new URL(tab.url()).pathname, '/page/index.html');
    await waitState(tab, ['ready', 'error']);
    // spotdiff serve's headers make the page cross-origin isolated, so ONNX Runtime may use threads.
    assert.equal(await tab.evaluate('globalThis.crossOriginIsolated'), true);
    assert.match((await tab.textContent('#model-name'))!, /^\/v1\/model\.onnx: padim on resnet18, object "pills", input 64×64 \(images of 96×96\)/);
    const served: number[] = [];
    for (const [i, image] of images.entries()) {
      const seen = await scoreOnPage(tab, image);
      const ref = await reference(scorer, image);
      const want = predicted.images[i]!;
      const resizeEffect = ref.sharpScore - ref.pil.score;
      t.diagnostic(`${image.split('/').slice(-2).join('/')}: page ${seen.score}, Node ORT same pixels ${ref.pil.score} (Δ ${(seen.score - ref.pil.score).toExponential(2)}), predict ${want.score}; sharp vs Pillow resize moves the score by ${resizeEffect.toExponential(3)} (${(100 * Math.abs(resizeEffect) / Math.abs(want.score)).toFixed(3)} %)`);
      assert.ok(relDiff(seen.score, ref.pil.score) <= RUNTIME_TOL, `page ${seen.score} vs ONNX Runtime in Node ${ref.pil.score} on the same pixels`);
      assert.ok(relDiff(ref.sharpScore, want.score) <= RUNTIME_TOL, `Node ORT on sharp-resized pixels ${ref.sharpScore} vs predict ${want.score}`);
      assert.ok(Math.abs(seen.score - want.score) <= Math.abs(resizeEffect) + 2 * RUNTIME_TOL * Math.max(1, Math.abs(want.score)), `page ${seen.score} vs predict ${want.score}: more than the resize accounts for`);
      assert.equal(seen.verdict, seen.score >= predicted.threshold ? 'anomalous' : 'normal');
      // The heatmap: spotdiff's overlay of the same map; a colour index may flip where a map value sits on a table boundary.
      assert.ok((await overlayDiff(seen.overlay, ref.pil, scorer.info.threshold.pixel)) <= 2, 'overlay differs from overlayRgb');
      served.push(seen.score);
    }
    const origin = new URL(serve.url).origin;
    assert.deepEqual(watched.requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')), [], 'the page fetched from elsewhere');
    assert.deepEqual(watched.errors, []);
    await tab.close();

    await fromDisk(context, onnxPath, images, served);
    await fromDiskWithoutRuntime(context, onnxPath, dir);
  } finally {
    await context.close();
    await scorer?.close();
    serve.child.kill('SIGTERM');
    assert.equal((await serve.done).code, 0);
  }
});

/** Opened from disk: the model picked by hand, ONNX Runtime from ort-wasm-embedded.js; the same scores. */
async function fromDisk(context: BrowserContext, onnxPath: string, images: string[], served: number[]): Promise<void> {
  const tab = await context.newPage();
  const watched = watch(tab);
  await tab.goto(pathToFileURL(join(PAGE_DIR, 'index.html')).href);
  assert.equal(await tab.isVisible('#from-disk'), true);
  await tab.setInputFiles('#model-file', onnxPath);
  await waitState(tab, ['ready', 'error']);
  for (const [i, image] of images.entries()) {
    const seen = await scoreOnPage(tab, image);
    assert.ok(relDiff(seen.score, served[i]!) <= RUNTIME_TOL, `from disk ${seen.score} vs served ${served[i]}`);
  }
  // An image of another size is refused, as predict refuses it, not resized into a score.
  const odd = join(dirname(onnxPath), 'odd.png');
  await sharp({ create: { width: 70, height: 64, channels: 3, background: '#000' } }).png().toFile(odd);
  await tab.setInputFiles('#image-file', odd);
  await tab.waitForFunction(`document.getElementById('status').dataset.state === 'error'`, undefined, { timeout: 20_000 });
  assert.equal(await tab.textContent('#status'), `the image is 70×64; this model takes ${SIZE.image}×${SIZE.image} images, as it was fitted on`);
  assert.deepEqual(watched.requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:') && !u.startsWith('blob:')), []);
  assert.deepEqual(watched.errors, []);
  await tab.close();
}

/** A page copied from disk without ort-wasm-embedded.js says what is wrong and what to do. */
async function fromDiskWithoutRuntime(context: BrowserContext, onnxPath: string, dir: string): Promise<void> {
  const copy = join(dir, 'page-copy');
  mkdirSync(copy);
  for (const f of readdirSync(PAGE_DIR)) if (f.endsWith('.js') && f !== 'ort-wasm-embedded.js' || f === 'index.html') copyFileSync(join(PAGE_DIR, f), join(copy, f));
  const tab = await context.newPage();
  await tab.goto(pathToFileURL(join(copy, 'index.html')).href);
  await tab.setInputFiles('#model-file', onnxPath);
  await tab.waitForFunction(`document.getElementById('status').dataset.state === 'error'`, undefined, { timeout: 20_000 });
  assert.match((await tab.textContent('#status'))!, /Opened from disk, this browser does not let the page load ONNX Runtime's WebAssembly files.*Open the page from spotdiff serve/);
  await tab.close();
}
