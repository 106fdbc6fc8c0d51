import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../../src/tensor/index.js';
import { repoRoot } from '../helpers/tmp.js';

// Every op wrapper of the public surface is exercised by its family's test file (parity with
// PyTorch, gradients, errors), so a new op cannot arrive untested. The optimiser steps are
// proven through src/nn/optim's tests against torch.optim.
const families = ['creation', 'random', 'pointwise', 'reduce', 'shape', 'nn', 'loss', 'linalg', 'inplace', 'memory-format'];

test('every exported op wrapper is used by its family test (test/tensor/ops/<family>.test.ts)', () => {
  const shared = readFileSync(join(repoRoot, 'test/tensor/tensor.test.ts'), 'utf8');
  const missing: string[] = [];
  for (const family of families) {
    const source = readFileSync(join(repoRoot, `src/tensor/ops/${family}.ts`), 'utf8');
    const tests = readFileSync(join(repoRoot, `test/tensor/ops/${family}.test.ts`), 'utf8') + shared;
    const names = [...source.matchAll(/^export (?:const|function) ([A-Za-z0-9_]+)/gm)].map((m) => m[1]!);
    assert.ok(names.length > 0, `no exports found in ${family}.ts`);
    for (const name of names) {
      assert.equal(typeof (T as Record<string, unknown>)[name], 'function', `${family}.${name} is not on the public surface`);
      if (!new RegExp(`\\bT\\.${name}\\b`).test(tests)) missing.push(`${family}.${name}`);
    }
  }
  assert.deepEqual(missing, [], `op wrappers without a test: ${missing.join(', ')}`);
});
