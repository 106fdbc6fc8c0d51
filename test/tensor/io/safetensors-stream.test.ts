import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../../../src/tensor/index.js';
import { tensorSource, toHost } from '../../../src/tensor/host.js';
import { encodeSafetensors, hostTensorFrom, readSafetensors, writeSafetensors, type HostTensor, type TensorSource } from '../../../src/tensor/io/index.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { tempDir } from '../../helpers/tmp.js';

const dir = tempDir('spotdiff-safetensors-stream-');

/** A host tensor served in pieces of `bytes` (the last one shorter), as a streaming source. */
function inPieces(t: HostTensor, bytes: number): TensorSource {
  return {
    dtype: t.dtype,
    shape: t.shape,
    *chunks() {
      for (let at = 0; at < t.data.byteLength; at += bytes) yield t.data.subarray(at, Math.min(t.data.byteLength, at + bytes));
    },
  };
}

test('streamed pieces give exactly the in-memory encoder\'s bytes and read back equal', async () => {
  const host = new Map<string, HostTensor>([
    ['b', hostTensorFrom('int64', [3], BigInt64Array.of(1n, -2n, 3n))],
    ['a.weight', hostTensorFrom('float32', [5, 7], Float32Array.from({ length: 35 }, (_, i) => i / 7))],
    ['10', hostTensorFrom('uint8', [0], new Uint8Array(0))],
    ['f16', hostTensorFrom('float16', [4], Uint16Array.of(0x3c00, 0x4000, 0xc000, 0x0001))],
    ['scalar', hostTensorFrom('float64', [], Float64Array.of(Math.PI))],
  ]);
  const meta = { format: 'pt', note: 'stream' };
  const path = join(dir, 'pieces.safetensors');
  // Pieces of 3 bytes cut through elements: the writer must not care where pieces end.
  await writeSafetensors(path, new Map([...host].map(([k, v]) => [k, inPieces(v, 3)])), meta);
  assert.deepEqual(new Uint8Array(readFileSync(path)), encodeSafetensors(host, meta));
  const back = await readSafetensors(path);
  assert.deepEqual(back.metadata, meta);
  assert.deepEqual([...back.tensors.keys()].sort(), [...host.keys()].sort());
  for (const [k, v] of host) assert.deepEqual(back.tensors.get(k), v, k);
  // Host tensors and sources may be mixed in one map.
  const mixed = join(dir, 'mixed.safetensors');
  await writeSafetensors(mixed, new Map<string, HostTensor | TensorSource>([...host].map(([k, v], i) => [k, i % 2 ? v : inPieces(v, 8)])), meta);
  assert.deepEqual(readFileSync(mixed), readFileSync(path));
});

test('a source that gives too few or too many bytes is ERR_SHAPE and leaves no file behind', async () => {
  const t = hostTensorFrom('float32', [4], Float32Array.of(1, 2, 3, 4));
  const short: TensorSource = { dtype: 'float32', shape: [4], chunks: () => [t.data.subarray(0, 12)] };
  const long: TensorSource = { dtype: 'float32', shape: [4], chunks: () => [t.data, t.data.subarray(0, 4)] };
  const sub = join(dir, 'bad');
  for (const source of [short, long]) {
    await assert.rejects(writeSafetensors(join(sub, 'x.safetensors'), new Map([['x', source]])), (e) => isSpotdiffError(e, 'ERR_SHAPE') && /"x"/.test((e as Error).message));
  }
  assert.deepEqual(readdirSync(sub), [], 'the temporary file is removed');
});

test('an engine tensor streams in blocks of rows no larger than asked, and the blocks add up to it', async () => {
  const before = T.liveTensorCount();
  const t = T.tidy(() => T.reshape(T.arange(0, 6 * 5 * 4, 1, { dtype: 'float32' }), [6, 5, 4])); // rows of 80 bytes
  const whole = toHost(t);
  const pieces = [...(tensorSource(t, 200).chunks() as Iterable<Uint8Array>)];
  assert.deepEqual(pieces.map((p) => p.byteLength), [160, 160, 160], 'two rows per 200-byte block');
  assert.deepEqual(Buffer.concat(pieces), Buffer.from(whole.data));
  const oneRow = [...(tensorSource(t, 10).chunks() as Iterable<Uint8Array>)];
  assert.equal(oneRow.length, 6, 'a row larger than the block size goes alone');
  const path = join(dir, 'engine.safetensors');
  const map = new Map([['t', t], ['s', T.scalar(2.5)]]);
  await writeSafetensors(path, new Map([...map].map(([k, v]) => [k, tensorSource(v, 100)])));
  assert.deepEqual(new Uint8Array(readFileSync(path)), encodeSafetensors(new Map([...map].map(([k, v]) => [k, toHost(v)]))));
  t.dispose();
  map.get('s')!.dispose();
  assert.equal(T.liveTensorCount(), before, 'the blocks are freed');
});
