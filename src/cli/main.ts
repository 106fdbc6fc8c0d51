#!/usr/bin/env node
import { commands } from './commands.js';
import { isSpotdiffError } from '../util/errors.js';

function topUsage(): string {
  return ['usage: spotdiff <command> [options]    (spotdiff <command> --help for its options)', '', 'commands:']
    .concat(Object.keys(commands).sort().map((n) => `  ${n}`))
    .join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    process.stdout.write(topUsage() + '\n');
    return verb === undefined ? 2 : 0;
  }
  if (verb === '--version') {
    const { command } = await import('./doctor.js');
    return command.run(rest.includes('--verbose') ? [] : ['--short']);
  }
  const load = commands[verb];
  if (!load) {
    process.stderr.write(`spotdiff: unknown command "${verb}"\n${topUsage()}\n`);
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
