#!/usr/bin/env node
import { commands } from './commands.js';
import { isSpotdiffError } from '../util/errors.js';

/** The verbs with their one-line summaries (every command file is engine-free until it runs). */
async function topUsage(): Promise<string> {
  const names = Object.keys(commands).sort();
  const summaries = await Promise.all(names.map(async (n) => (await commands[n]!()).summary));
  const width = Math.max(...names.map((n) => n.length)) + 2;
  return ['usage: spotdiff <command> [options]    (spotdiff <command> --help for its options)', '', 'commands:']
    .concat(names.map((n, i) => `  ${n.padEnd(width)}${summaries[i]}`))
    .join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    process.stdout.write((await topUsage()) + '\n');
    return verb === undefined ? 2 : 0;
  }
  if (verb === '--version') {
    const { command } = await import('./doctor.js');
    return command.run(rest.includes('--verbose') ? [] : ['--short']);
  }
  const load = commands[verb];
  if (!load) {
    process.stderr.write(`spotdiff: unknown command "${verb}"\n${await topUsage()}\n`);
    return 2;
  }
  const command = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage + '\n');
    return 0;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    if (isSpotdiffError(e)) {
      process.stderr.write(`spotdiff: ${e.message}\n`);
      process.exitCode = e.code === 'ERR_USAGE' ? 2 : 1;
    } else {
      process.stderr.write(`spotdiff: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
