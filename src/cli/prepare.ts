import type { Command } from './command.js';
import { intFlag, parseFlags, requireFlag } from './args.js';
import { SpotdiffError } from '../util/errors.js';

const usage = `usage: spotdiff prepare --split-type 1cls|2cls_highshot|2cls_fewshot --data-folder DIR --save-folder OUT
                        [--split-file CSV] [--concurrency N] [--json] [--quiet]

Writes the prepared (MVTec AD style) layout of one VisA split type, as the official
prepare_data.py does, to OUT/<split-type>/<object>/{train,test}/{good,bad}/ with masks
binarised to 0/255 in OUT/<split-type>/<object>/ground_truth/.

  --split-type    1cls (normal-only training), 2cls_highshot or 2cls_fewshot
  --data-folder   the raw VisA folder (from spotdiff download visa), or your own folder
                  dataset with a --split-file made by spotdiff split: the split file's
                  image and mask paths are relative to this folder, whatever its layout
  --save-folder   where the prepared folders go
  --split-file    the split CSV (default DATA/split_csv/<split-type>.csv, as in the
                  downloaded VisA; when DATA has none, the official VisA split shipped
                  with spotdiff in data/visa/split_csv/; a folder dataset needs one,
                  see spotdiff split --help)
  --concurrency   file operations in flight (default 16)
  --json          print a summary (counts per object, split and label) on stdout
  --quiet         no progress on stderr

The split file is checked first, then that every listed file exists and every mask decodes;
each check reports all its problems at once, and nothing is written until all pass. Running
it again skips files that are already right, and removes the files of an earlier run that
the split no longer lists (an image moved from train to test, a mask no longer needed), so
the output is the split; only files directly in the folders prepare makes
(OUT/<split-type>/<object>/{train,test,ground_truth}/...) are removed, never anything else.`;

export const command: Command = {
  summary: 'build a 1cls / 2cls split (official VisA, or your own from split) in the MVTec AD layout',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, {
      'split-type': { type: 'string' },
      'data-folder': { type: 'string' },
      'save-folder': { type: 'string' },
      'split-file': { type: 'string' },
      concurrency: { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean' },
    });
    const { isSplitType, SPLIT_TYPES } = await import('../data/visa/split-csv.js');
    const splitType = requireFlag(values['split-type'], 'split-type');
    if (!isSplitType(splitType)) throw new SpotdiffError('ERR_USAGE', `--split-type must be one of ${SPLIT_TYPES.join(', ')}, got "${splitType}"`);
    const { prepareVisa } = await import('../data/visa/prepare.js');
    const summary = await prepareVisa({
      splitType,
      dataFolder: requireFlag(values['data-folder'], 'data-folder'),
      saveFolder: requireFlag(values['save-folder'], 'save-folder'),
      splitFile: values['split-file'],
      concurrency: intFlag(values.concurrency, 'concurrency', 16, 1, 1024),
      progress: values.quiet !== true,
    });
    if (values.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else {
      const t = summary.total;
      process.stdout.write(
        `${summary.outputFolder}: train ${t.train.normal} normal + ${t.train.anomaly} anomalous, test ${t.test.normal} normal + ${t.test.anomaly} anomalous ` +
          `(${Object.keys(summary.counts).length} objects)` +
          (summary.removedFiles > 0 ? `; ${summary.removedFiles} file(s) no longer in the split removed` : '') +
          '\n',
      );
    }
    return 0;
  },
};
