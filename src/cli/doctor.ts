import type { Command } from './command.js';
import { parseFlags } from './args.js';
import type { BuildConfig, EngineInfo } from '../tensor/engine.js';

const usage = `usage: spotdiff doctor [--json] [--short]

Prints what this installation runs on: spotdiff's version, Node, and the libtorch the
native addon linked (version, where its headers and libraries were at build time, the library
file loaded now, C++ ABI, CUDA, threads, malloc thresholds), so a bug report says which engine ran.`;

// The libtorch lines: version and kind, the build's paths, the library loaded now.
function libtorchLines(info: EngineInfo, build: BuildConfig | null, sameFolder: boolean): string[] {
  const lines = [`libtorch ${info.torchVersion} (${info.systemLibtorch ? 'system libtorch-dev' : 'LIBTORCH'}), C++11 ABI ${info.cxx11Abi ? 'on' : 'off'}`];
  if (build) lines.push(`  built against headers in ${build.headers}, libraries in ${build.libdir}`);
  else lines.push('  build paths not recorded (the addon was not built by scripts/build-native.mjs; run: npm run build:native)');
  lines.push(`  loaded ${info.libraryPath || '(the platform does not say which file)'}`);
  if (!sameFolder) lines.push('  note: the loaded library is not in the folder the build linked (LD_LIBRARY_PATH?)');
  return lines;
}

const MIB = 1 << 20;
const mib = (bytes: number | null): string => (bytes === null ? "glibc's" : `${bytes / MIB} MiB`);

// The allocator line: who chose the malloc thresholds, and which they are.
function mallocLine(m: EngineInfo['malloc']): string {
  const thresholds = `mmap threshold ${mib(m.mmapThreshold)}, trim threshold ${mib(m.trimThreshold)}`;
  switch (m.mode) {
    case 'tuned':
      return `malloc: ${thresholds} (set by spotdiff; SPOTDIFF_MALLOC=default keeps glibc's dynamic ones)`;
    case 'user':
      return `malloc: ${thresholds} (from MALLOC_*_THRESHOLD_ / GLIBC_TUNABLES)`;
    case 'default':
      return "malloc: glibc's dynamic thresholds (SPOTDIFF_MALLOC=default)";
    case 'unsupported':
      return "malloc: the platform's allocator, untuned (not glibc, or glibc refused the thresholds)";
  }
}

// A CUDA build that cannot ask the device for its free memory keeps training images on the host.
function cudaRuntimeNote(info: EngineInfo, build: BuildConfig | null): string {
  const runtime = build?.cudaRuntime;
  if (!info.builtWithCuda || runtime === undefined || runtime.on) return '';
  return `; no CUDA runtime calls (${runtime.reason}): images are cached in host memory`;
}

async function sameFolder(libraryPath: string, build: BuildConfig | null): Promise<boolean> {
  if (!build || !libraryPath) return true;
  const { realpath } = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  const real = (p: string) => realpath(p).catch(() => p);
  return (await real(dirname(libraryPath))) === (await real(build.libdir));
}

export const command: Command = {
  summary: 'show the engine this installation runs on (libtorch version and paths, CUDA, threads)',
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, { json: { type: 'boolean' }, short: { type: 'boolean' } });
    const { readFile } = await import('node:fs/promises');
    const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    if (values.short) {
      process.stdout.write(`spotdiff ${pkg.version}\n`);
      return 0;
    }
    const { engineInfo, buildConfig } = await import('../tensor/engine.js');
    const info = engineInfo();
    const build = buildConfig();
    const report = { spotdiff: pkg.version, node: process.version, platform: `${process.platform}-${process.arch}`, engine: info, build };
    if (values.json) {
      process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      return 0;
    }
    const lines = [
      `spotdiff ${pkg.version} on Node ${process.version} (${report.platform})`,
      ...libtorchLines(info, build, await sameFolder(info.libraryPath, build)),
      `CUDA: built ${info.builtWithCuda ? 'with' : 'without'} CUDA; ${info.cudaDeviceCount} device(s) available${cudaRuntimeNote(info, build)}`,
      `threads: ${info.threads}${info.blasThreads > 0 ? ` (OpenBLAS ${info.blasThreads})` : ''}; OpenMP ${info.openmp ? 'yes' : 'no'}; oneDNN ${info.mkldnn ? 'yes' : 'no'}`,
      mallocLine(info.malloc),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};
