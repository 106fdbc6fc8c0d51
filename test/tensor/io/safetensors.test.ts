import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeSafetensors,
  encodeSafetensors,
  hostTensorFrom,
  readPth,
  readSafetensors,
  writeSafetensors,
  type HostTensor,
  type StateDict,
} from '../../../src/tensor/io/index.js';
import { isSpotdiffError, type ErrorCode } from '../../../src/util/errors.js';
import { runPython } from '../../helpers/python.js';
import { repoRoot, tempDir } from '../../helpers/tmp.js';

const dir = tempDir('spotdiff-safetensors-');
const reference = readFileSync(join(repoRoot, 'test/tensor/io/safetensors_reference.py'), 'utf8');
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
// One Python run writes both inputs: a file in the reference layout and a resnet18 .pth.
const referenceFile = join(dir, 'reference.safetensors');
const referenceTensors = JSON.parse(runPython(reference, ['write', referenceFile, join(dir, 'resnet18.pth')])) as {
  name: string;
  sha256: string;
  shape: number[];
}[];

function assertThrowsCode(fn: () => unknown, code: ErrorCode, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isSpotdiffError(e, code), `expected ${code}, got ${String(e)}`);
    assert.match((e as Error).message, message);
    return true;
  });
}

/** A file from a header object and data bytes, with a chosen header length field. */
function craft(header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

test('a resnet18 state dict written here reads back in Python exactly, padded and aligned as the reference', async () => {
  const sd = await readPth(join(dir, 'resnet18.pth'));
  const out = join(dir, 'resnet18.safetensors');
  await writeSafetensors(out, sd, { format: 'pt', source: 'spotdiff test' });
  assert.deepEqual(readdirSync(dir).sort(), ['reference.safetensors', 'resnet18.pth', 'resnet18.safetensors'], 'no temporary file is left behind');

  const report = JSON.parse(runPython(reference, ['check', out, join(dir, 'resnet18.pth')])) as {
    names: string[];
    mismatched: string[];
    extra: string[];
    metadata: Record<string, string>;
    header_padded_with_spaces: boolean;
    aligned: boolean;
  };
  assert.deepEqual(report.mismatched, []);
  assert.deepEqual(report.extra, []);
  assert.equal(report.names.length, 122);
  assert.deepEqual(report.metadata, { format: 'pt', source: 'spotdiff test' });
  assert.ok(report.header_padded_with_spaces);
  assert.ok(report.aligned);
  // Layout: 8-byte elements first, then 4-byte ones, each group in state_dict order.
  const names = [...sd.keys()];
  const expectedOrder = [...names.filter((n) => n.endsWith('num_batches_tracked')), ...names.filter((n) => !n.endsWith('num_batches_tracked'))];
  assert.deepEqual(report.names, expectedOrder);

  for (const opts of [{}, { singleReadLimit: 0 }]) {
    const back = await readSafetensors(out, opts);
    assert.deepEqual([...back.tensors.keys()], expectedOrder);
    assert.deepEqual(back.metadata, { format: 'pt', source: 'spotdiff test' });
    for (const [name, t] of sd) {
      const u = back.tensors.get(name)!;
      assert.equal(u.dtype, t.dtype);
      assert.deepEqual(u.shape, t.shape);
      assert.ok(Buffer.from(u.data).equals(t.data), name);
    }
  }
});

test('a file in the reference layout reads exactly, and re-encoding it gives the same bytes', async () => {
  const file = referenceFile;
  const expected = referenceTensors;
  const { tensors, metadata } = await readSafetensors(file);
  assert.deepEqual([...tensors.keys()], expected.map((e) => e.name));
  for (const e of expected) {
    const t = tensors.get(e.name)!;
    assert.deepEqual(t.shape, e.shape, e.name);
    assert.equal(sha256(t.data), e.sha256, e.name);
  }
  assert.deepEqual(tensors.get('mask')!.dtype, 'bool');
  assert.deepEqual(tensors.get('bf16')!.dtype, 'bfloat16');
  assert.deepEqual(metadata, { format: 'pt', note: 'written by the test reference' });
  const bytes = readFileSync(file);
  assert.ok(Buffer.from(encodeSafetensors(tensors, metadata)).equals(bytes), 'byte-identical to the reference layout');
  assert.deepEqual([...decodeSafetensors(bytes).tensors.keys()], [...tensors.keys()]);
});

test('names keep their order (integer-like ones too); 0-d and empty tensors; no metadata', () => {
  const sd: StateDict = new Map<string, HostTensor>([
    ['10', hostTensorFrom('float32', [2], new Float32Array([1, 2]))],
    ['2', hostTensorFrom('float32', [], new Float32Array([7]))],
    ['émoji 🙂', hostTensorFrom('int32', [0, 5], new Int32Array(0))],
    ['flag', hostTensorFrom('bool', [1], new Uint8Array([1]))],
  ]);
  const bytes = encodeSafetensors(sd);
  assert.equal(new DataView(bytes.buffer).getUint32(0, true) % 8, 0);
  const back = decodeSafetensors(bytes);
  assert.deepEqual([...back.tensors.keys()], ['10', '2', 'émoji 🙂', 'flag']);
  assert.deepEqual(back.metadata, {});
  assert.deepEqual(back.tensors.get('2')!.shape, []);
  assert.deepEqual(Array.from(new Float32Array(back.tensors.get('10')!.data.slice().buffer)), [1, 2]);
  assert.equal(back.tensors.get('émoji 🙂')!.data.byteLength, 0);
  assert.ok(!new TextDecoder().decode(bytes).includes('__metadata__'));
});

test('truncated and corrupt files give ERR_BAD_CHECKPOINT naming the problem; a missing file ERR_NOT_FOUND', async () => {
  const good = encodeSafetensors(
    new Map([
      ['a', hostTensorFrom('float32', [2, 2], new Float32Array([1, 2, 3, 4]))],
      ['b', hostTensorFrom('int64', [1], new BigInt64Array([5n]))],
    ]),
    { k: 'v' },
  );
  const headerLen = Number(new DataView(good.buffer).getBigUint64(0, true));
  for (const cut of [0, 5, 8, 9, 8 + (headerLen >> 1), 8 + headerLen, 8 + headerLen + 3, good.length - 1]) {
    assertThrowsCode(() => decodeSafetensors(good.subarray(0, cut)), 'ERR_BAD_CHECKPOINT', /truncated/);
  }
  writeFileSync(join(dir, 'cut.safetensors'), good.subarray(0, good.length - 4));
  await assert.rejects(readSafetensors(join(dir, 'cut.safetensors')), (e) => isSpotdiffError(e, 'ERR_BAD_CHECKPOINT') && /truncated/.test((e as Error).message));
  await assert.rejects(readSafetensors(join(dir, 'missing.safetensors')), (e) => isSpotdiffError(e, 'ERR_NOT_FOUND'));

  const four = new Uint8Array(16);
  const f32 = (o: [number, number], shape = [2, 2]) => ({ dtype: 'F32', shape, data_offsets: o });
  const cases: [Uint8Array, RegExp][] = [
    [craft(null, four, '{"a": '), /not JSON/],
    [craft(null, four, '[1, 2]'), /not a JSON object/],
    [craft({ a: f32([0, 16]) }, four).fill(0xff, 8, 9), /not UTF-8/],
    [craft({ a: f32([0, 12]) }, four), /needs 16 bytes but its offsets span 12/],
    [craft({ a: f32([0, 16]), b: f32([8, 24]) }, new Uint8Array(24)), /gap or overlap/],
    [craft({ a: f32([4, 20]) }, new Uint8Array(20)), /starts at byte 4.*expected 0/],
    [craft({ a: f32([0, 16]) }, new Uint8Array(20)), /4 bytes of data after the last tensor/],
    [craft({ a: f32([0, 32], [4, 2]) }, new Uint8Array(20)), /the tensors need 32 bytes of data but the file holds 20/],
    [craft({ a: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] } }, new Uint8Array(4)), /dtype F8_E4M3, which spotdiff does not read/],
    [craft({ a: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)), /dtype C64/],
    [craft({ a: { shape: [1], data_offsets: [0, 4] } }, four), /has no dtype/],
    [craft({ a: f32([0, 16], [2, -2]) }, four), /bad shape/],
    [craft({ a: f32([16, 0]) }, four), /bad data_offsets/],
    [craft({ __metadata__: { n: 1 }, a: f32([0, 16]) }, four), /__metadata__ value for "n" is not a string/],
  ];
  for (const [bytes, message] of cases) assertThrowsCode(() => decodeSafetensors(bytes), 'ERR_BAD_CHECKPOINT', message);
  const huge = new Uint8Array(64);
  new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
  assertThrowsCode(() => decodeSafetensors(huge), 'ERR_BAD_CHECKPOINT', /implausibly large/);
});

test('a metadata key named __proto__ is kept as an ordinary key and changes no prototype', () => {
  const text = '{"__metadata__": {"__proto__": "x", "format": "pt"}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}';
  const { metadata } = decodeSafetensors(craft(null, new Uint8Array(4), text));
  assert.deepEqual(Object.keys(metadata).sort(), ['__proto__', 'format']);
  assert.equal(Object.getOwnPropertyDescriptor(metadata, '__proto__')?.value, 'x');
  assert.equal(Object.getPrototypeOf(metadata), Object.prototype);
});

test('the writer refuses tensors whose bytes do not fit their shape, and the reserved name', async () => {
  const bad: HostTensor = { dtype: 'float32', shape: [3], data: new Uint8Array(8) };
  assertThrowsCode(() => encodeSafetensors(new Map([['x', bad]])), 'ERR_SHAPE', /needs 12 bytes, has 8/);
  const ok = hostTensorFrom('uint8', [1], new Uint8Array([1]));
  assertThrowsCode(() => encodeSafetensors(new Map([['__metadata__', ok]])), 'ERR_BAD_INPUT', /__metadata__/);
  await assert.rejects(writeSafetensors(join(dir, 'never.safetensors'), new Map([['x', bad]])), (e) => isSpotdiffError(e, 'ERR_SHAPE'));
  assert.ok(!readdirSync(dir).some((n) => n.includes('never')), 'a refused write leaves no file');
});
