import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { prepareVisa } from '../../../src/data/visa/prepare.js';
import { officialSplitFile } from '../../../src/data/visa/facts.js';
import { readPrepared } from '../../../src/data/datasets/prepared.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { pythonJson } from '../../helpers/python.js';
import { tempDir } from '../../helpers/tmp.js';
import { SPLIT_TYPE_NAMES, splitCsvText, writeBytes, writeRawTree, type RawRow, type SplitTypeName } from './raw-tree.js';
import { listFiles } from './tree-files.js';

// An independent reading of the official prepare_data.py, in Python with PIL and numpy: copy each
// image to <object>/<split>/{good,bad}/, binarise masks (non-zero -> 255) into ground_truth/bad/
// (1cls, test anomalies) or ground_truth/<split>/bad/ (2cls). It then compares its tree with ours:
// the same file names, byte-identical images, and masks with identical pixel values.
const REFERENCE = `
import csv, json, os, shutil, sys
import numpy as np
from PIL import Image
split_type, data, save, split_file, ours = sys.argv[1:6]
out = os.path.join(save, split_type)
with open(split_file, newline='') as f:
    rows = list(csv.reader(f))[1:]
for obj, split, label, image, mask in rows:
    cls = 'good' if label == 'normal' else 'bad'
    dst = os.path.join(out, obj, split, cls)
    os.makedirs(dst, exist_ok=True)
    shutil.copyfile(os.path.join(data, image), os.path.join(dst, os.path.basename(image)))
    if cls == 'bad' and (split_type != '1cls' or split == 'test'):
        gt = os.path.join(out, obj, 'ground_truth', *(['bad'] if split_type == '1cls' else [split, 'bad']))
        os.makedirs(gt, exist_ok=True)
        a = np.array(Image.open(os.path.join(data, mask)))
        a[a != 0] = 255
        Image.fromarray(a).save(os.path.join(gt, os.path.basename(mask)))
def files(root):
    return sorted(os.path.relpath(os.path.join(d, n), root) for d, _, ns in os.walk(root) for n in ns)
ref_files, our_files = files(out), files(ours)
differ, modes, values = [], set(), set()
for rel in set(ref_files) & set(our_files):
    a, b = os.path.join(out, rel), os.path.join(ours, rel)
    if rel.endswith('.png'):
        ra, rb = np.array(Image.open(a)).astype(np.int64), Image.open(b)
        modes.add(rb.mode)
        rb = np.array(rb).astype(np.int64)
        values.update(int(v) for v in np.unique(rb))
        if ra.shape != rb.shape or not (ra == rb).all(): differ.append(rel)
    elif open(a, 'rb').read() != open(b, 'rb').read():
        differ.append(rel)
print(json.dumps({'refFiles': ref_files, 'ourFiles': our_files, 'differ': sorted(differ), 'maskModes': sorted(modes), 'maskValues': sorted(values)}))
`;

interface Comparison {
  refFiles: string[];
  ourFiles: string[];
  differ: string[];
  maskModes: string[];
  maskValues: number[];
}

function expectedCounts(rows: readonly RawRow[]): Record<string, Record<string, Record<string, number>>> {
  const c: Record<string, Record<string, Record<string, number>>> = {};
  for (const r of rows) {
    const o = (c[r.object] ??= { train: { normal: 0, anomaly: 0 }, test: { normal: 0, anomaly: 0 } });
    (o[r.split] as Record<string, number>)[r.label]++;
  }
  return c;
}

const quiet = { progress: false } as const;

test('each split type gives the official layout: same files, same image bytes, masks binarised to 0/255', async () => {
  const dir = tempDir();
  const tree = await writeRawTree(join(dir, 'VisA'));
  for (const splitType of SPLIT_TYPE_NAMES) {
    const save = join(dir, 'out');
    const summary = await prepareVisa({ splitType, dataFolder: tree.root, saveFolder: save, ...quiet });
    assert.deepEqual(summary.counts, expectedCounts(tree.rows[splitType]), splitType);
    assert.equal(summary.splitFile, join(tree.root, 'split_csv', `${splitType}.csv`), 'the dataset\'s own split file comes first');
    assert.equal(summary.images.copied, tree.rows[splitType].length);
    const cmp = pythonJson<Comparison>(REFERENCE, [splitType, tree.root, join(dir, 'ref'), join(tree.root, 'split_csv', `${splitType}.csv`), join(save, splitType)]);
    assert.deepEqual(cmp.ourFiles, cmp.refFiles, splitType);
    assert.deepEqual(cmp.differ, [], splitType);
    assert.deepEqual(cmp.maskModes, ['L']);
    assert.deepEqual(cmp.maskValues, [0, 255]);
    // The layout spelled out, independently of both implementations, for one object.
    const files = await listFiles(join(save, splitType, 'candle'));
    const anomalies = tree.rows[splitType].filter((r) => r.object === 'candle' && r.label === 'anomaly');
    for (const r of anomalies) {
      const name = r.image.split('/').pop() as string;
      const maskName = r.mask.split('/').pop() as string;
      assert.ok(files.includes(`${r.split}/bad/${name}`));
      assert.ok(files.includes(splitType === '1cls' ? `ground_truth/bad/${maskName}` : `ground_truth/${r.split}/bad/${maskName}`), `${splitType} ${maskName}`);
    }
    // The official script creates these folders for every object, empty or not.
    const folders = splitType === '1cls' ? ['train/good', 'test/good', 'test/bad', 'ground_truth/bad'] : ['train/good', 'train/bad', 'test/good', 'test/bad', 'ground_truth/train/bad', 'ground_truth/test/bad'];
    for (const f of folders) assert.ok((await stat(join(save, splitType, 'pcb1', f))).isDirectory(), f);
    // The project's prepared-layout reader finds every image, and a mask for every anomaly.
    const dataset = await readPrepared(join(save, splitType));
    assert.equal(dataset.samples.length, tree.rows[splitType].length);
    const anomalies1 = dataset.samples.filter((x) => x.label === 'anomaly');
    assert.equal(anomalies1.length, tree.rows[splitType].filter((r) => r.label === 'anomaly' && (splitType !== '1cls' || r.split === 'test')).length);
    assert.ok(anomalies1.every((x) => x.mask !== null));
  }
});

test('a 16-bit class-id mask keeps small ids as defects (not scaled to 0)', async () => {
  const dir = tempDir();
  const tree = await writeRawTree(join(dir, 'VisA'), { objects: ['candle'], normals: 2, anomalies: 1 });
  await prepareVisa({ splitType: '1cls', dataFolder: tree.root, saveFolder: join(dir, 'out'), ...quiet });
  const { data, info } = await sharp(join(dir, 'out', '1cls', 'candle', 'ground_truth', 'bad', '000.png')).raw().toBuffer({ resolveWithObject: true });
  let defects = 0;
  for (let i = 0; i < data.length; i += info.channels) if (data[i] === 255) defects++;
  assert.equal(defects, 16); // the 4×4 top-left quarter holds id 1
});

test('a re-run skips what is already right, repairs what is not, and removes leftovers of an interrupted run', async () => {
  const dir = tempDir();
  const tree = await writeRawTree(join(dir, 'VisA'));
  const save = join(dir, 'out');
  const first = await prepareVisa({ splitType: '2cls_highshot', dataFolder: tree.root, saveFolder: save, ...quiet });
  const n = tree.rows['2cls_highshot'].length;
  const m = tree.rows['2cls_highshot'].filter((r) => r.label === 'anomaly').length;
  assert.deepEqual([first.images, first.masks], [{ copied: n, upToDate: 0 }, { written: m, upToDate: 0 }]);
  const out = join(save, '2cls_highshot');
  const image = join(out, 'candle', 'train', 'good', '0000.JPG');
  const before = await stat(image);

  const second = await prepareVisa({ splitType: '2cls_highshot', dataFolder: tree.root, saveFolder: save, ...quiet });
  assert.deepEqual([second.images, second.masks], [{ copied: 0, upToDate: n }, { written: 0, upToDate: m }]);
  assert.equal((await stat(image)).ino, before.ino, 'an up-to-date file is not rewritten');

  // A changed source image, a damaged output mask and a leftover temporary file.
  const src = join(tree.root, 'candle', 'Data', 'Images', 'Normal', '0000.JPG');
  await writeFile(src, await readFile(join(tree.root, 'candle', 'Data', 'Images', 'Normal', '0001.JPG')));
  await utimes(src, new Date(), new Date(Date.now() + 5000));
  const mask = join(out, 'pcb1', 'ground_truth', 'test', 'bad', '004.png');
  await writeFile(mask, 'not a png');
  const leftover = join(out, 'candle', 'test', 'good', '.0009.JPG.tmp-12345-0123abcd');
  await writeFile(leftover, 'half');
  const third = await prepareVisa({ splitType: '2cls_highshot', dataFolder: tree.root, saveFolder: save, ...quiet });
  assert.deepEqual([third.images, third.masks, third.removedTempFiles], [{ copied: 1, upToDate: n - 1 }, { written: 1, upToDate: m - 1 }, 1]);
  assert.deepEqual(await readFile(image), await readFile(src));
  assert.equal(existsSync(leftover), false);
  assert.deepEqual((await listFiles(out)).filter((f) => f.split('/').some((p) => p.startsWith('.'))), []);
});

test('a changed split: files that left it are removed (no image in both train and test), nothing else of the user\'s', async () => {
  const dir = tempDir();
  const tree = await writeRawTree(join(dir, 'VisA'), { objects: ['candle'] });
  const save = join(dir, 'out');
  const out = join(save, '2cls_highshot');
  await prepareVisa({ splitType: '2cls_highshot', dataFolder: tree.root, saveFolder: save, ...quiet });
  // The user's own files: beside the split folders, in an object folder, in a folder prepare does not make.
  const mine = ['notes.txt', '2cls_highshot/candle/notes.txt', '2cls_highshot/candle/test/crack/x.JPG', 'other/train/good/0000.JPG', '2cls_highshot/pcb9/train/good/0000.JPG'];
  for (const f of mine) await writeBytes(join(save, f), 'mine');

  // The changed split: a normal image and an anomaly (with its mask) move from train to test,
  // another anomaly leaves the split.
  const rows = tree.rows['2cls_highshot'].map((r) => ({ ...r }));
  const movedNormal = rows.find((r) => r.split === 'train' && r.label === 'normal') as RawRow;
  const trainAnomalies = rows.filter((r) => r.split === 'train' && r.label === 'anomaly');
  const [movedAnomaly, dropped] = trainAnomalies as [RawRow, RawRow];
  movedNormal.split = 'test';
  movedAnomaly.split = 'test';
  const changed = join(dir, 'changed.csv');
  await writeBytes(changed, splitCsvText(rows.filter((r) => r !== dropped)));
  const summary = await prepareVisa({ splitType: '2cls_highshot', dataFolder: tree.root, saveFolder: save, splitFile: changed, ...quiet });

  const name = (p: string): string => p.split('/').pop() as string;
  const files = await listFiles(join(out, 'candle'));
  assert.ok(files.includes(`test/good/${name(movedNormal.image)}`));
  assert.ok(!files.includes(`train/good/${name(movedNormal.image)}`), 'the moved image is only in test');
  assert.ok(files.includes(`test/bad/${name(movedAnomaly.image)}`) && files.includes(`ground_truth/test/bad/${name(movedAnomaly.mask)}`));
  assert.ok(!files.includes(`train/bad/${name(movedAnomaly.image)}`) && !files.includes(`ground_truth/train/bad/${name(movedAnomaly.mask)}`));
  assert.ok(!files.some((f) => f.endsWith(`/${name(dropped.image)}`) || f.endsWith(`/${name(dropped.mask)}`)), 'the dropped anomaly and its mask are gone');
  assert.equal(summary.removedFiles, 5, 'the moved normal, the moved anomaly and its mask, the dropped anomaly and its mask');

  // The managed folders now hold exactly what a fresh prepare of the changed split gives.
  const fresh = join(dir, 'fresh');
  await prepareVisa({ splitType: '2cls_highshot', dataFolder: tree.root, saveFolder: fresh, splitFile: changed, ...quiet });
  const userFiles = new Set(mine.map((f) => f.replace(/^2cls_highshot\//, '')));
  assert.deepEqual((await listFiles(out)).filter((f) => !userFiles.has(f)), await listFiles(join(fresh, '2cls_highshot')));
  for (const f of mine) assert.equal(await readFile(join(save, f), 'utf8'), 'mine', `${f} survives`);
  assert.deepEqual(summary.otherObjects, ['pcb9']);
});

async function rejectsWith(promise: Promise<unknown>, code: Parameters<typeof isSpotdiffError>[1], patterns: RegExp[]): Promise<string> {
  let message = '';
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(isSpotdiffError(e, code), `expected ${code}, got ${String(e)}`);
    message = e.message;
    return true;
  });
  for (const p of patterns) assert.match(message, p);
  return message;
}

test('a broken split file: every problem reported at once, with line numbers, before anything is written', async () => {
  const dir = tempDir();
  const tree = await writeRawTree(join(dir, 'VisA'), { objects: ['candle'], normals: 3, anomalies: 2 });
  const csv = [
    'object,split,label,image,mask',
    'candle,train,normal,candle/Data/Images/Normal/0000.JPG,', // 2: fine
    'candle,train,good,candle/Data/Images/Normal/0001.JPG,', // 3: bad label
    'candle,val,normal,candle/Data/Images/Normal/0002.JPG,', // 4: bad split
    'candle,train,normal,candle/Data/Images/Normal/0000.JPG,', // 5: duplicate of line 2
    'candle,test,normal,../outside/0003.JPG,', // 6: leaves the root
    'candle,test,normal,/etc/0004.JPG,', // 7: absolute
    'candle,test,anomaly,candle/Data/Images/Anomaly/000.JPG,', // 8: anomaly without mask
    'candle,test,normal,candle/Data/Images/Normal/0005.JPG,candle/Data/Masks/Anomaly/000.png', // 9: normal with mask
    'candle,test,anomaly,candle/Data/Images/Anomaly/001.JPG', // 10: 4 fields
    '"candle",test,anomaly,"candle/Data/Images/Anomaly/002.JPG","candle/Data/Masks/Anomaly/../x.png"', // 11: quoted, mask escapes
    'candle,train,anomaly,candle/Data/Images/Anomaly/003.JPG,candle/Data/Masks/Anomaly/003.png', // 12: anomaly in 1cls train
  ].join('\r\n');
  const file = join(dir, 'broken.csv');
  await writeBytes(file, csv);
  const save = join(dir, 'out');
  const message = await rejectsWith(prepareVisa({ splitType: '1cls', dataFolder: tree.root, saveFolder: save, splitFile: file, ...quiet }), 'ERR_BAD_CSV', [
    /line 3: label "good"/,
    /line 4: split "val"/,
    /line 5: duplicate: image .* line 2/,
    /line 6: image path "\.\.\/outside\/0003\.JPG" contains '\.\.'/,
    /line 7: image path "\/etc\/0004\.JPG" is absolute/,
    /line 8: anomalous image has no mask/,
    /line 9: normal image has a mask/,
    /line 10: 4 field\(s\), the header has 5/,
    /line 11: mask path .* contains '\.\.'/,
    /line 12: 1cls trains on normal images only/,
  ]);
  assert.doesNotMatch(message, /line 2:/);
  assert.match(message, /10 problem\(s\)/);
  assert.equal(existsSync(save), false, 'nothing written');
});

test('split file problems of the whole file: missing columns, an unterminated quote, no rows, no file', async () => {
  const dir = tempDir();
  const tree = await writeRawTree(join(dir, 'VisA'), { objects: ['candle'], normals: 2, anomalies: 1 });
  const run = (name: string, text: string | null, splitType: SplitTypeName = '1cls') => {
    const file = join(dir, name);
    return (async () => {
      if (text !== null) await writeBytes(file, text);
      return prepareVisa({ splitType, dataFolder: tree.root, saveFolder: join(dir, 'out'), splitFile: file, ...quiet });
    })();
  };
  await rejectsWith(run('cols.csv', 'object,split,image\ncandle,train,candle/Data/Images/Normal/0000.JPG\n'), 'ERR_BAD_CSV', [/missing column\(s\) label, mask/]);
  await rejectsWith(run('quote.csv', 'object,split,label,image,mask\ncandle,train,normal,"candle/Data/Images/Normal/0000.JPG,\n'), 'ERR_BAD_CSV', [/unterminated quoted field/]);
  await rejectsWith(run('empty.csv', ''), 'ERR_BAD_CSV', [/empty/]);
  await rejectsWith(run('header-only.csv', 'object,split,label,image,mask\r\n'), 'ERR_BAD_CSV', [/no data rows/]);
  await rejectsWith(run('absent.csv', null), 'ERR_NOT_FOUND', [/absent\.csv/]);
  await rejectsWith(prepareVisa({ splitType: '1cls', dataFolder: join(dir, 'out'), saveFolder: join(dir, 'x'), ...quiet }), 'ERR_NOT_FOUND', [/data folder/]);
  // Without DATA/split_csv/<type>.csv the default is the official split shipped with spotdiff;
  // a folder without VisA's images then says which split it read and that it came with spotdiff.
  const noCsv = join(dir, 'bare');
  await writeBytes(join(noCsv, 'candle', 'image_anno.csv'), 'image,label,mask\n');
  const message = await rejectsWith(prepareVisa({ splitType: '2cls_fewshot', dataFolder: noCsv, saveFolder: join(dir, 'x'), ...quiet }), 'ERR_NOT_FOUND', [
    /the official VisA split shipped with spotdiff/,
    /has no split_csv\/2cls_fewshot\.csv/,
    /missing image .*candle\/Data\/Images\/Normal\//,
  ]);
  assert.ok(message.startsWith(officialSplitFile('2cls_fewshot')), message.slice(0, 200));
  assert.equal(existsSync(join(dir, 'x')), false, 'nothing written');
  assert.equal(existsSync(join(dir, 'out')), false);
});

test('name collisions in the prepared layout are errors (same name, or names differing only in case)', async () => {
  const dir = tempDir();
  const tree = await writeRawTree(join(dir, 'VisA'), { objects: ['candle'], normals: 3, anomalies: 1 });
  const other = 'candle/Data/Images/Extra/0000.JPG';
  const upper = 'candle/Data/Images/Extra/0001.jpg';
  await writeBytes(join(tree.root, other), await readFile(join(tree.root, 'candle/Data/Images/Normal/0001.JPG')));
  await writeBytes(join(tree.root, upper), await readFile(join(tree.root, 'candle/Data/Images/Normal/0001.JPG')));
  const rows: RawRow[] = [
    { object: 'candle', split: 'train', label: 'normal', image: 'candle/Data/Images/Normal/0000.JPG', mask: '' },
    { object: 'candle', split: 'train', label: 'normal', image: 'candle/Data/Images/Normal/0001.JPG', mask: '' },
    { object: 'candle', split: 'train', label: 'normal', image: other, mask: '' },
    { object: 'candle', split: 'train', label: 'normal', image: upper, mask: '' },
  ];
  const file = join(dir, 'collide.csv');
  await writeBytes(file, splitCsvText(rows));
  await rejectsWith(prepareVisa({ splitType: '1cls', dataFolder: tree.root, saveFolder: join(dir, 'out'), splitFile: file, ...quiet }), 'ERR_BAD_CSV', [
    /line 4: name collision: prepares to "candle\/train\/good\/0000\.JPG", as line 2 does/,
    /line 5: name collision: .*0001\.jpg.*line 3.*differ only in case/,
  ]);
});

test('missing files are all reported at once, before anything is written', async () => {
  const dir = tempDir();
  const tree = await writeRawTree(join(dir, 'VisA'));
  const { rm } = await import('node:fs/promises');
  await rm(join(tree.root, 'candle/Data/Images/Normal/0003.JPG'));
  await rm(join(tree.root, 'pcb1/Data/Images/Anomaly/002.JPG'));
  await rm(join(tree.root, 'pcb1/Data/Masks/Anomaly/004.png'));
  const save = join(dir, 'out');
  const message = await rejectsWith(prepareVisa({ splitType: '2cls_fewshot', dataFolder: tree.root, saveFolder: save, ...quiet }), 'ERR_NOT_FOUND', [
    /missing image .*candle\/Data\/Images\/Normal\/0003\.JPG/,
    /missing image .*pcb1\/Data\/Images\/Anomaly\/002\.JPG/,
    /missing mask .*pcb1\/Data\/Masks\/Anomaly\/004\.png/,
    /3 problem\(s\)/,
    /nothing was written/,
  ]);
  assert.match(message, /line \d+: missing/);
  assert.equal(existsSync(save), false);
});

test('unreadable masks (not an image, truncated) are all reported at once, before anything is written', async () => {
  const dir = tempDir();
  const tree = await writeRawTree(join(dir, 'VisA'));
  await writeFile(join(tree.root, 'candle/Data/Masks/Anomaly/001.png'), 'this is not a PNG');
  const good = await readFile(join(tree.root, 'pcb1/Data/Masks/Anomaly/003.png'));
  await writeFile(join(tree.root, 'pcb1/Data/Masks/Anomaly/003.png'), good.subarray(0, good.length - 30));
  const save = join(dir, 'out');
  await rejectsWith(prepareVisa({ splitType: '1cls', dataFolder: tree.root, saveFolder: save, ...quiet }), 'ERR_BAD_IMAGE', [
    /unreadable mask .*candle\/Data\/Masks\/Anomaly\/001\.png/,
    /unreadable mask .*pcb1\/Data\/Masks\/Anomaly\/003\.png/,
    /2 problem\(s\)/,
  ]);
  assert.equal(existsSync(save), false);
});

test('a save folder that cannot be created (a file is in the way) is a clear ERR_IO', async () => {
  // Tests run as root, so a read-only mode would not stop the writes; a regular file where a
  // folder must go fails for every user.
  const dir = tempDir();
  const tree = await writeRawTree(join(dir, 'VisA'), { objects: ['candle'], normals: 2, anomalies: 1 });
  await writeBytes(join(dir, 'blocker'), 'a file, not a folder');
  await rejectsWith(prepareVisa({ splitType: '1cls', dataFolder: tree.root, saveFolder: join(dir, 'blocker', 'out'), ...quiet }), 'ERR_IO', [
    /cannot write .*blocker\/out\/1cls/,
    /a parent of this path is a file/,
  ]);
});
