import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPython } from '../helpers/python.js';
import { PY_REFERENCE_THREADS } from '../helpers/threads.js';

/**
 * PyTorch's own answers for a torchvision ResNet, computed by Debian's torchvision in one
 * Python run: the model is made with torch.manual_seed(0) and saved with
 * torch.save(m.state_dict(), <dir>/<arch>.pth); an input drawn from its own seeded generator
 * (or read from a float32 file) goes through the model in eval mode (stem, layer1..layer4,
 * avgpool, logits) and, if asked, in train mode (batch statistics), whose updated BatchNorm
 * buffers are reported too, as are the gradients of one cross-entropy step (labels 3, 7, ...).
 * Tensors come back as raw float32.
 */

export interface RefArray {
  shape: number[];
  values: Float32Array;
}

export interface TorchvisionRef {
  pthPath: string;
  input: RefArray;
  /** eval.layer1..eval.layer4, eval.avgpool, eval.logits; train.* likewise; trainBuffers.<state dict name>; grad.loss, grad.<parameter>. */
  outputs: Map<string, RefArray>;
}

const PROGRAM = String.raw`
import json, sys, torch, torchvision
arch, out_dir, shape, train, input_path = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4] == '1', sys.argv[5]
${PY_REFERENCE_THREADS}
torch.manual_seed(0)
m = getattr(torchvision.models, arch)()
torch.save(m.state_dict(), out_dir + '/' + arch + '.pth')
if input_path:
    x = torch.frombuffer(bytearray(open(input_path, 'rb').read()), dtype=torch.float32).reshape(shape)
else:
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(1))
outs = {'input': x}
def run(tag):
    s = m.maxpool(m.relu(m.bn1(m.conv1(x))))
    for i, layer in enumerate([m.layer1, m.layer2, m.layer3, m.layer4]):
        s = layer(s)
        outs[tag + '.layer' + str(i + 1)] = s
    outs[tag + '.avgpool'] = m.avgpool(s)
    outs[tag + '.logits'] = m.fc(torch.flatten(outs[tag + '.avgpool'], 1))
with torch.no_grad():
    m.eval()
    run('eval')
    assert torch.equal(outs['eval.logits'], m(x))
    if train:
        m.train()
        run('train')
        for k, v in m.state_dict().items():
            if 'running' in k or 'num_batches' in k:
                outs['trainBuffers.' + k] = v.clone()
if train:
    # one training step's gradients: cross-entropy against labels 3, 7, 11, ... (batch statistics)
    y = torch.arange(x.shape[0]) * 4 + 3
    loss = torch.nn.functional.cross_entropy(m(x), y)
    loss.backward()
    outs['grad.loss'] = loss.detach().reshape(1)
    for k, p in m.named_parameters():
        outs['grad.' + k] = p.grad
manifest, pos = {}, 0
with open(out_dir + '/ref.bin', 'wb') as f:
    for k, v in outs.items():
        b = v.detach().to(torch.float32).contiguous().numpy().tobytes()
        manifest[k] = {'shape': list(v.shape), 'offset': pos, 'bytes': len(b)}
        f.write(b)
        pos += len(b)
print(json.dumps(manifest))
`;

export function torchvisionReference(
  arch: string,
  dir: string,
  opts: { inputShape: readonly number[]; train?: boolean; inputFile?: string },
): TorchvisionRef {
  const manifest = JSON.parse(
    runPython(PROGRAM, [arch, dir, JSON.stringify(opts.inputShape), opts.train ? '1' : '0', opts.inputFile ?? '']),
  ) as Record<string, { shape: number[]; offset: number; bytes: number }>;
  const raw = readFileSync(join(dir, 'ref.bin'));
  const outputs = new Map<string, RefArray>();
  for (const [k, e] of Object.entries(manifest)) {
    const values = new Float32Array(e.bytes / 4);
    new Uint8Array(values.buffer).set(raw.subarray(e.offset, e.offset + e.bytes));
    outputs.set(k, { shape: e.shape, values });
  }
  const input = outputs.get('input');
  assert.ok(input);
  outputs.delete('input');
  return { pthPath: join(dir, `${arch}.pth`), input, outputs };
}

/** max|a − b| / max|b|: the error relative to the reference's scale (0 when both are all zero). */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length, `${actual.length} values, expected ${expected.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (Number.isNaN(a) || Number.isNaN(e)) return Infinity;
    diff = Math.max(diff, Math.abs(a - e));
    scale = Math.max(scale, Math.abs(e));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Same shape and max|a − b| / max|b| ≤ tol (SPOTDIFF_SHOW_ERRORS=1 prints each error). */
export function assertRelClose(label: string, actual: { shape: readonly number[]; values: ArrayLike<number> }, expected: RefArray, tol: number): void {
  assert.deepEqual([...actual.shape], expected.shape, `${label}: shape [${actual.shape.join(', ')}], expected [${expected.shape.join(', ')}]`);
  const err = relativeError(actual.values, expected.values);
  if (process.env.SPOTDIFF_SHOW_ERRORS) process.stderr.write(`${label}: max|a-b|/max|b| = ${err.toExponential(2)}\n`);
  assert.ok(err <= tol, `${label}: max|a-b|/max|b| = ${err.toExponential(3)} > ${tol}`);
}
