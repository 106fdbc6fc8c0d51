import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePth, typedView } from '../../../src/tensor/io/index.js';
import { PyDict, unpickle } from '../../../src/tensor/io/pickle.js';
import { torchPickleHooks } from '../../../src/tensor/io/torch-pickle.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { op, pickleBytes, pthFile, twosComplement } from './hostile-pth.js';

// Pickles a hostile or corrupt file could hold: oversized integers, names that probe
// JavaScript prototypes, lengths past the end. Each is refused with a coded error, cheaply.

async function refused(p: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isSpotdiffError(e, 'ERR_BAD_CHECKPOINT'), `expected ERR_BAD_CHECKPOINT, got ${String(e)}`);
    assert.match((e as Error).message, message);
    return true;
  });
}

function refusedSync(f: () => unknown, message: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(isSpotdiffError(e, 'ERR_BAD_CHECKPOINT'), `expected ERR_BAD_CHECKPOINT, got ${String(e)}`);
    assert.match((e as Error).message, message);
    return true;
  });
}

test('pickle integers: up to 16 bytes read as Python does, longer ones are refused', () => {
  const read = (bytes: number[]): unknown => unpickle(pickleBytes(op.proto, bytes, op.stop), torchPickleHooks);
  for (const v of [0n, -1n, 255n, 2n ** 63n, -(2n ** 64n) - 3n, 2n ** 127n - 1n, -(2n ** 127n)]) {
    const b = twosComplement(v);
    assert.ok(b.length <= 16);
    const expected = v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    assert.equal(read(op.long1(b)), expected, `LONG1 ${v}`);
    assert.equal(read(op.long4(b)), expected, `LONG4 ${v}`);
  }
  assert.equal(read(op.long1([])), 0);
  refusedSync(() => read(op.long1(twosComplement(2n ** 127n))), /integer of 17 bytes/);
  refusedSync(() => read(op.long4(new Array<number>(4096).fill(0x7f))), /integer of 4096 bytes/);
});

test('global names are looked up as own entries only: JavaScript prototype names are refused', () => {
  for (const [module, name] of [
    ['torch', 'constructor'],
    ['torch', '__proto__'],
    ['torch', 'toString'],
    ['torch', 'hasOwnProperty'],
    ['torch.storage', '__proto__'],
    ['torch.storage', 'valueOf'],
  ] as const) {
    refusedSync(() => unpickle(pickleBytes(op.proto, op.global(module, name), op.stop), torchPickleHooks), new RegExp(`${module}\\.${name}.*never runs code`));
  }
});

test('a tensor whose dtype is torch.constructor is refused, not read with a nonsense element size', async () => {
  const file = pthFile([{ name: 'w', storage: '0', size: [2], stride: [1], v3Dtype: 'constructor' }], [{ key: '0', numel: 2 }]);
  await refused(decodePth(file), /torch\.constructor/);
});

test('a tensor or dict key named __proto__ is an ordinary name and touches no prototype', async () => {
  const objectKeys = Object.getOwnPropertyNames(Object.prototype).length;
  const sd = await decodePth(pthFile([{ name: '__proto__', storage: '0', size: [2], stride: [1] }], [{ key: '0', numel: 2 }]));
  assert.deepEqual([...sd.keys()], ['__proto__']);
  assert.deepEqual(Array.from(typedView(sd.get('__proto__')!) as Float32Array), [0, 1]);
  const d = unpickle(pickleBytes(op.proto, op.emptyDict, op.mark, op.str('__proto__'), op.int(1), op.setitems, op.stop), torchPickleHooks);
  assert.ok(d instanceof PyDict);
  assert.equal(d.items.get('__proto__'), 1);
  assert.equal(Object.getPrototypeOf(d.items), Map.prototype);
  assert.equal(Object.getOwnPropertyNames(Object.prototype).length, objectKeys);
});

test('lengths past the end of the pickle are refused before anything is allocated', () => {
  // BINUNICODE / BINBYTES claiming 4 GiB in a few bytes.
  refusedSync(() => unpickle(pickleBytes(op.proto, [0x58, 0xff, 0xff, 0xff, 0xff, 0x41], op.stop), torchPickleHooks), /ends early/);
  refusedSync(() => unpickle(pickleBytes(op.proto, [0x42, 0xff, 0xff, 0xff, 0xff, 0x41], op.stop), torchPickleHooks), /ends early/);
  refusedSync(() => unpickle(pickleBytes(op.proto, [0x8d, 0, 0, 0, 0, 1, 0, 0, 0], op.stop), torchPickleHooks), /past the end/);
});
