import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderSample } from '../../../src/data/synth/render.js';
import { SYNTH_OBJECTS } from '../../../src/data/synth/objects/index.js';
import type { SynthObject } from '../../../src/data/synth/types.js';

const SIZE = 128;
const objects = Object.values(SYNTH_OBJECTS) as SynthObject[];

test('one object per VisA domain, each with several defect classes', () => {
  assert.deepEqual(objects.map((o) => o.domain).sort(), ['complex structure', 'multiple instances', 'single instance']);
  for (const o of objects) assert.ok(o.defectClasses.length >= 5, o.name);
  const all = objects.flatMap((o) => o.defectClasses).join(' ');
  for (const kind of ['scratch', 'spot', 'stain', 'crack', 'missing', 'misplaced', 'contamination', 'particle']) assert.match(all, new RegExp(kind), kind);
});

test('a defect image differs from its defect-free twin only inside its mask, and visibly inside it', () => {
  for (const o of objects) {
    for (let id = 1; id <= o.defectClasses.length; id++) {
      for (const index of [0, 1]) {
        const r = renderSample(o, { seed: 11, size: SIZE, index: index * 10 + id, defects: [id] });
        const mask = r.classMask as Uint8Array;
        let inside = 0;
        let maxInside = 0;
        for (let p = 0; p < SIZE * SIZE; p++) {
          let d = 0;
          for (let c = 0; c < 3; c++) d = Math.max(d, Math.abs((r.image[p * 3 + c] as number) - (r.twin[p * 3 + c] as number)));
          if (mask[p] === 0) assert.equal(d, 0, `${o.name} class ${id}: pixel ${p} changed outside the mask`);
          else {
            assert.equal(mask[p], id, `${o.name}: mask value ${mask[p]} where class ${id} was drawn`);
            inside++;
            maxInside = Math.max(maxInside, d);
          }
        }
        assert.ok(inside >= 6, `${o.name} class ${id}: mask has ${inside} pixels`);
        assert.ok(inside < 0.08 * SIZE * SIZE, `${o.name} class ${id}: mask covers ${((100 * inside) / SIZE / SIZE).toFixed(1)}% of the image`);
        assert.ok(maxInside >= 20, `${o.name} class ${id}: strongest change inside the mask only ${maxInside} grey levels`);
      }
    }
  }
});

test('two defects of different classes get their own ids in one mask', () => {
  const o = SYNTH_OBJECTS['tealight'] as SynthObject;
  const r = renderSample(o, { seed: 3, size: SIZE, index: 0, defects: [2, 4] });
  const ids = new Set(r.classMask);
  assert.ok(ids.has(2) && ids.has(4), `ids ${[...ids].join(',')}`);
});

test('normal images: no mask, twin identical; they vary in pose and light; rendering is deterministic', () => {
  for (const o of objects) {
    const a = renderSample(o, { seed: 5, size: SIZE, index: 0, defects: [] });
    assert.equal(a.classMask, null);
    assert.deepEqual(a.twin, a.image);
    assert.deepEqual(renderSample(o, { seed: 5, size: SIZE, index: 0, defects: [] }).image, a.image);
    const b = renderSample(o, { seed: 5, size: SIZE, index: 1, defects: [] });
    let sum = 0;
    for (let i = 0; i < a.image.length; i++) sum += Math.abs((a.image[i] as number) - (b.image[i] as number));
    assert.ok(sum / a.image.length > 2, `${o.name}: two normal images differ by only ${(sum / a.image.length).toFixed(2)} grey levels on average`);
  }
});
