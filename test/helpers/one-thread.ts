import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * Imported FIRST by a test that claims bit-exact agreement with PyTorch (or a tolerance that
 * holds only at one thread): pins this process's engine and its PyTorch reference to one
 * thread. It must run before the engine loads, because the engine takes its thread count from
 * the environment when it loads (see ./threads.ts); so it fails loudly if it already has.
 */
const addonPath = new URL('../../../native/build/Release/spotdiff.node', import.meta.url).pathname;
const loaded = existsSync(addonPath) && createRequire(import.meta.url).cache[realpathSync(addonPath)] !== undefined;
if (loaded) {
  throw new Error('test/helpers/one-thread.js was imported after the engine loaded: make it the first import of the test file');
}
for (const name of ['SPOTDIFF_THREADS', 'OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'GOTO_NUM_THREADS', 'MKL_NUM_THREADS']) process.env[name] = '1';
