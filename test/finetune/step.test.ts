import '../helpers/one-thread.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.js';
import { resnet18 } from '../../src/models/resnet.js';
import { Finetuner } from '../../src/finetune/train.js';
import { Random } from '../../src/util/random.js';
import { runWithFloats, shipState } from '../helpers/float-blob.js';

// One fine-tuning step (views of 4 images at 32 px, CutPaste anomalies, all three loss terms,
// Adam with the head at 10× the backbone's learning rate) in spotdiff and in PyTorch from the
// same weights and the same views: the loss terms, every gradient and every updated parameter.
// PyTorch's side is written independently from the definitions (torchvision's resnet18, its
// own NT-Xent / cosine / InfoNCE). One Python run, one thread on both sides.

const TOL = 1e-4;
const LR = 1e-4;

const PYTHON = String.raw`
m = torchvision.models.resnet18()
own = m.state_dict()
m.load_state_dict({name: take(shape).to(own[name].dtype) for name, shape in meta['backbone']}, strict=True)
head = torch.nn.Sequential(torch.nn.Linear(512, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128))
head.load_state_dict({name: take(shape) for name, shape in meta['head']}, strict=True)
first, second, anomalies = (take(meta['viewShape']) for _ in range(3))
m.fc = torch.nn.Identity()   # the pooled features
m.eval()                     # BatchNorm on its running statistics, as spotdiff's fine-tuning
tau, wc, wn = meta['temperature'], meta['crossWeight'], meta['negativeWeight']

def nt_xent(z1, z2):
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    s = (z @ z.t() / tau).masked_fill(torch.eye(2 * n, dtype=torch.bool), float('-inf'))
    return F.cross_entropy(s, torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]))
def info_nce(q, k, neg):
    q, k, neg = F.normalize(q, dim=1), F.normalize(k, dim=1), F.normalize(neg, dim=1)
    logits = torch.cat([(q * k).sum(1, keepdim=True), q @ neg.t()], 1) / tau
    return F.cross_entropy(logits, torch.zeros(q.shape[0], dtype=torch.long))

backbone_params = [p for _, p in m.named_parameters()]
opt = torch.optim.Adam([{'params': backbone_params, 'lr': meta['lr']}, {'params': list(head.parameters()), 'lr': meta['lr'] * 10}], lr=meta['lr'], foreach=False)
opt.zero_grad(set_to_none=True)
b = first.shape[0]
z = head(m(torch.cat([first, second, anomalies])))
z1, z2, za = z[:b], z[b:2 * b], z[2 * b:]
con = nt_xent(z1, z2)
cross = (1 - F.cosine_similarity(z1, z2[torch.tensor(meta['partners'])], dim=1)).mean()
neg = 0.5 * (info_nce(z1, z2, za) + info_nce(z2, z1, za))
loss = con + wc * cross + wn * neg
loss.backward()
opt.step()
named = dict(list(m.named_parameters()) + [('head.' + k, v) for k, v in head.named_parameters()])
outs = [torch.tensor([loss.item(), con.item(), cross.item(), neg.item()])]
outs += [named[n].grad for n in meta['params']]
outs += [named[n].detach() for n in meta['params']]
open(OUT, 'wb').write(b''.join(t.to(torch.float32).contiguous().numpy().tobytes() for t in outs))
print(json.dumps({'offset': offset, 'total': raw.numel()}))
`;

/** max |a − b| / max |b|, the per-tensor relative error of test/models. */
function relError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] as number) - (b[i] as number)));
    scale = Math.max(scale, Math.abs(b[i] as number));
  }
  return scale === 0 ? diff : diff / scale;
}

test('one fine-tuning step (resnet18, 32 px, batch 4, three loss terms, Adam) matches PyTorch: loss terms, gradients, updated weights', (t) => {
  T.manualSeed(0);
  const model = resnet18();
  const rng = new Random(11);
  const shots = T.keep(T.tensor(Float32Array.from({ length: 3 * 3 * 32 * 32 }, () => rng.float()), [3, 3, 32, 32]));
  const tuner = new Finetuner(model, { steps: 1, batch: 4, views: 'strong', negatives: 'cutpaste', lr: LR, seed: 7, loss: { crossInstance: 0.5, negative: 0.8, temperature: 0.3 } });
  try {
    const views = tuner.views(shots, 0);
    const params: [string, T.Tensor][] = [...model.namedParameters().filter(([n]) => !n.startsWith('fc.')), ...tuner.head.namedParameters('head.')];
    // Ship the starting weights and the views.
    const chunks: Float32Array[] = [];
    const backbone = shipState(model.stateDict(), chunks);
    const head = shipState(tuner.head.stateDict(), chunks);
    for (const v of [views.first, views.second, views.anomalies!]) chunks.push(v.toFloat32());
    const meta = { backbone, head, viewShape: [...views.first.shape], partners: views.partners, params: params.map(([n]) => n), lr: LR, temperature: 0.3, crossWeight: 0.5, negativeWeight: 0.8 };
    const { stdout, out } = runWithFloats(PYTHON, meta, chunks, 'spotdiff-finetune-step-');
    const done = JSON.parse(stdout) as { offset: number; total: number };
    assert.equal(done.offset, done.total, 'Python read every shipped value');

    const losses = tuner.step(views);
    T.dispose(views);
    const ref = Array.from(out.subarray(0, 4));
    const got = [losses.total, losses.contrastive, losses.cross!, losses.negative!];
    got.forEach((v, i) => assert.ok(Math.abs(v - ref[i]!) <= TOL * Math.max(1, Math.abs(ref[i]!)), `loss term ${i}: ${v} vs PyTorch ${ref[i]}`));

    let pos = 4;
    let worstGrad = 0;
    let worstGradName = '';
    const sizes = params.map(([, p]) => p.size);
    for (const [i, [name, p]] of params.entries()) {
      const e = relError(T.tidy(() => p.grad!.toFloat32()), out.subarray(pos, pos + sizes[i]!));
      if (e > worstGrad) [worstGrad, worstGradName] = [e, name];
      pos += sizes[i]!;
    }
    let worstParam = 0;
    let worstParamName = '';
    for (const [i, [name, p]] of params.entries()) {
      const a = p.toFloat32();
      const b = out.subarray(pos, pos + sizes[i]!);
      for (let j = 0; j < b.length; j++) {
        const d = Math.abs(a[j]! - b[j]!);
        if (d > worstParam) [worstParam, worstParamName] = [d, name];
      }
      pos += sizes[i]!;
    }
    assert.equal(pos, out.length);
    t.diagnostic(
      `loss ${losses.total.toFixed(6)} (PyTorch ${ref[0]!.toFixed(6)}: contrastive ${ref[1]!.toFixed(5)}, cross ${ref[2]!.toFixed(5)}, negative ${ref[3]!.toFixed(5)}); ` +
        `worst gradient error ${worstGrad.toExponential(2)} (max|Δ|/max|g|, ${worstGradName}); worst updated-weight difference ${worstParam.toExponential(2)} (${worstParamName}); ${params.length} parameter tensors`,
    );
    assert.ok(worstGrad <= TOL, `gradient of ${worstGradName} differs by ${worstGrad} relative`);
    assert.ok(worstParam <= TOL, `updated ${worstParamName} differs by ${worstParam}`);
    assert.ok(model.namedParameters().filter(([n]) => n.startsWith('fc.')).every(([, p]) => p.grad === null), 'fc is not used');
  } finally {
    tuner.dispose();
    model.dispose();
    shots.dispose();
  }
});
