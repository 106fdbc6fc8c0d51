import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { tempDir } from '../helpers/tmp.js';
import { loadImage } from '../../src/data/image.js';
import { prepareUpload } from '../../src/serve/upload.js';
import { isSpotdiffError } from '../../src/util/errors.js';

test('an upload is preprocessed as the data loader preprocesses the same file (ImageNet-normalised, or in [0, 1])', async () => {
  const dir = tempDir();
  const path = join(dir, 'noise.png');
  const pixels = Uint8Array.from({ length: 80 * 60 * 3 }, (_, i) => (i * 7919) % 256);
  await sharp(pixels, { raw: { width: 80, height: 60, channels: 3 } }).png().toFile(path);
  const bytes = readFileSync(path);
  const expected = { width: 80, height: 60, channels: 3 };
  for (const [resize, normalize] of [[[32, 48], 'imagenet'], [[90, 120], 'imagenet'], [[60, 80], 'none']] as const) {
    const up = await prepareUpload(bytes, expected, resize, normalize);
    const ref = await loadImage(path, { resize: [resize[0], resize[1]], ...(normalize === 'none' ? { normalize: null } : {}) });
    assert.deepEqual([up.rgb.height, up.rgb.width], resize);
    assert.deepEqual(up.chw, ref.data, `${resize} ${normalize}`);
  }
  await assert.rejects(prepareUpload(bytes, { ...expected, width: 81 }, [32, 32]), (e) => isSpotdiffError(e, 'ERR_SHAPE') && /80×60 RGB, but the model was fitted on 81×60 RGB/.test((e as Error).message));
});
