import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../src/tensor/index.js';
import { TorchReference, refOutputs } from '../../helpers/torch-ref.js';

// gridSample against torch.nn.functional.grid_sample: every mode and padding, points inside,
// on and beyond the border, both align_corners.
T.manualSeed(3);
const x = T.keep(T.rand([2, 3, 7, 9]));
const grid = T.keep(T.sub(T.mul(T.rand([2, 5, 6, 2]), 2.4), 1.2));
const ref = new TorchReference();
ref.input('x', x);
ref.input('g', grid);
const cases: [T.GridSampleMode, T.GridSamplePadding, boolean][] = [];
for (const mode of ['bilinear', 'nearest', 'bicubic'] as const) {
  for (const padding of ['zeros', 'border', 'reflection'] as const) {
    for (const align of [false, true]) {
      cases.push([mode, padding, align]);
      ref.case(`${mode}-${padding}-${align}`, `import torch.nn.functional as F\nout = F.grid_sample(x, g, mode='${mode}', padding_mode='${padding}', align_corners=${align ? 'True' : 'False'})`);
    }
  }
}
const results = ref.run();

test('gridSample equals F.grid_sample (modes, paddings, align_corners) to 1e-5', () => {
  for (const [mode, padding, align] of cases) {
    const want = refOutputs(results, `${mode}-${padding}-${align}`)[0]!;
    const got = T.gridSample(x, grid, mode, padding, align);
    assert.deepEqual(got.shape, [2, 3, 5, 6]);
    const g = got.toFloat32();
    const d = Math.max(...Array.from(g, (v, i) => Math.abs(v - (want.values[i] as number))));
    assert.ok(d <= 1e-5, `${mode} ${padding} ${align}: ${d}`);
  }
});

test('gridSample refuses a grid of another batch or last size, and unknown modes', () => {
  assert.throws(() => T.gridSample(x, T.zeros([1, 5, 6, 2])), { code: 'ERR_SHAPE' });
  assert.throws(() => T.gridSample(x, T.zeros([2, 5, 6, 3])), { code: 'ERR_SHAPE' });
  assert.throws(() => T.gridSample(x, grid, 'area' as T.GridSampleMode), { code: 'ERR_BAD_INPUT' });
});
