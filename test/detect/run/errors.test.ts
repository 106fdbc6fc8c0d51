import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { tempDir } from '../../helpers/tmp.js';
import { generateSynthDataset } from '../../../src/data/synth/generate.js';
import { prepareVisa } from '../../../src/data/visa/prepare.js';
import { fitModel } from '../../../src/detect/run/fit.js';
import { loadModelFolder, disposeModel, MODEL_JSON } from '../../../src/detect/run/model-folder.js';
import { evaluateModel } from '../../../src/detect/run/evaluate.js';
import { isSpotdiffError, type ErrorCode } from '../../../src/util/errors.js';

const dir = tempDir();
let data = '';
let modelDir = '';
const fit = (out: string, d = data, extra: { beforeSave?: () => Promise<void>; options?: Record<string, unknown> } = {}) =>
  fitModel({ method: 'padim', data: d, object: 'pills', backbone: 'resnet18', size: 64, seed: 0, out, quiet: true, ...extra });

const rejects = async (p: Promise<unknown>, code: ErrorCode, message: RegExp) =>
  assert.rejects(p, (e: unknown) => isSpotdiffError(e, code) && message.test((e as Error).message));

before(async () => {
  await generateSynthDataset({ out: join(dir, 'raw'), objects: ['pills'], seed: 3, normal: 12, anomalous: 3, size: 64, threads: 2 });
  data = (await prepareVisa({ splitType: '1cls', dataFolder: join(dir, 'raw'), saveFolder: join(dir, 'prep'), progress: false })).outputFolder;
  modelDir = join(dir, 'model');
  await fit(modelDir);
});

test('a model folder from another format version gives ERR_VERSION naming both versions', async () => {
  const other = join(dir, 'model-v99');
  cpSync(modelDir, other, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(other, MODEL_JSON), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(other, MODEL_JSON), JSON.stringify({ ...manifest, formatVersion: 99, spotdiffVersion: '9.0.0' }));
  await rejects(loadModelFolder(other), 'ERR_VERSION', /format version 99 \(written by spotdiff 9\.0\.0\).*reads version 1/);
  writeFileSync(join(other, MODEL_JSON), JSON.stringify({ ...manifest, detector: { ...(manifest['detector'] as object), version: 7 } }));
  await rejects(loadModelFolder(other), 'ERR_VERSION', /PaDiM model version 7/);
  await rejects(loadModelFolder(join(dir, 'prep')), 'ERR_NOT_FOUND', /not a model folder/);
});

test('test images of another size or channel count are refused with the file named', async () => {
  const model = await loadModelFolder(modelDir);
  try {
    for (const [name, make] of [
      ['size', (p: string) => sharp({ create: { width: 80, height: 64, channels: 3, background: '#808080' } }).png().toFile(p)],
      ['grey', (p: string) => sharp(Buffer.alloc(64 * 64, 128), { raw: { width: 64, height: 64, channels: 1 } }).toColourspace('b-w').png().toFile(p)],
    ] as const) {
      const copy = join(dir, `prep-${name}`);
      cpSync(data, copy, { recursive: true });
      const good = join(copy, 'pills', 'test', 'good');
      const victim = join(good, readdirSync(good)[0] as string);
      rmSync(victim);
      await make(victim);
      await rejects(evaluateModel(model, copy, { quiet: true }), 'ERR_SHAPE', name === 'size' ? /80×64, RGB.*64×64, RGB/ : /greyscale.*RGB/);
    }
  } finally {
    disposeModel(model);
  }
});

test('an empty train folder is a clear error', async () => {
  const copy = join(dir, 'prep-empty');
  cpSync(data, copy, { recursive: true });
  const train = join(copy, 'pills', 'train', 'good');
  for (const f of readdirSync(train)) rmSync(join(train, f));
  await assert.rejects(fit(join(dir, 'never'), copy), (e: unknown) => isSpotdiffError(e) && /train|no normal/i.test((e as Error).message));
  assert.equal(existsSync(join(dir, 'never')), false);
});

test('an interrupted fit leaves no half-written model and keeps an older one intact', async () => {
  const out = join(dir, 'interrupted');
  await assert.rejects(fit(out, data, { beforeSave: async () => Promise.reject(new Error('killed')) }), /killed/);
  assert.equal(existsSync(out), false);
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.interrupted')), []);
  const before = readFileSync(join(modelDir, MODEL_JSON), 'utf8');
  await assert.rejects(fit(modelDir, data, { beforeSave: async () => Promise.reject(new Error('killed')) }), /killed/);
  assert.equal(readFileSync(join(modelDir, MODEL_JSON), 'utf8'), before);
  const model = await loadModelFolder(modelDir);
  disposeModel(model);
});

test('fitModel: an unknown method is a usage error naming the registered ones; method options are checked by the method; nothing is written', async () => {
  const out = join(dir, 'never');
  await rejects(fitModel({ method: 'knn', data, object: 'pills', backbone: 'resnet18', size: 64, out, quiet: true }), 'ERR_USAGE', /unknown detector method "knn".*padim.*patchcore/);
  await rejects(fit(out, data, { options: { coresetRatio: 0.2 } }), 'ERR_BAD_INPUT', /padim takes no options; unknown option coresetRatio/);
  const patchcore = (options: Record<string, unknown>) => fitModel({ method: 'patchcore', data, object: 'pills', backbone: 'resnet18', size: 64, seed: 0, out, quiet: true, options });
  await rejects(patchcore({ coresetRatio: 2 }), 'ERR_BAD_INPUT', /patchcore: coresetRatio must be a number in \(0, 1\], got 2/);
  await rejects(patchcore({ coresetRatio: '0.1' }), 'ERR_BAD_INPUT', /coresetRatio must be a number/);
  await rejects(patchcore({ coresetRatio: 0.5, neighbours: 3 }), 'ERR_BAD_INPUT', /patchcore takes coresetRatio; unknown option neighbours/);
  assert.equal(existsSync(out), false);
});
