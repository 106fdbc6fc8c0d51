import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelComponents } from '../../src/metrics/components.js';
import { Random } from '../../src/util/random.js';
import { pythonJson } from '../helpers/python.js';

// Reference: scipy.ndimage.label, structure np.ones((3, 3)) (8-connectivity, what the MVTec AD
// evaluation code uses for PRO regions) and its default cross (4-connectivity). Both number
// components in raster order of their first pixel, so the label images must be identical.
test('connected components equal scipy.ndimage.label for 8- and 4-connectivity', () => {
  const rng = new Random(5);
  const cases = [0.05, 0.3, 0.5, 0.7].map((density, k) => {
    const width = 7 + rng.int(40);
    const height = 1 + rng.int(30) + (k === 0 ? 20 : 0);
    return { width, height, mask: Array.from({ length: width * height }, () => (rng.chance(density) ? 1 : 0)) };
  });
  cases.push({ width: 4, height: 4, mask: [1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1] }); // checkerboard
  cases.push({ width: 5, height: 1, mask: [1, 1, 0, 1, 1] });
  const ref = pythonJson<{ l8: number[]; n8: number; l4: number[]; n4: number }[]>(
    `
import json, sys
import numpy as np
from scipy.ndimage import label
out = []
for c in json.loads(sys.argv[1]):
    m = np.array(c['mask'], dtype=np.uint8).reshape(c['height'], c['width'])
    l8, n8 = label(m, structure=np.ones((3, 3), dtype=int))
    l4, n4 = label(m)
    out.append(dict(l8=l8.ravel().tolist(), n8=int(n8), l4=l4.ravel().tolist(), n4=int(n4)))
print(json.dumps(out))
`,
    [JSON.stringify(cases)],
  );
  cases.forEach((c, i) => {
    const r = ref[i]!;
    const c8 = labelComponents(c.mask, c.width, c.height, 8);
    const c4 = labelComponents(c.mask, c.width, c.height, 4);
    assert.equal(c8.count, r.n8, `case ${i} 8-connected count`);
    assert.deepEqual(Array.from(c8.labels), r.l8, `case ${i} 8-connected labels`);
    assert.equal(c4.count, r.n4, `case ${i} 4-connected count`);
    assert.deepEqual(Array.from(c4.labels), r.l4, `case ${i} 4-connected labels`);
    for (let l = 1; l <= c8.count; l++) assert.equal(c8.sizes[l], r.l8.filter((v) => v === l).length);
  });
  assert.equal(ref[4]!.n8, 1, 'a checkerboard is one 8-connected component');
  assert.equal(ref[4]!.n4, 8);
});
