import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { cliMain, runCli, runProcess, type CliResult } from '../../cli/run-cli.js';
import { tempDir } from '../../helpers/tmp.js';
import { assertClose, makeFixture, type OnnxFixture } from './fixtures.js';
import { onnxInput, openOnnxScorer } from '../../../src/export/onnx/index.js';

const dir = tempDir('spotdiff-onnx-cli-');
let fx: OnnxFixture;

before(async () => {
  fx = await makeFixture(dir, ['patchcore']);
});

interface Predicted {
  threshold: number;
  pixelThreshold: number;
  images: { image: string; score: number; anomalous: boolean; overlay: string; mask: string }[];
}

/** Runs the CLI with a hook that reports, at exit, whether libtorch was ever mapped into the process. */
function runCliWatchingLibs(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  const hook = join(dir, 'maps-hook.mjs');
  writeFileSync(hook, `import { readFileSync } from 'node:fs';\nprocess.on('exit', () => process.stderr.write('\\nLIBTORCH ' + /libtorch/.test(readFileSync('/proc/self/maps', 'utf8')) + '\\nORT_DISABLE_TELEMETRY ' + process.env.ORT_DISABLE_TELEMETRY + '\\n'));\n`);
  return runProcess(process.execPath, ['--import', hook, cliMain, ...args], env);
}

test('spotdiff export writes the .onnx once, refuses to overwrite it, and replaces it with --force', async () => {
  const out = join(dir, 'refuse.onnx');
  writeFileSync(out, 'the user\'s file');
  const refused = await runCli(['export', '--model', fx.models.patchcore!, '--out', out]);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /refuse\.onnx already exists; give --force to replace it/);
  assert.equal(readFileSync(out, 'utf8'), 'the user\'s file');
  const forced = await runCli(['export', '--model', fx.models.patchcore!, '--out', out, '--force', '--json']);
  assert.equal(forced.code, 0, forced.stderr);
  const info = JSON.parse(forced.stdout) as { method: string; opset: number; input: { height: number } };
  assert.deepEqual([info.method, info.opset, info.input.height], ['patchcore', 17, 64]);
  assert.notEqual(readFileSync(out, 'utf8'), 'the user\'s file');
});

test('predict --engine onnx gives predict\'s scores, verdicts and masks, and never loads libtorch', async () => {
  const onnx = join(fx.models.patchcore!, 'model.onnx');
  const ex = await runCli(['export', '--model', fx.models.patchcore!, '--out', onnx]);
  assert.equal(ex.code, 0, ex.stderr);
  const viaTorch = await runCli(['predict', '--model', fx.models.patchcore!, ...fx.images, '--out', join(dir, 'torch'), '--json']);
  assert.equal(viaTorch.code, 0, viaTorch.stderr);
  const want = JSON.parse(viaTorch.stdout) as Predicted;
  // The file itself, and the model folder that holds it as model.onnx.
  for (const [model, out] of [[onnx, 'onnx-file'], [fx.models.patchcore!, 'onnx-folder']] as const) {
    const r = await runCliWatchingLibs(['predict', '--engine', 'onnx', '--model', model, ...fx.images, '--out', join(dir, out), '--json']);
    assert.equal(r.code, 0, r.stderr);
    if (existsSync('/proc/self/maps')) assert.match(r.stderr, /LIBTORCH false/);
    const got = JSON.parse(r.stdout) as Predicted;
    assert.deepEqual([got.threshold, got.pixelThreshold], [want.threshold, want.pixelThreshold]);
    assertClose(Float32Array.from(got.images.map((i) => i.score)), Float32Array.from(want.images.map((i) => i.score)), 'predict scores');
    assert.deepEqual(got.images.map((i) => [i.image, i.anomalous]), want.images.map((i) => [i.image, i.anomalous]));
    got.images.forEach((g, i) => assert.deepEqual(readFileSync(g.mask), readFileSync(want.images[i]!.mask), `mask of ${g.image}`));
  }
  // The library call a server makes: encoded bytes in, the same score as predict's.
  const scorer = await openOnnxScorer(onnx);
  try {
    const bytes = readFileSync(fx.images[0]!);
    const s = await scorer.score(await onnxInput(bytes, scorer.imageSize), 1);
    assertClose(s.imageScores, Float32Array.of(want.images[0]!.score), 'onnxInput + score');
  } finally {
    await scorer.close();
  }
  const noFile = await runCli(['predict', '--engine', 'onnx', '--model', fx.data, fx.images[0]!, '--out', join(dir, 'x')]);
  assert.equal(noFile.code, 1);
  assert.match(noFile.stderr, /holds no model\.onnx; write one with spotdiff export/);
  const badFlag = await runCli(['predict', '--engine', 'onnx', '--device', 'cpu', '--model', onnx, fx.images[0]!, '--out', join(dir, 'x')]);
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /--device and --tile are for --engine libtorch/);
});

test('the ONNX engine keeps ONNX Runtime\'s telemetry off: no device id or event store under the home folder', async (t) => {
  const onnx = join(dir, 'telemetry.onnx');
  assert.equal((await runCli(['export', '--model', fx.models.patchcore!, '--out', onnx])).code, 0);
  const env = (home: string): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, '.cache') };
    delete e['ORT_DISABLE_TELEMETRY'];
    return e;
  };
  const store = (home: string): string => join(home, '.cache', 'Microsoft');
  // Control: onnxruntime-node on its own writes its store (else this build has no telemetry to keep off).
  const bare = join(dir, 'home-bare');
  const code = `require('onnxruntime-node').InferenceSession.create(require('fs').readFileSync(${JSON.stringify(onnx)})).then((s) => s.release())`;
  await new Promise<void>((resolve, reject) => spawn(process.execPath, ['-e', code], { env: env(bare), stdio: 'ignore' }).on('close', () => resolve()).on('error', reject));
  // Whether it does depends on the build and the machine: the store check below is then the
  // strong one; the switch itself (set before the library loads) is checked either way.
  t.diagnostic(`bare onnxruntime-node wrote its store: ${existsSync(store(bare))}`);
  const home = join(dir, 'home-spotdiff');
  const r = await runCliWatchingLibs(['predict', '--engine', 'onnx', '--model', onnx, fx.images[0]!, '--out', join(dir, 'telemetry-out'), '--json'], env(home));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /ORT_DISABLE_TELEMETRY 1\n/, 'the ONNX engine sets the switch when the user did not');
  assert.ok(!existsSync(store(home)), `spotdiff's ONNX engine let ONNX Runtime write ${store(home)}`);
});
