import type { Command } from './command.js';
import { intFlag, listFlag, MAX_IMAGE_SIDE, numberFlag, parseFlags, requireFlag } from './args.js';
import { SpotdiffError } from '../util/errors.js';
import { PRETRAIN_METHODS, type PretrainMethodName } from '../pretrain/method.js';
import { planAblation, type AblationOptions } from '../pretrain/ablation-options.js';
import { methodChoices, methodFlag, methodList } from './method-flag.js';

const usage = `usage: spotdiff ablation --method simsiam|moco|simclr|supervised --data DIR [--data DIR2 ...]
                         [--backbone resnet18|resnet50|wide_resnet50_2] --epochs N --batch-size B
                         [--size 224] [--seed S] [--eta 0.1] [--init WEIGHTS]
                         --eval-data PREPARED_ROOT [--objects a,b] [--detector ${methodChoices('one-class')}]
                         --out DIR [--keep-models] [--device cpu|cuda|auto] [--json] [--quiet]

The paper's SPD ablation: pre-trains the backbone twice with the same method, from the same
seed, on the same images (as spotdiff pretrain does): once without SPD (η = 0) and once with
SPD (η = --eta), then fits the detector (PaDiM by default) with each backbone on every object
of --eval-data and prints, per object and as the mean, image and pixel AU-PR and AU-ROC (%)
for "w/o SPD" and "w/ SPD", the gap to w/o SPD in brackets, e.g. 72.4 (+3.1).

  --data DIR          pre-training images: the normal training images of these datasets
  --backbone B        the ResNet pre-trained and used by the detector (default resnet18)
  --size N            pre-training views and the detector's input are N×N (default 224)
  --seed S            seed of both pre-training runs and of the detector's fit (default 0)
  --eta X             SPD's weight in the w/ SPD run (default 0.1, the paper's)
  --init WEIGHTS      both runs start from these weights (default: seeded random init)
  --eval-data DIR     a prepared dataset (spotdiff prepare): train normals fit the detector,
                      the test split is scored
  --objects a,b       evaluate only these objects (default: all of --eval-data)
  --detector D        the 1-class detector fitted on each backbone (default padim), of:
${methodList('                        ', 'one-class')}
  --keep-models       keep each fitted model folder (default: removed once its metrics are saved)

Writes in DIR:
  no-spd/, spd-eta<X>/  the two pre-training runs (as spotdiff pretrain --out), each with
                        eval/<object>.json, the detector's metrics on that backbone
  ablation.json         the table's numbers (fractions) and how they were made
  ablation.md           the table in Markdown

Interrupted (Ctrl-C, a crash)? Run the same command again: finished pre-training runs and
evaluations are reused, an unfinished run resumes from its last epoch's checkpoint.`;

export const command: Command = {
  summary: 'SPD ablation: pre-train without and with SPD, score both backbones with PaDiM; a w/o vs w/ SPD table',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, {
      method: { type: 'string' },
      data: { type: 'string', multiple: true },
      backbone: { type: 'string' },
      epochs: { type: 'string' },
      'batch-size': { type: 'string' },
      size: { type: 'string' },
      seed: { type: 'string' },
      eta: { type: 'string' },
      init: { type: 'string' },
      'eval-data': { type: 'string' },
      objects: { type: 'string' },
      detector: { type: 'string' },
      out: { type: 'string' },
      'keep-models': { type: 'boolean' },
      device: { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean' },
    });
    const method = requireFlag(values.method, 'method');
    if (!(PRETRAIN_METHODS as readonly string[]).includes(method)) throw new SpotdiffError('ERR_USAGE', `--method must be one of ${PRETRAIN_METHODS.join(', ')}, got "${method}"`);
    const detector = values.detector ?? 'padim';
    methodFlag(detector, 'detector', 'one-class');
    const quiet = values.quiet === true || values.json === true;
    const options: AblationOptions = {
      method: method as PretrainMethodName,
      data: requireFlag(values.data, 'data'),
      backbone: values.backbone ?? 'resnet18',
      epochs: intFlag(requireFlag(values.epochs, 'epochs'), 'epochs', 0, 1, 100_000),
      batchSize: intFlag(requireFlag(values['batch-size'], 'batch-size'), 'batch-size', 0, 2, 4096),
      size: intFlag(values.size, 'size', 224, 32, MAX_IMAGE_SIDE),
      seed: intFlag(values.seed, 'seed', 0, 0),
      eta: numberFlag(values.eta, 'eta', 0.1),
      ...(values.init !== undefined ? { init: values.init } : {}),
      evalData: requireFlag(values['eval-data'], 'eval-data'),
      ...(values.objects !== undefined ? { objects: listFlag(values.objects) ?? [] } : {}),
      detector,
      out: requireFlag(values.out, 'out'),
      device: values.device ?? 'cpu',
      keepModels: values['keep-models'] === true,
      quiet,
    };
    // Every flag is checked before libtorch loads.
    planAblation(options);

    const { runAblation } = await import('../pretrain/ablation.js');
    const { renderAblationText } = await import('../pretrain/ablation-table.js');
    // Ctrl-C stops after the current step or object; running the same command again continues.
    const controller = new AbortController();
    const onSigint = (): void => {
      if (controller.signal.aborted) process.exit(130);
      process.stderr.write('\nspotdiff: stopping after this step (Ctrl-C again to quit now); run the same command again to continue\n');
      controller.abort();
    };
    process.on('SIGINT', onSigint);
    let result;
    try {
      result = await runAblation(options, { signal: controller.signal, onStage: quiet ? undefined : (line) => process.stderr.write(`ablation: ${line}\n`) });
    } finally {
      process.off('SIGINT', onSigint);
    }
    if (values.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    else if (result.completed && result.rows !== null && result.files !== null) {
      process.stdout.write(
        [
          `${result.detector} (${result.backbone}) with ${result.method} pre-training w/o SPD and w/ SPD (η ${result.eta}), ${result.epochs} epoch${result.epochs === 1 ? '' : 's'}, seed ${result.seed}; % on ${result.evalData}`,
          renderAblationText(result.rows),
          `saved: ${result.files.json}, ${result.files.markdown}`,
        ].join('\n') + '\n',
      );
    } else process.stdout.write(`stopped; what finished is saved in ${result.out}: run the same command again to continue\n`);
    return result.completed ? 0 : 1;
  },
};
