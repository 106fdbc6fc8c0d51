import type { Command } from './command.js';
import { intFlag, parseFlags, requireFlag } from './args.js';
import { SpotdiffError } from '../util/errors.js';

const usage = `usage: spotdiff download visa --to DIR [--url URL] [--retries N] [--remove-archive] [--json] [--quiet]

Downloads the VisA dataset tar (about 1.8 GB) from its public address, extracts it and leaves
the raw dataset in DIR/VisA (then: spotdiff prepare --data-folder DIR/VisA ...).

  --to              the folder to download and extract into (created if needed)
  --url             another address of the same tar (a mirror, a local copy over http)
  --retries         failed attempts in a row retried before giving up (default 3)
  --remove-archive  delete the tar after a successful extraction
  --json            print a summary on stdout
  --quiet           no progress on stderr

An interrupted download resumes where it stopped (HTTP Range) when run again; a finished
download or extraction is not repeated.`;

export const command: Command = {
  summary: 'download and extract the VisA dataset (resumable)',
  usage,
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      {
        to: { type: 'string' },
        url: { type: 'string' },
        retries: { type: 'string' },
        'remove-archive': { type: 'boolean' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean' },
      },
      true,
    );
    if (positionals.length !== 1 || positionals[0] !== 'visa') {
      throw new SpotdiffError('ERR_USAGE', `name the dataset to download: spotdiff download visa --to DIR${positionals.length ? ` (got "${positionals.join(' ')}")` : ''}`);
    }
    const { downloadVisa } = await import('../data/visa/download.js');
    const summary = await downloadVisa({
      to: requireFlag(values.to, 'to'),
      url: values.url,
      retries: intFlag(values.retries, 'retries', 3, 0, 100),
      removeArchive: values['remove-archive'] === true,
      progress: values.quiet !== true,
    });
    if (values.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else process.stdout.write(`${summary.dataFolder}\n`);
    return 0;
  },
};
