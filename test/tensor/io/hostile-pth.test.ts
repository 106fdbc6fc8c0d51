import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodePth, readPth, typedView } from '../../../src/tensor/io/index.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { pythonJson } from '../../helpers/python.js';
import { tempDir } from '../../helpers/tmp.js';
import { pthFile, stateDictPickle, storageBytes, storedZip, type ViewSpec } from './hostile-pth.js';

// .pth files a hostile or corrupt source could hand the reader: strided views and zip entries
// that would make a small file cost far more memory than its size. Each is refused with a coded
// error naming the tensor or entry; legitimate views still load.

const MiB = 1 << 20;
const dir = tempDir('spotdiff-hostile-pth-');

async function refused(p: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isSpotdiffError(e, 'ERR_BAD_CHECKPOINT'), `expected ERR_BAD_CHECKPOINT, got ${String(e)}`);
    assert.match((e as Error).message, message);
    return true;
  });
}

test('a stride-0 view over a 4-byte storage cannot make a tiny file decode to tens of MiB', async () => {
  const bomb = pthFile([{ name: 'bomb', storage: '0', size: [8 * MiB], stride: [0] }], [{ key: '0', numel: 1 }]);
  assert.ok(bomb.length < 1024);
  await refused(decodePth(bomb), /'bomb'.*33554432 bytes/);
  // Sizes whose product is past any buffer give the same coded error, not a RangeError.
  const huge = pthFile([{ name: 'huge', storage: '0', size: [2 ** 30, 2 ** 30, 2 ** 20], stride: [0, 0, 0] }], [{ key: '0', numel: 1 }]);
  await refused(decodePth(huge), /'huge'/);
});

test('overlapping strides over a small storage are refused the same way', async () => {
  // 4096 x 4096 floats (64 MiB) read from 8191 elements (32 KiB): every row starts one element on.
  const file = pthFile([{ name: 'overlap', storage: '0', size: [4096, 4096], stride: [1, 1] }], [{ key: '0', numel: 8191 }]);
  await refused(decodePth(file), /'overlap'.*67108864 bytes/);
});

test('many distinct strided views of one storage cannot add up past what the file holds', async () => {
  // 40 transposed views of one 1 MiB storage, each 512 KiB gathered: 20 MiB from a 1 MiB file.
  const views: ViewSpec[] = Array.from({ length: 40 }, (_, k) => ({ name: `v${k}`, storage: '0', offset: k, size: [256, 512], stride: [1, 512] }));
  await refused(decodePth(pthFile(views, [{ key: '0', numel: 256 * 1024 }])), /'v\d+'/);
});

test('the same strided view under several names (tied weights) is gathered once and shared', async () => {
  // 6 names for one transposed 4 MiB weight: gathered 6 times it would pass the budget.
  const views: ViewSpec[] = ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => ({ name, storage: '0', size: [1024, 1024], stride: [1, 1024] }));
  const sd = await decodePth(pthFile(views, [{ key: '0', numel: 1024 * 1024 }]));
  const a = typedView(sd.get('a')!) as Float32Array;
  assert.deepEqual([a[0], a[1], a[1024], a[1024 * 1024 - 1]], [0, 1024, 1, 1024 * 1024 - 1]);
  for (const name of 'bcdef') assert.equal(sd.get(name)!.data, sd.get('a')!.data, name);
});

test('legitimate views load: transposed and expanded tensors next to real weights, as torch.save writes them', async () => {
  const path = join(dir, 'views.pth');
  const ref = pythonJson<{ name: string; hex_head: string; numel: number; sum: number }[]>(`
import sys, torch
torch.manual_seed(0)
w = torch.randn(512, 2048)
sd = {'w': w, 'w_t': w.t(), 'tied_t': w.t(), 'mask': torch.ones(1).expand(2048, 1024), 'col': w[:, 7]}
torch.save(sd, sys.argv[1])
import json
print(json.dumps([{'name': k, 'hex_head': v.contiguous().reshape(-1)[:4].numpy().tobytes().hex(), 'numel': v.numel(),
                   'sum': float(v.double().sum())} for k, v in sd.items()]))
`, [path]);
  const sd = await readPth(path);
  assert.deepEqual([...sd.keys()], ref.map((r) => r.name));
  for (const r of ref) {
    const v = typedView(sd.get(r.name)!) as Float32Array;
    assert.equal(v.length, r.numel, r.name);
    assert.equal(Buffer.from(v.buffer, v.byteOffset, 16).toString('hex'), r.hex_head, r.name);
    let sum = 0;
    for (const x of v) sum += x;
    assert.ok(Math.abs(sum - r.sum) <= 1e-9 * Math.max(1, Math.abs(r.sum)) + 1e-3, `${r.name}: ${sum} vs ${r.sum}`);
  }
});

test('two zip entries over the same bytes are refused (each would get its own file-sized buffer)', async () => {
  const views: ViewSpec[] = [
    { name: 'a', storage: '0', size: [4], stride: [1] },
    { name: 'b', storage: '1', size: [4], stride: [1] },
  ];
  const file = storedZip([
    { name: 'archive/data.pkl', data: stateDictPickle(views, [{ key: '0', numel: 4 }, { key: '1', numel: 4 }]) },
    { name: 'archive/data/0', data: storageBytes(4) },
    { name: 'archive/data/1', aliasOf: 'archive/data/0' },
  ]);
  const path = join(dir, 'alias.pth');
  writeFileSync(path, file);
  await refused(readPth(path), /overlap/);
  await refused(decodePth(file), /overlap/);
});

test("a local header whose extra field runs into the next entry's bytes is refused", async () => {
  const views: ViewSpec[] = [
    { name: 'a', storage: '0', size: [1], stride: [1] },
    { name: 'b', storage: '1', size: [1], stride: [1] },
  ];
  // data/0 is a local header only, whose extra field swallows data/1's header: its data is data/1's.
  const spliced = storedZip([
    { name: 'archive/data.pkl', data: stateDictPickle(views, [{ key: '0', numel: 1 }, { key: '1', numel: 1 }]) },
    { name: 'archive/data/0', dataOf: 'archive/data/1' },
    { name: 'archive/data/1', data: storageBytes(1) },
  ]);
  await refused(decodePth(spliced), /overlap/);
});

test('two entries of one name are refused rather than one silently winning', async () => {
  const file = pthFile([{ name: 'a', storage: '0', size: [2], stride: [1] }], [{ key: '0', numel: 2 }], [
    { name: 'archive/data/0', data: storageBytes(2) },
  ]);
  await refused(decodePth(file), /two entries named "archive\/data\/0"/);
});

test('a storage whose element count times its size is past any file is refused by name', async () => {
  const views: ViewSpec[] = [{ name: 'w', storage: '0', size: [1], stride: [1] }];
  const file = storedZip([
    { name: 'archive/data.pkl', data: stateDictPickle(views, [{ key: '0', numel: 2 ** 52 }]) },
    { name: 'archive/data/0', data: storageBytes(4) },
  ]);
  await refused(decodePth(file), /storage data\/0 has 16 bytes/);
});
