import type { Command } from './command.js';
import { intFlag, parseFlags, requireFlag } from './args.js';
import { SpotdiffError } from '../util/errors.js';

const usage = `usage: spotdiff split --data DIR --split-type 1cls|2cls_highshot|2cls_fewshot --out FILE.csv
                      [--seed S] [--force]

Makes a train/test split of your own folder dataset by the VisA paper's rules, per product
and per class, and writes it as a split file in the official VisA format
(object,split,label,image,mask; paths relative to DIR). Prepare it as you would VisA:
  spotdiff prepare --split-type T --data-folder DIR --split-file FILE.csv --save-folder OUT

  --data        the folder dataset: one product folder (good/, bad/ or bad/<defect>/, masks/)
                or a folder of such product folders; every anomalous image needs a mask
  --split-type  1cls           90% of the normal images train; the rest and every anomaly test
                2cls_highshot  60% of the normal and 60% of the anomalous images train, 40% test
                2cls_fewshot   20% of each class trains, 80% tests (k-shot runs sample from train)
  --seed        which random split (default 0); the same seed gives the same file
  --out         the split file to write
  --force       replace FILE.csv if it exists (without it, an existing file is an error)

Train counts are rounded to the nearest image (ties to even, as the official files are), with
at least one train and one test image in every class that has a share of each; a class too
small for that is an error.`;

export const command: Command = {
  summary: "split your own folder dataset by the paper's rules into an official-format split file",
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, {
      data: { type: 'string' },
      'split-type': { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean' },
    });
    const { isSplitType, SPLIT_TYPES } = await import('../data/visa/split-csv.js');
    const splitType = requireFlag(values['split-type'], 'split-type');
    if (!isSplitType(splitType)) throw new SpotdiffError('ERR_USAGE', `--split-type must be one of ${SPLIT_TYPES.join(', ')}, got "${splitType}"`);
    const data = requireFlag(values.data, 'data');
    const out = requireFlag(values.out, 'out');
    const seed = intFlag(values.seed, 'seed', 0, 0, 2 ** 32 - 1);
    const { folderImages } = await import('../data/splits/folder-images.js');
    const { assignSplit } = await import('../data/splits/assign.js');
    const { writeSplitCsv } = await import('../data/splits/split-file.js');
    const { lstat } = await import('node:fs/promises');
    const present = await lstat(out).then(() => true, () => false);
    if (present && values.force !== true) throw new SpotdiffError('ERR_BAD_INPUT', `${out} already exists; pass --force to replace it (it was left as it is)`);
    const rows = assignSplit(await folderImages(data), splitType, seed);
    await writeSplitCsv(out, rows, splitType, { overwrite: values.force === true });
    const count = (split: string, label: string): number => rows.filter((r) => r.split === split && r.label === label).length;
    const objects = new Set(rows.map((r) => r.object)).size;
    process.stdout.write(
      `${out}: ${splitType} (seed ${seed}), train ${count('train', 'normal')} normal + ${count('train', 'anomaly')} anomalous, ` +
        `test ${count('test', 'normal')} normal + ${count('test', 'anomaly')} anomalous (${objects} object(s))\n`,
    );
    return 0;
  },
};
