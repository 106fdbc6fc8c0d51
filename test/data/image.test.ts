import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadImage, readRgb, resizeRgb } from '../../src/data/image.js';
import { loadMask, readMask } from '../../src/data/mask.js';
import { resizedSize } from '../../src/data/geometry.js';
import { isSpotdiffError } from '../../src/util/errors.js';
import { runPython } from '../helpers/python.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir();

// Reference images and torchvision/PIL outputs, written by Debian's Python (PIL + torchvision).
runPython(
  `
import sys, json, numpy as np
from PIL import Image
import torch
from torchvision import transforms as T
d = sys.argv[1]
rng = np.random.default_rng(0)
h, w = 480, 640
y, x = np.mgrid[0:h, 0:w]
img = np.zeros((h, w, 3))
for c in range(3):
    img[..., c] = 128 + 60 * np.sin(x / 37.0 + c) + 40 * np.cos(y / 23.0 * (c + 1))
for i in range(40):
    x0, y0, s = rng.integers(0, w - 50), rng.integers(0, h - 50), rng.integers(5, 50)
    img[y0:y0 + s, x0:x0 + s] = rng.integers(0, 256, 3)
img += rng.normal(0, 12, img.shape)
big = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
big.save(f'{d}/big.png')
small = big.resize((96, 72), Image.BILINEAR)
small.save(f'{d}/small.png')
def save(name, a): np.ascontiguousarray(a).tofile(f'{d}/{name}.bin')
# torchvision Resize on PIL: [h, w] targets, and the shorter-side form
for (hh, ww) in [(256, 341), (192, 256), (225, 300)]:
    save(f'big_{hh}x{ww}', np.array(T.Resize((hh, ww))(big)))
for (hh, ww) in [(200, 250), (144, 192), (150, 60)]:
    save(f'small_{hh}x{ww}', np.array(T.Resize((hh, ww))(small)))
save('big_short256', np.array(T.Resize(256)(big)))
norm = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
save('tv_256_224', T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), norm])(big).numpy())
# no resampling when already at size: the normalised tensor is exact
exact = big.crop((0, 0, 227, 225))
exact.save(f'{d}/exact.png')
save('tv_exact', T.Compose([T.Resize((225, 227)), T.CenterCrop(224), T.ToTensor(), norm])(exact).numpy())
save('tv_pad', T.Compose([T.CenterCrop((230, 233)), T.ToTensor(), norm])(exact).numpy())
# JPEG: same decoder family (libjpeg-turbo) on both sides
exact.save(f'{d}/exact.jpg', quality=90)
save('tv_jpeg', T.Compose([T.ToTensor(), norm])(Image.open(f'{d}/exact.jpg').convert('RGB')).numpy())
# greyscale, RGBA and palette inputs
big.convert('L').save(f'{d}/grey.png')
rgba = np.dstack([np.array(exact), rng.integers(0, 256, (225, 227), dtype=np.uint8)])
Image.fromarray(rgba, 'RGBA').save(f'{d}/rgba.png')
save('rgba_as_rgb', np.array(Image.open(f'{d}/rgba.png').convert('RGB')))
save('grey_as_rgb', np.array(Image.open(f'{d}/grey.png').convert('RGB')))
# masks: class ids, nearest resize
m = np.zeros((97, 131), np.uint8)
m[10:40, 20:70] = 1; m[50:60, 5:9] = 3; m[70:95, 100:129] = 255; m[33, 100] = 7
Image.fromarray(m).save(f'{d}/mask.png')
for (hh, ww) in [(64, 64), (200, 150), (97, 50)]:
    save(f'mask_{hh}x{ww}', (np.array(T.Resize((hh, ww), interpolation=T.InterpolationMode.NEAREST)(Image.fromarray(m))) != 0).astype(np.uint8))
m16 = np.zeros((20, 30), np.uint16); m16[2:5, 3:9] = 1; m16[10:12, 20:25] = 300
Image.fromarray(m16).save(f'{d}/mask16.png')
rgbm = np.zeros((6, 6, 3), np.uint8); rgbm[1, 1] = (0, 0, 1); rgbm[2, 2] = (1, 0, 0); rgbm[3, 3] = (0, 1, 0)
Image.fromarray(rgbm).save(f'{d}/mask_rgb.png')
pal = Image.fromarray(np.array([[0, 1, 2], [2, 0, 0]], np.uint8), 'P'); pal.putpalette([0, 0, 0, 10, 0, 0, 0, 0, 200] + [0] * 759)
pal.save(f'{d}/mask_palette.png')
`,
  [dir],
);

const bin = (name: string): Uint8Array => new Uint8Array(readFileSync(join(dir, `${name}.bin`)));
const binF32 = (name: string): Float32Array => {
  const b = readFileSync(join(dir, `${name}.bin`));
  return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
};

function diffStats(a: ArrayLike<number>, b: ArrayLike<number>): { mean: number; max: number } {
  assert.equal(a.length, b.length, 'lengths differ');
  let s = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    s += d;
    if (d > m) m = d;
  }
  return { mean: s / a.length, max: m };
}

test('downscaling matches PIL bilinear (torchvision Resize) within 0.5 grey levels on average, 4 at most', async () => {
  const big = await readRgb(join(dir, 'big.png'));
  for (const [h, w] of [[256, 341], [192, 256], [225, 300]] as const) {
    const out = await resizeRgb(big, { width: w, height: h });
    assert.equal(out.width, w);
    assert.equal(out.height, h);
    const { mean, max } = diffStats(out.data, bin(`big_${h}x${w}`));
    assert.ok(mean <= 0.5 && max <= 4, `${h}x${w}: mean ${mean.toFixed(3)} max ${max}`);
  }
  // the shorter-side form: 640×480 -> Resize(256) -> 341×256
  const size = resizedSize(640, 480, 256);
  assert.deepEqual(size, { width: 341, height: 256 });
  const { mean, max } = diffStats((await resizeRgb(big, size)).data, bin('big_short256'));
  assert.ok(mean <= 0.5 && max <= 4, `short side: mean ${mean} max ${max}`);
});

test('upscaling matches PIL exactly; mixed up/down within 4 levels', async () => {
  const small = await readRgb(join(dir, 'small.png'));
  for (const [h, w] of [[200, 250], [144, 192]] as const) {
    const { max } = diffStats((await resizeRgb(small, { width: w, height: h })).data, bin(`small_${h}x${w}`));
    assert.equal(max, 0, `${h}x${w} upscale differs by ${max}`);
  }
  // height grows 72 -> 150 (Pillow's algorithm in JS), width shrinks 96 -> 60 (sharp)
  const { mean, max } = diffStats((await resizeRgb(small, { width: 60, height: 150 })).data, bin('small_150x60'));
  assert.ok(mean <= 0.5 && max <= 4, `mixed: mean ${mean} max ${max}`);
});

test('Resize(256) + CenterCrop(224) + Normalize follows torchvision (tolerance: 4 grey levels after normalisation)', async () => {
  const t = await loadImage(join(dir, 'big.png'), { resize: 256, crop: 224 });
  assert.equal(t.width, 224);
  assert.equal(t.height, 224);
  const ref = binF32('tv_256_224');
  const { mean, max } = diffStats(t.data, ref);
  // one grey level is 1/255/std ≈ 0.0175 in normalised units
  assert.ok(max <= 4 / 255 / 0.224 + 1e-6, `max ${max}`);
  assert.ok(mean <= 0.5 / 255 / 0.224, `mean ${mean}`);
});

test('an image already at the target size is not resampled: the tensor equals torchvision to float32 rounding', async () => {
  const t = await loadImage(join(dir, 'exact.png'), { resize: [225, 227], crop: 224 });
  assert.ok(diffStats(t.data, binF32('tv_exact')).max <= 1e-6);
  // a crop larger than the image pads with zeros (before normalisation), as torchvision does
  const p = await loadImage(join(dir, 'exact.png'), { crop: [230, 233] });
  assert.equal(p.height, 230);
  assert.equal(p.width, 233);
  assert.ok(diffStats(p.data, binF32('tv_pad')).max <= 1e-6);
});

test('JPEG decoding agrees with PIL (both libjpeg-turbo): within 1 grey level', async () => {
  const t = await loadImage(join(dir, 'exact.jpg'));
  assert.ok(diffStats(t.data, binF32('tv_jpeg')).max <= 1 / 255 / 0.224 + 1e-6);
});

test('greyscale is replicated to RGB and alpha is dropped, as PIL convert("RGB")', async () => {
  const g = await readRgb(join(dir, 'grey.png'));
  assert.equal(diffStats(g.data, bin('grey_as_rgb')).max, 0);
  const a = await readRgb(join(dir, 'rgba.png'));
  assert.equal(diffStats(a.data, bin('rgba_as_rgb')).max, 0);
});

test('corrupt, truncated and non-image files give ERR_BAD_IMAGE naming the file; a missing one ERR_NOT_FOUND', async () => {
  const jpeg = readFileSync(join(dir, 'exact.jpg'));
  const cases: [string, Uint8Array][] = [
    ['truncated.jpg', jpeg.subarray(0, Math.floor(jpeg.length / 2))],
    ['text.png', new TextEncoder().encode('this is not an image\n')],
    ['garbage.jpg', Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8])],
    ['empty.png', new Uint8Array(0)],
  ];
  for (const [name, bytes] of cases) {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    await assert.rejects(loadImage(p, { resize: 64 }), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_IMAGE') && e.message.includes(p), name);
    await assert.rejects(readMask(p), (e: unknown) => isSpotdiffError(e, 'ERR_BAD_IMAGE') && e.message.includes(p), `${name} as mask`);
  }
  await assert.rejects(loadImage(join(dir, 'nope.png')), (e: unknown) => isSpotdiffError(e, 'ERR_NOT_FOUND') && e.message.includes('nope.png'));
});

test('masks: any non-zero value is 1, and nearest resizing matches PIL NEAREST exactly', async () => {
  const m = await readMask(join(dir, 'mask.png'));
  assert.equal(m.width, 131);
  assert.equal(m.height, 97);
  assert.equal(m.data[33 * 131 + 100], 1); // class id 7
  assert.equal(m.data[55 * 131 + 6], 1); // class id 3
  assert.equal(m.data[0], 0);
  for (const [h, w] of [[64, 64], [200, 150], [97, 50]] as const) {
    const r = await loadMask(join(dir, 'mask.png'), { resize: [h, w] });
    assert.equal(diffStats(r.data, bin(`mask_${h}x${w}`)).max, 0, `${h}x${w}`);
  }
  // 16-bit masks: class id 1 must stay non-zero (an 8-bit conversion would scale it to 0)
  const m16 = await readMask(join(dir, 'mask16.png'));
  let ones = 0;
  for (const v of m16.data) ones += v;
  assert.equal(ones, 3 * 6 + 2 * 5);
  // colour masks: the faintest non-black colours still count (blue has the smallest luminance weight)
  const rgb = await readMask(join(dir, 'mask_rgb.png'));
  assert.deepEqual([...rgb.data].map((v, i) => (v ? i : -1)).filter((i) => i >= 0), [7, 14, 21]);
  const pal = await readMask(join(dir, 'mask_palette.png'));
  assert.deepEqual([...pal.data], [0, 1, 1, 1, 0, 0]);
});
