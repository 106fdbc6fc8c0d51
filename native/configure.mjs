#!/usr/bin/env node
// Finds libtorch for binding.gyp: LIBTORCH=<dir> (a libtorch archive, or the torch/ folder
// of a Python install) or the system's libtorch-dev. Prints one list for gyp's <!(...):
//   --include  include dirs      --libdir  library dirs      --libs  link flags
//   --defines  preprocessor defines (C++ ABI, CUDA)          --json  everything
// (--json's `headers` is the folder holding ATen/ATen.h; scripts/build-native.mjs records it
// beside the addon for `spotdiff doctor`.)
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

function fail(msg) {
  process.stderr.write(`spotdiff: ${msg}\n`);
  process.exit(1);
}

function locate() {
  const dir = process.env.LIBTORCH;
  if (dir) {
    const inc = join(dir, 'include');
    const lib = join(dir, 'lib');
    if (!existsSync(join(inc, 'ATen/ATen.h'))) fail(`LIBTORCH=${dir} has no include/ATen/ATen.h`);
    if (!existsSync(lib)) fail(`LIBTORCH=${dir} has no lib/ folder`);
    return { source: 'LIBTORCH', headers: inc, include: [inc, join(inc, 'torch/csrc/api/include')], libdir: lib };
  }
  const inc = '/usr/include';
  const lib = '/usr/lib/x86_64-linux-gnu';
  const arch = process.arch === 'arm64' ? '/usr/lib/aarch64-linux-gnu' : lib;
  if (!existsSync(join(inc, 'ATen/ATen.h')) || !existsSync(join(arch, 'libtorch.so'))) {
    fail('libtorch not found: install Debian libtorch-dev (npm run setup does it as root) or set LIBTORCH=<dir>');
  }
  // /usr/include is already on the compiler's path; adding it with -I would reorder system headers.
  return { source: 'system', headers: inc, include: [join(inc, 'torch/csrc/api/include')], libdir: arch };
}

// A prebuilt libtorch says which C++ ABI it was built with; the addon must match it.
function cxx11Abi(libdir) {
  const candidates = [join(libdir, 'cmake/Torch/TorchConfig.cmake'), join(libdir, '../share/cmake/Torch/TorchConfig.cmake')];
  for (const f of candidates) {
    if (!existsSync(f)) continue;
    const m = /_GLIBCXX_USE_CXX11_ABI=(\d)/.exec(readFileSync(f, 'utf8'));
    if (m) return m[1];
  }
  // Python wheels ship no cmake file for the ABI; they record it in torch/_C's build flags.
  const ver = join(libdir, '../_C/_VariableFunctions.pyi');
  if (existsSync(ver)) return process.env.SPOTDIFF_CXX11_ABI ?? '0';
  return process.env.SPOTDIFF_CXX11_ABI ?? '1';
}

const loc = locate();
const cuda = existsSync(join(loc.libdir, 'libtorch_cuda.so'));
const abi = cxx11Abi(loc.libdir);
const libs = [`-L${loc.libdir}`, `-Wl,-rpath,${loc.libdir}`, '-Wl,--no-as-needed', '-ltorch', '-ltorch_cpu', '-lc10'];
if (cuda) libs.push('-ltorch_cuda', '-lc10_cuda');
libs.push('-Wl,--as-needed');
const defines = [`_GLIBCXX_USE_CXX11_ABI=${abi}`, `SPOTDIFF_CUDA=${cuda ? 1 : 0}`, `SPOTDIFF_SYSTEM_LIBTORCH=${loc.source === 'system' ? 1 : 0}`];

const mode = process.argv[2] ?? '--json';
const out = {
  '--include': loc.include.join(' '),
  '--libdir': loc.libdir,
  '--libs': libs.join(' '),
  '--defines': defines.join(' '),
  '--json': JSON.stringify({ ...loc, cuda, cxx11Abi: abi, libs, defines }, null, 2),
}[mode];
if (out === undefined) fail(`unknown option ${mode}`);
process.stdout.write(out + '\n');
