import type { Command } from './command.js';
import { intFlag, listFlag, MAX_IMAGE_SIDE, numberFlag, parseFlags, requireFlag } from './args.js';
import { SpotdiffError } from '../util/errors.js';
import { precisionFlag } from './precision-flag.js';

const usage = `usage: spotdiff finetune-fewshot --data DIR [--object NAME]
                    --backbone resnet18|resnet50|wide_resnet50_2 [--weights FILE]
                    [--k 1,2,4,5,8,10] [--runs R] [--seed S] [--size N]
                    [--steps N] [--batch B] [--views auto|weak|strong]
                    [--negatives none|cutpaste|smoothblend] [--optimizer adam|sgd] [--lr LR]
                    [--cross-weight W] [--negative-weight W] [--temperature T]
                    [--score gaussian|knn|padim|patchcore] [--support-views V]
                    [--neighbours K] [--coreset-ratio R] [--precision fp32|bf16] [--channels-last]
                    --out RESULTS.json [--save-backbone DIR] [--json] [--quiet]

Few-shot contrastive fine-tuning: for each k and each of R seeded runs, k normal train images
are drawn, the backbone is fine-tuned on them alone, and the test split is scored; image
AU-PR and AU-ROC (and pixel AU-PR, AU-ROC, AUPRO with padim/patchcore) are averaged over the
runs and printed as mean ± std. RESULTS.json holds every run and the summary.

Fine-tuning (src/finetune/README.md): two augmented views of each batch image through the
backbone and a projection head; loss = NT-Xent between the views
  + cross-weight × (1 − cos) between two different normal images
  + negative-weight × InfoNCE with synthesized anomalies (--negatives) as the negatives.
BatchNorm statistics stay frozen; the head learns at 10 × --lr.

  --weights FILE      torchvision .pth or safetensors. Without it the backbone is randomly
                      initialised (seeded): results need pretrained weights.
  --k LIST            shots per run (default the paper's 1,2,4,5,8,10)
  --runs R            seeded runs per k (default 5)
  --steps N           fine-tuning steps per run (default 200; 0 = no fine-tuning, a baseline)
  --batch B           view pairs per step (default 8)
  --views             augmentation of the views: weak (SPD's), strong (SimCLR's), or auto
                      (weak for k <= 2, strong above; default)
  --negatives         synthesized anomalies for the negative term (default none)
  --lr LR             backbone learning rate (default 1e-4)
  --score             gaussian: Mahalanobis distance to a Gaussian (Ledoit-Wolf shrunk
                      covariance) of the normal pooled embeddings (default);
                      knn: mean distance to the K nearest normal embeddings;
                      padim / patchcore: the detectors on the fine-tuned backbone (pixel maps)
  --support-views V   augmented copies of each shot added to the scorer's normal set (default 8)
  --neighbours K      knn: neighbours averaged (default 5)
  --save-backbone DIR each fine-tuned backbone as DIR/<arch>-<object>-k<k>-run<r>.safetensors
                      (torchvision names: spotdiff fit --weights takes it)
  --precision P       fp32 (default) or bf16 (fine-tuning's forward and loss under libtorch
                      autocast in bfloat16); fp16 needs a CUDA device, which this command
                      does not use
  --channels-last     weights and views in channels_last memory format (same values)`;

function oneOf<T extends string>(value: string | undefined, name: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new SpotdiffError('ERR_USAGE', `--${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

export const command: Command = {
  summary: 'few-shot contrastive fine-tuning on k normal images, then scoring (mean ± std over runs)',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, {
      data: { type: 'string' },
      object: { type: 'string' },
      backbone: { type: 'string' },
      weights: { type: 'string' },
      k: { type: 'string' },
      runs: { type: 'string' },
      seed: { type: 'string' },
      size: { type: 'string' },
      steps: { type: 'string' },
      batch: { type: 'string' },
      views: { type: 'string' },
      negatives: { type: 'string' },
      optimizer: { type: 'string' },
      lr: { type: 'string' },
      'cross-weight': { type: 'string' },
      'negative-weight': { type: 'string' },
      temperature: { type: 'string' },
      score: { type: 'string' },
      'support-views': { type: 'string' },
      neighbours: { type: 'string' },
      'coreset-ratio': { type: 'string' },
      out: { type: 'string' },
      'save-backbone': { type: 'string' },
      precision: { type: 'string' },
      'channels-last': { type: 'boolean' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean' },
    });
    const data = requireFlag(values.data, 'data');
    const backbone = requireFlag(values.backbone, 'backbone');
    const out = requireFlag(values.out, 'out');
    const { checkArch } = await import('../models/backbone.js');
    checkArch(backbone);
    const shots = (listFlag(values.k) ?? ['1', '2', '4', '5', '8', '10']).map((v) => intFlag(v, 'k', 0, 1, 10_000));
    if (shots.length === 0) throw new SpotdiffError('ERR_USAGE', '--k needs at least one value');
    const seed = intFlag(values.seed, 'seed', 0, 0);
    const positive = (v: number, name: string): number => {
      if (!(v > 0)) throw new SpotdiffError('ERR_USAGE', `--${name} must be > 0, got ${v}`);
      return v;
    };
    const nonNegative = (v: number, name: string): number => {
      if (!(v >= 0)) throw new SpotdiffError('ERR_USAGE', `--${name} must be >= 0, got ${v}`);
      return v;
    };
    const request = {
      data,
      object: values.object,
      backbone,
      weights: values.weights,
      shots,
      runs: intFlag(values.runs, 'runs', 5, 1, 1000),
      seed,
      size: intFlag(values.size, 'size', 224, 32, MAX_IMAGE_SIDE),
      steps: intFlag(values.steps, 'steps', 200, 0, 1_000_000),
      batch: intFlag(values.batch, 'batch', 8, 2, 4096),
      views: oneOf(values.views, 'views', ['auto', 'weak', 'strong'] as const, 'auto'),
      negatives: oneOf(values.negatives, 'negatives', ['none', 'cutpaste', 'smoothblend'] as const, 'none'),
      optimizer: oneOf(values.optimizer, 'optimizer', ['adam', 'sgd'] as const, 'adam'),
      lr: positive(numberFlag(values.lr, 'lr', 1e-4), 'lr'),
      loss: {
        crossInstance: nonNegative(numberFlag(values['cross-weight'], 'cross-weight', 1), 'cross-weight'),
        negative: nonNegative(numberFlag(values['negative-weight'], 'negative-weight', 1), 'negative-weight'),
        temperature: positive(numberFlag(values.temperature, 'temperature', 0.2), 'temperature'),
      },
      score: oneOf(values.score, 'score', ['gaussian', 'knn', 'padim', 'patchcore'] as const, 'gaussian'),
      supportViews: intFlag(values['support-views'], 'support-views', 8, 0, 1024),
      neighbours: intFlag(values.neighbours, 'neighbours', 5, 1, 1024),
      coresetRatio: numberFlag(values['coreset-ratio'], 'coreset-ratio', 0.1, { above: 0, max: 1 }),
      saveBackbone: values['save-backbone'],
      precision: precisionFlag(values.precision, 'cpu'),
      channelsLast: values['channels-last'] === true,
      quiet: values.quiet === true || values.json === true,
    };
    if (!(request.coresetRatio > 0 && request.coresetRatio <= 1)) throw new SpotdiffError('ERR_USAGE', `--coreset-ratio must be in (0, 1], got ${request.coresetRatio}`);
    if (values.weights === undefined) {
      process.stderr.write(`spotdiff: warning: no --weights given: ${backbone} is randomly initialised (seed ${seed}); results need pretrained weights\n`);
    }
    const { runFewshot } = await import('../finetune/fewshot.js');
    const { writeFileAtomic } = await import('../util/atomic-write.js');
    const result = await runFewshot(request);
    await writeFileAtomic(out, JSON.stringify(result, null, 2) + '\n');
    const collapsed = result.results.filter((r) => r.collapsed);
    if (collapsed.length > 0) {
      process.stderr.write(`spotdiff: warning: the embedding collapsed (contrastive loss at log(2·batch − 1)) in ${collapsed.length} of ${result.results.length} runs (${collapsed.map((r) => `k=${r.k} run ${r.run}`).join(', ')}); lower --lr\n`);
    }
    if (values.json) {
      process.stdout.write(JSON.stringify({ out, object: result.object, summary: result.summary }, null, 2) + '\n');
      return 0;
    }
    const pct = (m: { mean: number; std: number }): string => `${(100 * m.mean).toFixed(1)} ± ${(100 * m.std).toFixed(1)}`;
    const lines = [
      `${result.object}: ${result.settings.score} scoring after ${result.settings.steps} fine-tuning steps (${result.backbone.arch}, ${result.backbone.weights ?? 'RANDOM init'}), ${result.settings.runs} run${result.settings.runs === 1 ? '' : 's'} per k, ${result.testImages.normal} normal / ${result.testImages.anomalous} anomalous test images`,
      `   k  image AU-PR    image AU-ROC${result.summary.some((s) => s.pixel !== null) ? '   pixel AU-PR    pixel AU-ROC   pixel AUPRO' : ''}`,
    ];
    for (const s of result.summary) {
      const cells = [pct(s.image.aupr).padEnd(14), pct(s.image.auroc).padEnd(14)];
      if (s.pixel !== null) cells.push(pct(s.pixel.aupr).padEnd(14), pct(s.pixel.auroc).padEnd(14), s.pixel.aupro === null ? '-' : pct(s.pixel.aupro));
      lines.push(`${String(s.k).padStart(4)}  ${cells.join(' ').trimEnd()}`);
    }
    lines.push(`(percent, mean ± sample std over runs) wrote ${out} in ${result.seconds.toFixed(1)} s`);
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};
