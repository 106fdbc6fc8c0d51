import '../helpers/one-thread.js';
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { runCli } from './run-cli.js';
import { readTwoClassCheckpointMeta, TWOCLASS_CHECKPOINT_FILE } from '../../src/detect/twoclass/index.js';

// Synthetic pills at 64 px split by the paper's 2cls_highshot rule (12 + 12 train, 8 + 8 test),
// resnet18 from seeded random weights. The child processes inherit one thread (helpers/one-thread.ts).
const dir = tempDir('spotdiff-fit-twoclass-');
/** Segmenter epochs for the comparison with PatchCore. */
const EPOCHS = '20';
let data = '';
const fit = (method: string, out: string, ...extra: string[]): string[] => ['fit', '--method', method, '--data', data, '--backbone', 'resnet18', '--size', '64', '--quiet', '--out', out, ...extra];

before(async () => {
  assert.equal((await runCli(['synth', '--out', join(dir, 'raw'), '--objects', 'pills', '--normal', '20', '--anomalous', '20', '--size', '64', '--quiet'])).code, 0);
  const p = await runCli(['prepare', '--split-type', '2cls_highshot', '--data-folder', join(dir, 'raw'), '--save-folder', join(dir, 'prep')]);
  assert.equal(p.code, 0, p.stderr);
  data = join(dir, 'prep', '2cls_highshot');
});

test('classifier: fit → eval gives image metrics and no pixel metrics; predict scores and writes no heatmaps; the default work folder is gone after the save', async () => {
  const model = join(dir, 'cls');
  const f = await runCli(fit('classifier', model, '--epochs', '2', '--lr', '0.01'));
  assert.equal(f.code, 0, f.stderr);
  assert.deepEqual(readdirSync(model).sort(), ['model.json', 'weights.safetensors']);
  assert.equal(existsSync(`${model}.work`), false, 'the default work folder is removed once the model is saved');
  const manifest = JSON.parse(readFileSync(join(model, 'model.json'), 'utf8'));
  assert.equal(manifest.method, 'classifier');
  assert.deepEqual([manifest.detector.train.protocol, manifest.detector.train.length, manifest.detector.summary.steps], ['high-shot', { unit: 'epochs', epochs: 2 }, 4]);
  const e = await runCli(['eval', '--model', model, '--data', data, '--json']);
  assert.equal(e.code, 0, e.stderr);
  const metrics = JSON.parse(e.stdout).metrics as Record<string, number | null | undefined>;
  for (const k of ['image.aupr', 'image.auroc']) assert.ok(typeof metrics[k] === 'number' && (metrics[k] as number) >= 0 && (metrics[k] as number) <= 1, `${k} = ${metrics[k]}`);
  assert.deepEqual(Object.keys(metrics), ['image.aupr', 'image.auroc', 'image.maxF1'], 'a classifier has no pixel metrics');
  const images = readdirSync(join(data, 'pills', 'test', 'bad')).slice(0, 2).map((n) => join(data, 'pills', 'test', 'bad', n));
  const out = join(dir, 'predicted');
  const p = await runCli(['predict', '--model', model, ...images, '--out', out, '--json']);
  assert.equal(p.code, 0, p.stderr);
  const results = JSON.parse(p.stdout).images as { score: number; overlay: string | null; mask: string | null }[];
  assert.equal(results.length, 2);
  assert.ok(results.every((r) => r.score >= 0 && r.score <= 1 && r.overlay === null && r.mask === null));
  assert.ok(!existsSync(out) || readdirSync(out).length === 0, 'predict wrote files for a classifier');
  // A model.json whose detector config was edited is refused on load.
  const tampered = join(dir, 'cls-tampered');
  cpSync(model, tampered, { recursive: true });
  writeFileSync(join(tampered, 'model.json'), JSON.stringify({ ...manifest, detector: { ...manifest.detector, network: 'unet' } }));
  const t = await runCli(['eval', '--model', tampered, '--data', data]);
  assert.equal(t.code, 1);
  assert.match(t.stderr, /the classifier model config names network "unet"/);
});

test('segmenter vs PatchCore from the same random-init resnet18 (--seed 0): the segmenter localises better (pixel AU-PR), as the paper reports', async () => {
  // A short run: a high learning rate and α 0.75 (weighing the few defect pixels up) let a
  // U-Net from random weights learn the defects in a few epochs; PatchCore's features stay random.
  const seg = join(dir, 'seg');
  const pc = join(dir, 'pc');
  const fs = await runCli(fit('segmenter', seg, '--epochs', EPOCHS, '--lr', '0.1', '--alpha', '0.75', '--seed', '0'));
  assert.equal(fs.code, 0, fs.stderr);
  const fp = await runCli(fit('patchcore', pc, '--seed', '0'));
  assert.equal(fp.code, 0, fp.stderr);
  const aupr = async (model: string): Promise<number> => {
    const e = await runCli(['eval', '--model', model, '--data', data, '--json']);
    assert.equal(e.code, 0, e.stderr);
    return JSON.parse(e.stdout).metrics['pixel.aupr'] as number;
  };
  const [s, p] = [await aupr(seg), await aupr(pc)];
  assert.ok(s > p, `segmenter pixel AU-PR ${s} does not beat PatchCore's ${p}`);
});

test('fit flags: a flag the method does not take and --work/--resume on a one-class method are usage errors; shots beyond a class are a clear error', async () => {
  const usage = [
    [fit('classifier', join(dir, 'x'), '--top-k', '5'), /--top-k is not an option of classifier/],
    [fit('padim', join(dir, 'x'), '--epochs', '2'), /--epochs is not an option of padim/],
    [fit('padim', join(dir, 'x'), '--resume'), /--work and --resume are for the two-class methods/],
    [fit('segmenter', join(dir, 'x'), '--loss', 'mse'), /--loss must be cross-entropy or focal/],
    [fit('padim', join(dir, 'x'), '--sync-bn', 'on'), /--sync-bn is not an option of padim/],
    [fit('classifier', join(dir, 'x'), '--sync-bn', 'yes'), /--sync-bn must be on or off, got "yes"/],
  ] as const;
  for (const [args, pattern] of usage) {
    const r = await runCli([...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, pattern);
  }
  const r = await runCli(fit('segmenter', join(dir, 'x'), '--protocol', 'few-shot', '--shots', '12'));
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /segmenter: cannot draw 12 shots per class from the train images left after the validation hold-out: .*object pills has only 1[01] normal train image/);
  assert.equal(existsSync(join(dir, 'x')), false);
});

test('an interrupted fit (killed after a checkpoint) continued with --resume saves the uninterrupted model, weights bit for bit', async () => {
  const args = (out: string, work: string): string[] => fit('classifier', out, '--epochs', '4', '--lr', '0.01', '--work', work);
  const whole = await runCli(args(join(dir, 'whole'), join(dir, 'whole.w')));
  assert.equal(whole.code, 0, whole.stderr);
  assert.ok(existsSync(join(dir, 'whole.w', 'log.jsonl')), 'a --work folder that was named is kept');
  const work = join(dir, 'cut.w');
  const checkpoint = join(work, TWOCLASS_CHECKPOINT_FILE);
  const cut = await runCli(args(join(dir, 'cut'), work), (child) => {
    const poll = setInterval(() => {
      if (!existsSync(checkpoint)) return;
      clearInterval(poll);
      child.kill('SIGKILL');
    }, 2);
    child.on('exit', () => clearInterval(poll));
  });
  assert.equal(cut.signal, 'SIGKILL', `the fit was not interrupted: ${cut.stderr}`);
  const meta = await readTwoClassCheckpointMeta(checkpoint);
  assert.ok(meta !== null && meta.step >= 2 && meta.step < 8, `checkpoint at step ${meta?.step} of 8`);
  assert.equal(existsSync(join(dir, 'cut')), false);
  const again = await runCli(args(join(dir, 'cut'), work));
  assert.equal(again.code, 2, 'a work folder holding a run is not overwritten without --resume');
  assert.match(again.stderr, /already holds a 2-class training run/);
  const resumed = await runCli([...args(join(dir, 'cut'), work), '--resume']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.ok(readFileSync(join(dir, 'cut', 'weights.safetensors')).equals(readFileSync(join(dir, 'whole', 'weights.safetensors'))), 'the resumed model differs from the uninterrupted one');
  const [a, b] = ['whole', 'cut'].map((m) => JSON.parse(readFileSync(join(dir, m, 'model.json'), 'utf8')));
  assert.deepEqual(b.detector, a.detector);
  assert.deepEqual(b.threshold, a.threshold);
});
