import type { Command } from './command.js';
import { parseFlags } from './args.js';

const usage = `usage: spotdiff doctor [--json] [--short]

Prints what this installation runs on: spotdiff's version, Node, and the libtorch the
native addon linked (version, C++ ABI, CUDA), so a bug report says which engine ran.`;

export const command: Command = {
  summary: 'show the engine this installation runs on (libtorch version, CUDA, threads)',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, { json: { type: 'boolean' }, short: { type: 'boolean' } });
    const { readFile } = await import('node:fs/promises');
    const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    if (values.short) {
      process.stdout.write(`spotdiff ${pkg.version}\n`);
      return 0;
    }
    const { engineInfo } = await import('../tensor/engine.js');
    const info = engineInfo();
    const report = { spotdiff: pkg.version, node: process.version, platform: `${process.platform}-${process.arch}`, engine: info };
    if (values.json) {
      process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      return 0;
    }
    const lines = [
      `spotdiff ${pkg.version} on Node ${process.version} (${report.platform})`,
      `libtorch ${info.torchVersion} (${info.systemLibtorch ? 'system libtorch-dev' : 'LIBTORCH'}), C++11 ABI ${info.cxx11Abi ? 'on' : 'off'}`,
      `CUDA: built ${info.builtWithCuda ? 'with' : 'without'} CUDA; ${info.cudaDeviceCount} device(s) available`,
      `threads: ${info.threads}; OpenMP ${info.openmp ? 'yes' : 'no'}; oneDNN ${info.mkldnn ? 'yes' : 'no'}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};
