import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { outputStems } from '../../src/util/output-names.js';

const stems = (inputs: string[]) => [...outputStems(inputs).values()];

test('a.png, a-1.png and dir2/a.png get three different names: their paths below the common folder', () => {
  assert.deepEqual(stems(['/in/a.png', '/in/a-1.png', '/in/dir2/a.png']), ['a', 'a-1', join('dir2', 'a')]);
  assert.deepEqual(stems(['/in/dir2/a.png', '/in/a.png', '/in/a-1.png']), [join('dir2', 'a'), 'a', 'a-1']);
});

test('one input, or inputs in one folder, are named by their file names', () => {
  assert.deepEqual(stems(['/deep/folder/x.png']), ['x']);
  assert.deepEqual(stems(['/p/q/x.png', '/p/q/y.jpg']), ['x', 'y']);
  assert.deepEqual(stems(['/a.png', '/b/a.png']), ['a', join('b', 'a')]);
});

test('inputs that differ only by extension keep it, also when that meets another name', () => {
  assert.deepEqual(stems(['/in/a.png', '/in/a.jpg', '/in/b.png']), ['a.png', 'a.jpg', 'b']);
  assert.deepEqual(stems(['/in/a.png', '/in/a.jpg', '/in/a.png.tif']), ['a.png', 'a.jpg', 'a.png.tif']);
});

test('the same input given twice is one input', () => {
  assert.deepEqual(stems(['/in/a.png', '/in/./a.png', '/in/b.png']), ['a', 'b']);
});
