import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodePth,
  encodeSafetensors,
  hostTensorFrom,
  readPth,
  readSafetensors,
  toFloat32,
  typedView,
  type HostTensor,
  type StateDict,
} from '../../../src/tensor/io/index.js';
import { isSpotdiffError, type ErrorCode } from '../../../src/util/errors.js';
import { runPython } from '../../helpers/python.js';
import { repoRoot, tempDir } from '../../helpers/tmp.js';

// Every .pth here is written by Debian's torch 1.13 (test/tensor/io/pth_fixtures.py), which also
// reports each tensor's dtype, shape, sha256 of its C-contiguous bytes, sum and end elements.
interface TensorRef {
  name: string;
  dtype: string;
  shape: number[];
  sha256: string;
  sum: number;
  head: number[];
  tail: number[];
}
interface Reference {
  resnet18: TensorRef[];
  special: TensorRef[];
  params: TensorRef[];
  small: TensorRef[];
  v3: TensorRef[];
  zip64_has_eocd64: boolean;
}

const dir = tempDir('spotdiff-pth-');
const ref = JSON.parse(runPython(readFileSync(join(repoRoot, 'test/tensor/io/pth_fixtures.py'), 'utf8'), [dir])) as Reference;
const file = (name: string): string => join(dir, name);

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function values(t: HostTensor): number[] {
  if (t.dtype === 'float16' || t.dtype === 'bfloat16') return Array.from(toFloat32(t));
  const v = typedView(t);
  return v instanceof BigInt64Array ? Array.from(v, Number) : Array.from(v);
}

/** Names in order, then per tensor: dtype, shape, exact bytes, and sum / end elements as Python reports them. */
function assertMatches(sd: StateDict, expected: TensorRef[]): void {
  assert.deepEqual([...sd.keys()], expected.map((e) => e.name));
  for (const e of expected) {
    const t = sd.get(e.name)!;
    assert.equal(t.dtype, e.dtype, e.name);
    assert.deepEqual(t.shape, e.shape, e.name);
    assert.equal(sha256(t.data), e.sha256, `${e.name}: bytes differ from torch's`);
    const v = values(t);
    let sum = 0;
    let absSum = 0;
    for (const x of v) {
      sum += x;
      absSum += Math.abs(x);
    }
    // Same float32 values summed in another order: 1e-12 of the magnitude is summation noise only.
    assert.ok(Math.abs(sum - e.sum) <= 1e-12 * absSum + 1e-300, `${e.name}: sum ${sum} vs ${e.sum}`);
    const n = v.length;
    if (n > 0) {
      assert.deepEqual(v.slice(0, 3), e.head, `${e.name} head`);
      assert.deepEqual(v.slice(Math.max(0, n - 2)), e.tail, `${e.name} tail`);
    }
  }
}

async function assertFails(p: Promise<unknown>, code: ErrorCode, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isSpotdiffError(e, code), `expected SpotdiffError ${code}, got ${String(e)}`);
    assert.match((e as Error).message, message);
    return true;
  });
}

test('a torchvision resnet18 state dict: every name, dtype, shape and byte as torch has it', async () => {
  const sd = await readPth(file('resnet18.pth'));
  assert.equal(sd.size, 122);
  assertMatches(sd, ref.resnet18);
  const counter = sd.get('layer1.0.bn1.num_batches_tracked')!;
  assert.equal(counter.dtype, 'int64');
  assert.deepEqual(counter.shape, []);
  assert.equal((typedView(counter) as BigInt64Array)[0], 1n);
});

test('views, storage offsets, non-contiguous strides, shared storages, 0-d, empty and every dtype', async () => {
  const sd = await readPth(file('special.pth'));
  assertMatches(sd, ref.special);
  // Contiguous views of one storage share its bytes rather than copying them.
  const base = sd.get('base')!;
  const row = sd.get('row_view')!;
  assert.equal(row.data.buffer, base.data.buffer);
  assert.equal(row.data.byteOffset, base.data.byteOffset + 20 * 4);
  assert.deepEqual(Array.from(toFloat32(sd.get('scalar_view')!)), [Math.fround(33 / 7)]);
  assert.equal((typedView(sd.get('scalar_i64')!) as BigInt64Array)[0], -123456789012345n);
});

test('protocol-4 pickles, Parameters (keep_vars) and a zip64 archive read the same', async () => {
  assertMatches(await readPth(file('special_proto4.pth')), ref.special);
  assertMatches(await readPth(file('params.pth')), ref.params);
  assert.ok(ref.zip64_has_eocd64, 'the fixture really has zip64 end records');
  assertMatches(await readPth(file('zip64.pth')), ref.special); // also: storages not 64-byte aligned here
  assertMatches(await decodePth(readFileSync(file('special.pth'))), ref.special);
});

test("newer torch's layout: 'archive/' folder, byteorder entry, untyped storages with _rebuild_tensor_v3", async () => {
  assertMatches(await readPth(file('newer.pth')), ref.v3);
  await assertFails(readPth(file('bigendian.pth')), 'ERR_BAD_CHECKPOINT', /big-endian/);
});

test('a wrapped training checkpoint: unwrap takes state_dict or model (a plain one passes); without it, an error says so', async () => {
  assertMatches(await readPth(file('wrapped_state_dict.pth'), { unwrap: true }), ref.small);
  assertMatches(await readPth(file('wrapped_state_dict.pth'), { unwrap: 'state_dict' }), ref.small);
  assertMatches(await readPth(file('wrapped_model.pth'), { unwrap: true }), ref.small);
  await assertFails(readPth(file('wrapped_state_dict.pth')), 'ERR_BAD_CHECKPOINT', /'epoch' is a number.*unwrap option/);
  await assertFails(readPth(file('wrapped_model.pth'), { unwrap: 'weights' }), 'ERR_BAD_CHECKPOINT', /no state dict under 'weights'.*model, epoch, tags, ratio/);
  assertMatches(await readPth(file('params.pth'), { unwrap: true }), ref.params); // a plain state dict passes as it is
  await assertFails(readPth(file('params.pth'), { unwrap: 'state_dict' }), 'ERR_BAD_CHECKPOINT', /no state dict under 'state_dict'.*0\.weight/);
  await assertFails(readPth(file('numpy.pth'), { unwrap: true }), 'ERR_BAD_CHECKPOINT', /numpy/);
});

test("stripPrefix removes DataParallel's 'module.'", async () => {
  const raw = await readPth(file('dataparallel.pth'));
  assert.ok([...raw.keys()].every((k) => k.startsWith('module.')));
  assertMatches(await readPth(file('dataparallel.pth'), { stripPrefix: 'module.' }), ref.small);
});

test('refused: other Python objects by name, unsupported dtypes, legacy format, TorchScript, compressed entries', async () => {
  await assertFails(readPth(file('numpy.pth')), 'ERR_BAD_CHECKPOINT', /numpy\._?core\.multiarray\._reconstruct.*never runs code/);
  await assertFails(readPth(file('complex.pth')), 'ERR_BAD_CHECKPOINT', /torch\.ComplexFloatStorage/);
  await assertFails(readPth(file('legacy.pth')), 'ERR_BAD_CHECKPOINT', /legacy \(pre-1\.6\) format.*re-save/);
  await assertFails(readPth(file('script.pt')), 'ERR_BAD_CHECKPOINT', /TorchScript/);
  await assertFails(readPth(file('deflated.pth')), 'ERR_BAD_CHECKPOINT', /compressed \(method 8\)/);
  // The two formats mixed up: each reader says what it was given.
  const st = encodeSafetensors(new Map([['x', hostTensorFrom('float32', [1], new Float32Array([1]))]]));
  await assertFails(decodePth(st), 'ERR_BAD_CHECKPOINT', /looks like a safetensors file/);
  await assertFails(readSafetensors(file('special.pth')), 'ERR_BAD_CHECKPOINT', /not a valid safetensors file/);
});

test('missing, empty, truncated and corrupt files give coded errors, never a crash', async () => {
  await assertFails(readPth(file('nope.pth')), 'ERR_NOT_FOUND', /not found/);
  await assertFails(readPth(dir), 'ERR_BAD_CHECKPOINT', /not a file/);
  await assertFails(readPth(file('short_pickle.pth')), 'ERR_BAD_CHECKPOINT', /data\.pkl.*ends early/);
  await assertFails(readPth(file('short_storage.pth')), 'ERR_BAD_CHECKPOINT', /storage data\/0 has \d+ bytes/);

  const whole = readFileSync(file('special.pth'));
  const cuts = [0, 3, 30, 100, whole.length >> 1, whole.length - 200, whole.length - 22, whole.length - 1];
  for (const cut of cuts) {
    await assertFails(decodePth(whole.subarray(0, cut)), 'ERR_BAD_CHECKPOINT', /./);
  }
  const cutDir = join(dir, 'cut');
  mkdirSync(cutDir);
  writeFileSync(join(cutDir, 'half.pth'), whole.subarray(0, whole.length >> 1));
  await assertFails(readPth(join(cutDir, 'half.pth')), 'ERR_BAD_CHECKPOINT', /truncated/);
  writeFileSync(join(cutDir, 'empty.pth'), new Uint8Array(0));
  await assertFails(readPth(join(cutDir, 'empty.pth')), 'ERR_BAD_CHECKPOINT', /empty/);

  // One flipped byte inside a storage: caught by the entry's CRC.
  const flipped = Uint8Array.from(whole);
  const storageAt = whole.indexOf(Buffer.from('special/data/0')) + 'special/data/0'.length;
  flipped[storageAt + 100] ^= 0xff;
  await assertFails(decodePth(flipped), 'ERR_BAD_CHECKPOINT', /CRC|damaged/);
  // A damaged central directory, and bytes removed from the middle.
  const badCd = Uint8Array.from(whole);
  badCd[whole.indexOf(Buffer.from('PK\x01\x02', 'latin1')) + 1] = 0;
  await assertFails(decodePth(badCd), 'ERR_BAD_CHECKPOINT', /central directory entry 0 is damaged/);
  const spliced = Buffer.concat([whole.subarray(0, 1000), whole.subarray(1500)]);
  await assertFails(decodePth(spliced), 'ERR_BAD_CHECKPOINT', /./);
  // Not a checkpoint at all.
  await assertFails(decodePth(new TextEncoder().encode('hello, this is text')), 'ERR_BAD_CHECKPOINT', /not a PyTorch checkpoint/);
});
