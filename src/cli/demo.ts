import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from './command.js';
import { intFlag, listFlag, MAX_IMAGE_SIDE, parseFlags } from './args.js';
import { SpotdiffError } from '../util/errors.js';
import { methodFlag, methodList } from './method-flag.js';

const usage = `usage: spotdiff demo [--out DIR] [--object NAME] [--normal N] [--anomalous N] [--size N]
                     [--methods patchcore,padim] [--weights FILE] [--seed S] [--json] [--quiet]

The whole pipeline on a generated dataset, in minutes on 2 cores:
  1. spotdiff synth: a synthetic product (default "tealight") with N normal and N anomalous images
  2. spotdiff prepare --split-type 1cls: the prepared train/test layout
  3. spotdiff fit: each of --methods (default PatchCore and PaDiM) on a ResNet-18 (random
     init unless --weights is given)
  4. spotdiff eval --report: image and pixel metrics and an HTML report per method
and prints where the reports are. Everything goes under --out (default ./spotdiff-demo). A rerun replaces an earlier demo's
folder; a non-empty folder that no demo wrote is refused.

  --normal N      normal images (default 100; 90% train, 10% test)
  --anomalous N   anomalous images, all in the test split (default 20)
  --size N        image side in pixels (default 128)
  --methods a,b   detector methods to fit, of:
${methodList('                    ')}`;

export interface DemoResult {
  out: string;
  seconds: number;
  methods: { method: string; model: string; report: string; metrics: Record<string, number>; fitSeconds: number; evalSeconds: number }[];
}

export const command: Command = {
  summary: 'synthetic data -> prepare -> fit PatchCore and PaDiM -> eval -> HTML report',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, {
      out: { type: 'string' },
      object: { type: 'string' },
      normal: { type: 'string' },
      anomalous: { type: 'string' },
      size: { type: 'string' },
      methods: { type: 'string' },
      weights: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean' },
    });
    const out = resolve(values.out ?? 'spotdiff-demo');
    const object = values.object ?? 'tealight';
    const seed = intFlag(values.seed, 'seed', 0, 0);
    const size = intFlag(values.size, 'size', 128, 64, MAX_IMAGE_SIDE);
    const normal = intFlag(values.normal, 'normal', 100, 4, 100_000);
    const anomalous = intFlag(values.anomalous, 'anomalous', 20, 1, 100_000);
    const methods = listFlag(values.methods) ?? ['patchcore', 'padim'];
    for (const m of methods) methodFlag(m, 'methods');
    const quiet = values.quiet === true || values.json === true;
    const say = (line: string): void => {
      if (!quiet) process.stderr.write(`demo: ${line}\n`);
    };
    if (values.weights === undefined) say(`warning: no --weights: ResNet-18 is randomly initialised (seed ${seed}); results need pretrained weights`);

    await claimDemoFolder(out);
    const started = Date.now();
    const { generateSynthDataset } = await import('../data/synth/generate.js');
    const { prepareVisa } = await import('../data/visa/prepare.js');
    const { fitAndEvaluate } = await import('../detect/run/fit-and-evaluate.js');
    const { metricValues } = await import('../detect/run/evaluate.js');
    const { writeEvalReport } = await import('../detect/run/report.js');
    const { buildTable, renderText } = await import('../metrics/index.js');

    say(`1/4 synthetic "${object}": ${normal} normal + ${anomalous} anomalous images at ${size} px`);
    const raw = join(out, 'synth');
    await generateSynthDataset({ out: raw, objects: [object], seed, normal, anomalous, size });
    say('2/4 prepare the 1cls split');
    const prepared = await prepareVisa({ splitType: '1cls', dataFolder: raw, saveFolder: join(out, 'prepared'), progress: false });
    const data = prepared.outputFolder;

    const result: DemoResult = { out, seconds: 0, methods: [] };
    const records = [];
    for (const method of methods) {
      say(`3/4 fit ${method}, 4/4 eval ${method}`);
      const modelDir = join(out, 'models', method);
      const run = await fitAndEvaluate({ method, data, object, backbone: 'resnet18', weights: values.weights, size, seed, out: modelDir, quiet });
      const report = await writeEvalReport(join(out, 'reports', method), run.manifest, [run.result], `synthetic ${object} (1cls)`);
      const metrics = metricValues(run.result);
      records.push({ object: `${object} ${method}`, metrics });
      result.methods.push({ method, model: modelDir, report, metrics, fitSeconds: run.fitSeconds, evalSeconds: run.evalSeconds });
    }
    result.seconds = (Date.now() - started) / 1000;
    if (values.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    else {
      const lines = [
        `spotdiff demo: synthetic "${object}", ResNet-18 ${values.weights === undefined ? '(RANDOM init: numbers need pretrained weights)' : `(${values.weights})`}, ${size} px, ${result.seconds.toFixed(0)} s`,
        renderText(buildTable(records, { meanRow: false })),
        ...result.methods.map((m) => `report (${m.method}): ${m.report}`),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    }
    return 0;
  },
};

const MARKER = 'spotdiff-demo.json';

/**
 * The demo owns its folder: an earlier demo's output is removed first (a smaller rerun would
 * otherwise leave stale images in the prepared split), anything else is refused.
 */
async function claimDemoFolder(out: string): Promise<void> {
  if (existsSync(out)) {
    const entries = await readdir(out);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw new SpotdiffError('ERR_USAGE', `--out ${out} holds files that no spotdiff demo wrote; give an empty or new folder`);
    }
    await rm(out, { recursive: true, force: true });
  }
  await mkdir(out, { recursive: true });
  await writeFile(join(out, MARKER), JSON.stringify({ writtenBy: 'spotdiff demo' }) + '\n');
}
