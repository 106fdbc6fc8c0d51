import '../helpers/one-thread.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { readSafetensors, toFloat32 } from '../../src/tensor/io/index.js';
import { runPython } from '../helpers/python.js';
import { PY_REFERENCE_THREADS } from '../helpers/threads.js';
import { repoRoot, tempDir } from '../helpers/tmp.js';
import { assertRelClose, relativeError, type RefArray } from '../models/torchvision-ref.js';

const dir = tempDir();
const cli = join(repoRoot, 'dist/src/cli/main.js');

function spotdiff(args: string[]): { status: number | null; stdout: string; stderr: string } {
  // One thread on both sides (helpers/one-thread sets it in this process's environment, which the CLI inherits).
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A smooth, colourful test picture (gradients and rings) as 8-bit RGB. */
async function writePicture(path: string, width: number, height: number): Promise<void> {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const r = Math.hypot(x - width / 3, y - height / 2);
      rgb[i] = (x * 255) / (width - 1);
      rgb[i + 1] = 128 + 127 * Math.sin(r / 3);
      rgb[i + 2] = ((x + y) * 7) % 256;
    }
  }
  await sharp(rgb, { raw: { width, height, channels: 3 } }).png().toFile(path);
}

const square = join(dir, 'square64.png');
const oblong = join(dir, 'oblong.png');
await writePicture(square, 64, 64);
await writePicture(oblong, 90, 70);

// PyTorch's side, independent of ours: PIL decodes, torchvision's Resize((N, N)) (a no-op on an
// N×N image), ToTensor and Normalize(ImageNet) preprocess; torchvision's resnet18 runs in eval mode.
const pth = join(dir, 'resnet18.pth');
const manifest = JSON.parse(
  runPython(
    `
import json, sys, torch, torchvision
from PIL import Image
import torchvision.transforms as tf
${PY_REFERENCE_THREADS}
d = sys.argv[1]
torch.manual_seed(0)
m = torchvision.models.resnet18().eval()
torch.save(m.state_dict(), d + '/resnet18.pth')
pre = tf.Compose([tf.Resize((64, 64)), tf.ToTensor(), tf.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
out, pos = {}, 0
with open(d + '/ref.bin', 'wb') as f, torch.no_grad():
    for tag in ['square64', 'oblong']:
        x = pre(Image.open(d + '/' + tag + '.png').convert('RGB')).unsqueeze(0)
        s = m.layer1(m.maxpool(m.relu(m.bn1(m.conv1(x)))))
        l2 = m.layer2(s)
        l3 = m.layer3(l2)
        for name, v in [('layer2', l2), ('layer3', l3), ('fc', m(x))]:
            b = v.contiguous().numpy().tobytes()
            out[tag + '.' + name] = {'shape': list(v.shape), 'offset': pos, 'bytes': len(b)}
            f.write(b)
            pos += len(b)
print(json.dumps(out))
`,
    [dir],
  ),
) as Record<string, { shape: number[]; offset: number; bytes: number }>;
const raw = readFileSync(join(dir, 'ref.bin'));
function reference(name: string): RefArray {
  const e = manifest[name]!;
  const values = new Float32Array(e.bytes / 4);
  new Uint8Array(values.buffer).set(raw.subarray(e.offset, e.offset + e.bytes));
  return { shape: e.shape, values };
}

async function savedLayers(path: string): Promise<Map<string, { shape: readonly number[]; values: Float32Array; dtype: string }>> {
  const { tensors } = await readSafetensors(path);
  return new Map([...tensors].map(([k, h]) => [k, { shape: h.shape, values: toFloat32(h), dtype: h.dtype }]));
}

test('features of an N×N image (not resampled) equal PyTorch\'s: names, [1,C,H,W] shapes, values to 1e-4 (max|a-b|/max|b|)', async () => {
  const out = join(dir, 'square.safetensors');
  const r = spotdiff(['features', '--backbone', 'resnet18', '--weights', pth, '--image', square, '--size', '64', '--layers', 'layer2,layer3,fc', '--out', out, '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /warning/);
  const summary = JSON.parse(r.stdout) as { layers: Record<string, number[]>; backbone: string };
  assert.deepEqual(summary.layers, { layer2: [1, 128, 8, 8], layer3: [1, 256, 4, 4], fc: [1, 1000] });
  const saved = await savedLayers(out);
  assert.deepEqual([...saved.keys()].sort(), ['fc', 'layer2', 'layer3']);
  for (const name of ['layer2', 'layer3', 'fc']) {
    assert.equal(saved.get(name)!.dtype, 'float32');
    assertRelClose(name, saved.get(name)!, reference(`square64.${name}`), 1e-4);
  }
});

test('an image of another size is resized to N×N first (bilinear with antialiasing, close to PIL\'s)', async () => {
  const out = join(dir, 'oblong.safetensors');
  const r = spotdiff(['features', '--backbone', 'resnet18', '--weights', pth, '--image', oblong, '--size', '64', '--layers', 'layer2,layer3', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /layer2: \[1, 128, 8, 8\]/);
  const saved = await savedLayers(out);
  // libvips' and PIL's resamplers differ by a fraction of a grey level; the features follow.
  for (const name of ['layer2', 'layer3']) {
    const err = relativeError(saved.get(name)!.values, reference(`oblong.${name}`).values);
    if (process.env.SPOTDIFF_SHOW_ERRORS) process.stderr.write(`resized ${name}: max|a-b|/max|b| = ${err.toExponential(2)}\n`);
    assert.ok(err < 0.02, `${name}: relative error ${err} against PIL-resized features`);
  }
});

test('without --weights: random init (seeded) and a warning on stderr; the same seed gives the same features', async () => {
  const a = join(dir, 'rand-a.safetensors');
  const b = join(dir, 'rand-b.safetensors');
  for (const out of [a, b]) {
    const r = spotdiff(['features', '--backbone', 'resnet18', '--image', square, '--size', '64', '--layers', 'layer1', '--seed', '5', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /warning: no --weights.*random weights \(seed 5\)/);
  }
  assert.deepEqual((await savedLayers(a)).get('layer1')!.values, (await savedLayers(b)).get('layer1')!.values);
});

test('usage errors exit 2; missing files and bad images exit 1 with a clear message; no output file is left', () => {
  const out = join(dir, 'never.safetensors');
  const notImage = join(dir, 'not-an-image.png');
  writeFileSync(notImage, 'hello');
  const cases: [string[], number, RegExp][] = [
    [['--backbone', 'resnet34', '--image', square], 2, /unknown backbone "resnet34"; choose one of resnet18, resnet50, wide_resnet50_2/],
    [['--backbone', 'resnet18', '--image', square, '--layers', 'layer2,conv9'], 2, /unknown layer "conv9"/],
    [['--backbone', 'resnet18'], 2, /--image is required/],
    [['--backbone', 'resnet18', '--image', join(dir, 'missing.png')], 1, /image not found: .*missing\.png/],
    [['--backbone', 'resnet18', '--image', square, '--weights', join(dir, 'missing.pth')], 1, /weights file not found: .*missing\.pth/],
    [['--backbone', 'resnet18', '--image', notImage], 1, /cannot decode image .*not-an-image\.png/],
    [['--backbone', 'resnet18', '--image', square, '--weights', notImage], 1, /neither a PyTorch zip checkpoint/],
  ];
  for (const [args, status, message] of cases) {
    const r = spotdiff(['features', ...args, '--size', '64', '--out', out]);
    assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  }
  assert.equal(existsSync(out), false);
});
