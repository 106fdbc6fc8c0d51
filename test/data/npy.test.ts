import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpy, parseNpy, readNpy, writeNpy } from '../../src/data/npy.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { pythonJson, runPython } from '../helpers/python.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir();

test('reads what NumPy writes: float32, float64, uint8, int64, 0-d to 3-d, format 1.0 and 2.0', async () => {
  runPython(
    `
import sys, numpy as np
d = sys.argv[1]
np.save(f'{d}/f4.npy', (np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 7.25) / 3)
np.save(f'{d}/f8.npy', np.array([[np.pi, -0.0], [1e-300, 2.5]]))
np.save(f'{d}/u1.npy', np.array([0, 1, 255], dtype=np.uint8))
np.save(f'{d}/i8.npy', np.array([-(2**62), 5], dtype=np.int64))
np.save(f'{d}/scalar.npy', np.float32(1.5))
np.save(f'{d}/empty.npy', np.zeros((0, 3), dtype=np.float32))
from numpy.lib import format as fmt
with open(f'{d}/v2.npy', 'wb') as f:
    fmt.write_array(f, np.ones((2, 2), dtype=np.float32), version=(2, 0))
`,
    [dir],
  );
  const f4 = await readNpy(join(dir, 'f4.npy'));
  assert.equal(f4.dtype, 'float32');
  assert.deepEqual(f4.shape, [2, 3, 4]);
  assert.deepEqual(Array.from(f4.data as Float32Array), Array.from({ length: 24 }, (_, i) => Math.fround(Math.fround(i - 7.25) / 3)));
  const f8 = await readNpy(join(dir, 'f8.npy'));
  assert.deepEqual([f8.dtype, f8.shape, Array.from(f8.data as Float64Array)], ['float64', [2, 2], [Math.PI, -0, 1e-300, 2.5]]);
  assert.ok(Object.is((f8.data as Float64Array)[1], -0));
  const u1 = await readNpy(join(dir, 'u1.npy'));
  assert.deepEqual([u1.dtype, Array.from(u1.data as Uint8Array)], ['uint8', [0, 1, 255]]);
  const i8 = await readNpy(join(dir, 'i8.npy'));
  assert.deepEqual([i8.dtype, Array.from(i8.data as BigInt64Array)], ['int64', [-(2n ** 62n), 5n]]);
  const scalar = await readNpy(join(dir, 'scalar.npy'));
  assert.deepEqual([scalar.shape, Array.from(scalar.data as Float32Array)], [[], [1.5]]);
  const empty = await readNpy(join(dir, 'empty.npy'));
  assert.deepEqual([empty.shape, empty.data.length], [[0, 3], 0]);
  const v2 = await readNpy(join(dir, 'v2.npy'));
  assert.deepEqual([v2.shape, Array.from(v2.data as Float32Array)], [[2, 2], [1, 1, 1, 1]]);
});

test('NumPy reads what we write, byte-for-byte like np.save for float32', async () => {
  await writeNpy(join(dir, 'ours-f4.npy'), Float32Array.from([1.5, -2, 3.25, 0]), [2, 2]);
  await writeNpy(join(dir, 'ours-f8.npy'), Float64Array.from([Math.E]), [1]);
  await writeNpy(join(dir, 'ours-u1.npy'), Uint8Array.from([7, 8, 9]), [3, 1]);
  await writeNpy(join(dir, 'ours-i8.npy'), BigInt64Array.from([-3n, 2n ** 40n]), [2]);
  const got = pythonJson<Record<string, unknown>>(
    `
import sys, json, numpy as np
d = sys.argv[1]
out = {}
for k in ['f4', 'f8', 'u1', 'i8']:
    a = np.load(f'{d}/ours-{k}.npy')
    out[k] = dict(dtype=str(a.dtype), shape=list(a.shape), values=a.ravel().tolist(), c=bool(a.flags.c_contiguous))
np.save(f'{d}/np-f4.npy', np.array([[1.5, -2], [3.25, 0]], dtype=np.float32))
print(json.dumps(out))
`,
    [dir],
  );
  assert.deepEqual(got, {
    f4: { dtype: 'float32', shape: [2, 2], values: [1.5, -2, 3.25, 0], c: true },
    f8: { dtype: 'float64', shape: [1], values: [Math.E], c: true },
    u1: { dtype: 'uint8', shape: [3, 1], values: [7, 8, 9], c: true },
    i8: { dtype: 'int64', shape: [2], values: [-3, 2 ** 40], c: true },
  });
  assert.deepEqual(readFileSync(join(dir, 'ours-f4.npy')), readFileSync(join(dir, 'np-f4.npy')));
});

test('refuses Fortran order, big-endian and other dtypes, truncated and non-npy files, with clear errors', async () => {
  runPython(
    `
import sys, numpy as np
d = sys.argv[1]
np.save(f'{d}/fortran.npy', np.asfortranarray(np.ones((2, 3), dtype=np.float32)))
np.save(f'{d}/big.npy', np.ones(3, dtype='>f4'))
np.save(f'{d}/i4.npy', np.ones(3, dtype=np.int32))
np.save(f'{d}/bool.npy', np.ones(3, dtype=bool))
`,
    [dir],
  );
  const rejects = (name: string, code: string, re: RegExp): Promise<void> =>
    assert.rejects(readNpy(join(dir, name)), (e: unknown) => isSpotdiffError(e) && e.code === code && re.test(e.message));
  await rejects('fortran.npy', 'ERR_BAD_INPUT', /Fortran-ordered/);
  await rejects('big.npy', 'ERR_DTYPE', /dtype >f4 is not supported/);
  await rejects('i4.npy', 'ERR_DTYPE', /dtype <i4/);
  await rejects('bool.npy', 'ERR_DTYPE', /dtype \|b1/);
  await rejects('missing.npy', 'ERR_NOT_FOUND', /file not found/);
  const good = encodeNpy(Float32Array.from([1, 2, 3]), [3]);
  writeFileSync(join(dir, 'truncated.npy'), good.subarray(0, good.length - 2));
  await rejects('truncated.npy', 'ERR_BAD_INPUT', /truncated/);
  writeFileSync(join(dir, 'text.npy'), 'hello world, not numpy');
  await rejects('text.npy', 'ERR_BAD_INPUT', /magic/);
  assert.throws(() => encodeNpy(Float32Array.from([1, 2, 3]), [2, 2]), (e: unknown) => isSpotdiffError(e, 'ERR_SHAPE'));
  // Round trip through our own writer and reader.
  const back = parseNpy(encodeNpy(Float64Array.from([0.1, -0.2]), [2, 1]));
  assert.deepEqual([back.dtype, back.shape, Array.from(back.data as Float64Array)], ['float64', [2, 1], [0.1, -0.2]]);
});
