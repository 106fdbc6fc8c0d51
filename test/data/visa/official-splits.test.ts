import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { prepareVisa } from '../../../src/data/visa/prepare.js';
import { mapLimit } from '../../../src/data/visa/parallel.js';
import { defectClassesFile, officialSplitFile } from '../../../src/data/visa/facts.js';
import { scratchDir } from './scratch.js';
import { classIdPng, maskIds, SPLIT_TYPE_NAMES, tinyJpeg, type SplitTypeName } from './raw-tree.js';

/**
 * Real-data compatibility: a raw tree (without split_csv/, so the shipped official split is the
 * default) holding every image and mask path of the three official split files (10,821 images, 1,200 masks; tiny generated JPEGs, class-id masks with the ids of
 * defect_classes.json), prepared with each split type. The counts per object, split and label
 * on disk must equal the CSV's. The CSV lines are counted here with a plain split (the
 * published files hold no quotes), independently of the parser under test.
 */

interface CsvLine {
  object: string;
  split: string;
  label: string;
  image: string;
  mask: string;
}

async function officialLines(type: SplitTypeName): Promise<CsvLine[]> {
  const text = await readFile(officialSplitFile(type), 'utf8');
  return text
    .split(/\r?\n/)
    .slice(1)
    .filter((l) => l !== '')
    .map((l) => {
      const [object, split, label, image, mask] = l.split(',') as [string, string, string, string, string];
      return { object, split, label, image, mask };
    });
}

function key(...parts: string[]): string {
  return parts.join(' ');
}

test('every path of the official split files prepares with each split type; counts per object, split and label match the CSVs', async () => {
  const started = Date.now();
  const dir = scratchDir();
  const root = join(dir, 'VisA');
  const lines = Object.fromEntries(await Promise.all(SPLIT_TYPE_NAMES.map(async (t) => [t, await officialLines(t)] as const))) as Record<string, CsvLine[]>;
  const defectIds = JSON.parse(await readFile(defectClassesFile, 'utf8')) as Record<string, Record<string, string>>;

  // The raw tree: one JPEG's bytes everywhere, one PNG per class id, each path written once.
  const images = new Set<string>();
  const masks = new Map<string, string>();
  for (const t of SPLIT_TYPE_NAMES) {
    for (const l of lines[t] as CsvLine[]) {
      images.add(l.image);
      if (l.mask !== '') masks.set(l.mask, l.object);
    }
  }
  assert.equal(images.size, 10821);
  assert.equal(masks.size, 1200);
  const jpeg = await tinyJpeg(128);
  const pngById = new Map<number, Buffer>();
  const maskBytes = new Map<string, Buffer>();
  let n = 0;
  for (const [mask, object] of masks) {
    const ids = Object.keys(defectIds[object] ?? {}).map(Number).filter((id) => id > 0);
    assert.ok(ids.length > 0, `defect ids for ${object}`);
    const id = ids[n++ % ids.length] as number;
    if (!pngById.has(id)) pngById.set(id, await classIdPng(maskIds(id), 8, 8));
    maskBytes.set(mask, pngById.get(id) as Buffer);
  }
  const folders = new Set([...images, ...masks.keys()].map((p) => dirname(join(root, p))));
  for (const f of folders) await mkdir(f, { recursive: true });
  await mapLimit([...images], 64, (p) => writeFile(join(root, p), jpeg));
  await mapLimit([...maskBytes], 64, ([p, bytes]) => writeFile(join(root, p), bytes));
  // No split_csv/ in the tree: prepare falls back to the official split shipped in data/visa/.
  const built = Date.now();

  const timings: string[] = [];
  for (const splitType of SPLIT_TYPE_NAMES) {
    const t0 = Date.now();
    const save = join(dir, 'prepared');
    const summary = await prepareVisa({ splitType, dataFolder: root, saveFolder: save, progress: false, concurrency: 32 });
    timings.push(`${splitType} ${Date.now() - t0} ms`);
    assert.equal(summary.splitFile, officialSplitFile(splitType));

    // Expected counts from the CSV.
    const want = new Map<string, number>();
    for (const l of lines[splitType] as CsvLine[]) want.set(key(l.object, l.split, l.label), (want.get(key(l.object, l.split, l.label)) ?? 0) + 1);
    const objects = [...new Set((lines[splitType] as CsvLine[]).map((l) => l.object))].sort();
    assert.equal(objects.length, 12);
    assert.deepEqual(Object.keys(summary.counts).sort(), objects);

    const out = join(save, splitType);
    assert.deepEqual((await readdir(out)).sort(), objects);
    for (const object of objects) {
      for (const split of ['train', 'test']) {
        for (const label of ['normal', 'anomaly'] as const) {
          const expected = want.get(key(object, split, label)) ?? 0;
          const summaryCount = (summary.counts[object] as Record<string, Record<string, number>>)[split]?.[label];
          assert.equal(summaryCount, expected, `${splitType} summary ${object} ${split} ${label}`);
          const folder = join(out, object, split, label === 'normal' ? 'good' : 'bad');
          const onDisk = (await readdir(folder).catch(() => [])).length;
          assert.equal(onDisk, expected, `${splitType} files in ${object}/${split}/${label === 'normal' ? 'good' : 'bad'}`);
          if (label === 'anomaly') {
            // 1cls keeps masks of test anomalies in ground_truth/bad; 2cls per split.
            const gt = splitType === '1cls' ? join(out, object, 'ground_truth', 'bad') : join(out, object, 'ground_truth', split, 'bad');
            if (splitType !== '1cls' || split === 'test') assert.equal((await readdir(gt)).length, expected, `${splitType} masks ${object} ${split}`);
          }
        }
      }
    }
    // A few masks decoded: one channel, 0/255, the 4×4 class-id quarter marked.
    const sample = (lines[splitType] as CsvLine[]).filter((l) => l.mask !== '' && (splitType !== '1cls' || l.split === 'test')).filter((_, i) => i % 200 === 0);
    for (const l of sample) {
      const name = l.mask.split('/').pop() as string;
      const path = splitType === '1cls' ? join(out, l.object, 'ground_truth', 'bad', name) : join(out, l.object, 'ground_truth', l.split, 'bad', name);
      const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
      const values = new Set<number>();
      let defect = 0;
      for (let i = 0; i < data.length; i += info.channels) {
        values.add(data[i] as number);
        if (data[i] === 255) defect++;
      }
      assert.deepEqual([...values].sort((a, b) => a - b), [0, 255], path);
      assert.equal(defect, 16, path);
    }
    if (splitType === '1cls') {
      // A re-run finds everything in place.
      const again = await prepareVisa({ splitType, dataFolder: root, saveFolder: save, progress: false, concurrency: 32 });
      assert.deepEqual([again.images.copied, again.masks.written, again.images.upToDate], [0, 0, 10821]);
    }
    await rm(out, { recursive: true, force: true });
  }
  process.stderr.write(`# official splits: tree built in ${built - started} ms; prepare ${timings.join(', ')}; total ${Date.now() - started} ms\n`);
});
