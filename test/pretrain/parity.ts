import assert from 'node:assert/strict';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../../src/tensor/index.js';
import { SGD } from '../../src/nn/index.js';
import { readLoss, type PretrainMethod, type PretrainViews } from '../../src/pretrain/index.js';
import { Random } from '../../src/util/random.js';
import { runPython } from '../helpers/python.js';
import { PY_REFERENCE_THREADS } from '../helpers/threads.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Runs a few optimisation steps of a pre-training method in spotdiff and the same steps in
 * PyTorch, on the same initial state (every parameter and buffer, shipped as raw bytes) and
 * the same views (drawn once by makeViews in spotdiff and shipped), with SGD (momentum 0.9,
 * weight decay 1e-4) in both. The Python side is written from the papers' official code, not
 * from spotdiff's: torchvision's ResNet, nn.BatchNorm1d, F.cosine_similarity, einsum logits.
 * One Python start per call.
 *
 * Where the reference Python (Debian's python3-torch) runs the libtorch the addon links, one
 * thread on both sides (test/helpers/one-thread.ts) gives the same bits for the same ops:
 * SimSiam, SimCLR and supervised steps agree exactly; MoCo's differ by ~1e-6 (its einsum
 * logits and momentum update are computed in another order). checkParity asserts that, and
 * the tests' tolerances for any other build.
 *
 * Those tolerances only mean something where the steps are well conditioned. A batch of 4 at
 * 32 px is not: layer4 (1×1) and the projector's BatchNorm1d normalise each channel over 4
 * values, some with a batch variance near BatchNorm's eps, so 1/σ multiplies every rounding
 * difference and the large first step carries it into the second: in PyTorch alone, one ulp
 * on one input pixel, or another thread count, moved two SimSiam steps by more than the
 * tolerance. The tests use batches of 8, where those perturbations stay far below it and
 * dropping or flipping the SPD term stays far above it.
 */

const PYTHON = String.raw`
import json, sys
import torch, torchvision
import torch.nn as nn
import torch.nn.functional as F
${PY_REFERENCE_THREADS}
meta = json.load(open(sys.argv[1]))
raw = open(sys.argv[2], 'rb').read()
DT = {'float32': torch.float32, 'int64': torch.int64}
def load(s):
    if s is None: return None
    t = torch.frombuffer(bytearray(raw[s['offset']:s['offset'] + s['bytes']]), dtype=DT[s['dtype']])
    return t.reshape(s['shape']).clone()
state = {s['name']: load(s) for s in meta['state']}
steps = [{k: load(v) for k, v in s.items()} for s in meta['steps']]
c = meta['config']
m = c['method']
eta = c['spd']['eta']
ce = c['spd']['objective'] == 'cross-entropy'
FEAT = {'resnet18': 512, 'resnet50': 2048, 'wide_resnet50_2': 2048}[c['arch']]

def pooled(b, x):
    x = b.maxpool(b.relu(b.bn1(b.conv1(x))))
    x = b.layer4(b.layer3(b.layer2(b.layer1(x))))
    return torch.flatten(b.avgpool(x), 1)

class Encoder(nn.Module):
    def __init__(self, head):
        super().__init__()
        self.backbone = getattr(torchvision.models, c['arch'])()
        self.head = head
    def forward(self, x):
        return self.head(pooled(self.backbone, x))

def mlp(dim):
    return nn.Sequential(nn.Linear(FEAT, FEAT), nn.ReLU(inplace=True), nn.Linear(FEAT, dim))

net = nn.Module()
if m == 'simsiam':
    d, pd = c['dim'], c['predDim']
    net.encoder = Encoder(nn.Sequential(
        nn.Linear(FEAT, FEAT, bias=False), nn.BatchNorm1d(FEAT), nn.ReLU(inplace=True),
        nn.Linear(FEAT, FEAT, bias=False), nn.BatchNorm1d(FEAT), nn.ReLU(inplace=True),
        nn.Linear(FEAT, d, bias=False), nn.BatchNorm1d(d, affine=False)))
    net.predictor = nn.Sequential(nn.Linear(d, pd, bias=False), nn.BatchNorm1d(pd), nn.ReLU(inplace=True), nn.Linear(pd, d))
elif m == 'moco':
    net.encoder = Encoder(mlp(c['dim']))
    net.key_encoder = Encoder(mlp(c['dim']))
    for p in net.key_encoder.parameters():
        p.requires_grad = False
    net.register_buffer('queue', torch.zeros(c['dim'], c['queueSize']))
    net.register_buffer('queue_ptr', torch.zeros(1, dtype=torch.long))
elif m == 'simclr':
    net.encoder = Encoder(mlp(c['dim']))
elif m == 'supervised':
    net.backbone = getattr(torchvision.models, c['arch'])(num_classes=c['numClasses'])
if eta > 0 and ce:
    net.spd_head = nn.Linear(FEAT, 2)
net.load_state_dict(state, strict=True)
net.train()
backbone = net.backbone if m == 'supervised' else net.encoder.backbone
pending = []

def base_loss(v):
    if m == 'simsiam':
        z1, z2 = net.encoder(v['first']), net.encoder(v['second'])
        p1, p2 = net.predictor(z1), net.predictor(z2)
        return -(F.cosine_similarity(p1, z2.detach(), dim=1).mean() + F.cosine_similarity(p2, z1.detach(), dim=1).mean()) * 0.5
    if m == 'moco':
        q = F.normalize(net.encoder(v['first']), dim=1)
        with torch.no_grad():
            k = F.normalize(net.key_encoder(v['second']), dim=1)
        pending.append(k)
        l_pos = torch.einsum('nc,nc->n', [q, k]).unsqueeze(-1)
        l_neg = torch.einsum('nc,ck->nk', [q, net.queue.clone().detach()])
        logits = torch.cat([l_pos, l_neg], dim=1) / c['temperature']
        return F.cross_entropy(logits, torch.zeros(logits.shape[0], dtype=torch.long))
    if m == 'simclr':
        z1, z2 = net.encoder(v['first']), net.encoder(v['second'])
        n = z1.shape[0]
        z = F.normalize(torch.cat([z1, z2]), dim=1)
        sim = (z @ z.t() / c['temperature']).masked_fill(torch.eye(2 * n, dtype=torch.bool), float('-inf'))
        return F.cross_entropy(sim, torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]))
    return F.cross_entropy(net.backbone(v['first']), v['labels'])

def spd_loss(v):
    if eta == 0:
        return None
    if not ce:
        z, zp, zn = net.encoder(v['anchor']), net.encoder(v['positive']), net.encoder(v['negative'])
        return (F.cosine_similarity(z, zn, dim=1) - F.cosine_similarity(z, zp, dim=1)).mean()
    fp, fn = pooled(backbone, v['positive']), pooled(backbone, v['negative'])
    n = fp.shape[0]
    return F.cross_entropy(net.spd_head(torch.cat([fp, fn])), torch.cat([torch.zeros(n, dtype=torch.long), torch.ones(n, dtype=torch.long)]))

def after_step():
    if m != 'moco':
        return
    mom = c['keyMomentum']
    with torch.no_grad():
        for pq, pk in zip(net.encoder.parameters(), net.key_encoder.parameters()):
            pk.data = pk.data * mom + pq.data * (1. - mom)
        k = pending.pop()
        bs, ptr = k.shape[0], int(net.queue_ptr)
        assert c['queueSize'] % bs == 0
        net.queue[:, ptr:ptr + bs] = k.T
        net.queue_ptr[0] = (ptr + bs) % c['queueSize']

opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=c['lr'], momentum=0.9, weight_decay=1e-4)
losses = []
for v in steps:
    opt.zero_grad(set_to_none=True)
    base = base_loss(v)
    spd = spd_loss(v)
    total = base if spd is None else base + eta * spd
    total.backward()
    opt.step()
    after_step()
    losses.append({'total': total.item(), 'base': base.item(), 'spd': 0.0 if spd is None else spd.item()})
final = net.state_dict()
chunks, out, pos = [], {}, 0
for name in meta['compare']:
    b = final[name].detach().double().contiguous().numpy().tobytes()
    out[name] = {'shape': list(final[name].shape), 'offset': pos, 'bytes': len(b)}
    chunks.append(b)
    pos += len(b)
open(sys.argv[3], 'wb').write(b''.join(chunks))
library = next(l.split()[-1] for l in open('/proc/self/maps') if 'libtorch_cpu' in l)
print(json.dumps({'losses': losses, 'compare': out, 'library': __import__('os').path.realpath(library)}))
`;

interface Spec {
  name?: string;
  shape: number[];
  dtype: 'float32' | 'int64';
  offset: number;
  bytes: number;
}

class Shipment {
  readonly chunks: Buffer[] = [];
  bytes = 0;
  add(t: T.Tensor): Spec {
    const d = t.dtype === 'int64' ? t.data() : t.toFloat32();
    if (!(d instanceof Float32Array || d instanceof BigInt64Array)) throw new Error(`cannot ship ${t.dtype}`);
    const buf = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
    const spec: Spec = { shape: [...t.shape], dtype: t.dtype === 'int64' ? 'int64' : 'float32', offset: this.bytes, bytes: buf.length };
    this.chunks.push(Buffer.from(buf));
    this.bytes += buf.length;
    return spec;
  }
}

export interface StepLosses {
  total: number;
  base: number;
  spd: number;
}

export interface ParityResult {
  spotdiff: StepLosses[];
  pytorch: StepLosses[];
  /** Per compared tensor: max |spotdiff − PyTorch|, and that divided by max |PyTorch − initial| (the error relative to what the steps changed). */
  tensors: { name: string; absError: number; changed: number; relToChange: number }[];
  /** Live tensors after the first and the last step. */
  live: number[];
  /** Whether PyTorch ran the very libtorch the addon links (then one thread on both sides gives the same bits). */
  sameLibrary: boolean;
}

export interface ParityOptions {
  images: T.Tensor;
  labels: T.Tensor | null;
  steps: number;
  lr: number;
  /** Settings the Python side needs (method, arch, spd, dims, temperature, ...). */
  config: Record<string, unknown>;
  /** State-dict names to compare after the steps. */
  compare: readonly string[];
  seed: number;
}

/** Runs the steps in spotdiff and in PyTorch; the method's current state is the common start. */
export function runParity(method: PretrainMethod, o: ParityOptions): ParityResult {
  const ship = new Shipment();
  const stateSpecs: Spec[] = [];
  const initial = new Map<string, Float32Array>();
  for (const [name, t] of method.module.stateDict()) {
    stateSpecs.push({ name, ...ship.add(t) });
    if (o.compare.includes(name)) initial.set(name, Float32Array.from(t.toFloat32()));
  }
  const opt = new SGD(
    method.parameterGroups().map((g) => ({ params: g.params })),
    { lr: o.lr, momentum: 0.9, weightDecay: 1e-4 },
  );
  const rng = new Random(o.seed);
  const stepSpecs: Record<string, Spec | null>[] = [];
  const spotdiff: StepLosses[] = [];
  const live: number[] = [];
  method.module.train();
  for (let s = 0; s < o.steps; s++) {
    T.tidy(() => {
      const v: PretrainViews = method.makeViews(o.images, o.labels, rng);
      stepSpecs.push({
        first: ship.add(v.first),
        second: v.second === null ? null : ship.add(v.second),
        labels: v.labels === null ? null : ship.add(v.labels),
        anchor: v.spd === null ? null : ship.add(v.spd.anchor),
        positive: v.spd === null ? null : ship.add(v.spd.positive),
        negative: v.spd === null ? null : ship.add(v.spd.negative),
      });
      opt.zeroGrad();
      const l = method.loss(v);
      l.total.backward();
      opt.step();
      method.afterStep();
      spotdiff.push(readLoss(l));
    });
    live.push(T.liveTensorCount());
  }
  opt.dispose();

  const dir = tempDir('spotdiff-pretrain-');
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ state: stateSpecs, steps: stepSpecs, config: { ...o.config, lr: o.lr }, compare: o.compare }));
  writeFileSync(join(dir, 'in.bin'), Buffer.concat(ship.chunks));
  const ref = JSON.parse(runPython(PYTHON, [join(dir, 'meta.json'), join(dir, 'in.bin'), join(dir, 'out.bin')])) as {
    losses: StepLosses[];
    library: string;
    compare: Record<string, { shape: number[]; offset: number; bytes: number }>;
  };
  const out = readFileSync(join(dir, 'out.bin'));
  const own = method.module.stateDict();
  const tensors = o.compare.map((name) => {
    const r = ref.compare[name]!;
    const expected = new Float64Array(r.bytes / 8);
    Buffer.from(expected.buffer).set(out.subarray(r.offset, r.offset + r.bytes));
    const t = own.get(name);
    if (t === undefined) throw new Error(`no tensor ${name} in spotdiff's state dict`);
    const actual = t.toFloat32();
    if (actual.length !== expected.length) throw new Error(`${name}: ${actual.length} values, PyTorch has ${expected.length}`);
    const init = initial.get(name)!;
    let absError = 0;
    let changed = 0;
    for (let i = 0; i < expected.length; i++) {
      absError = Math.max(absError, Math.abs(actual[i]! - expected[i]!));
      changed = Math.max(changed, Math.abs(expected[i]! - init[i]!));
    }
    return { name, absError, changed, relToChange: changed > 0 ? absError / changed : absError };
  });
  const sameLibrary = ref.library === realpathSync(T.engineInfo().libraryPath);
  return { spotdiff, pytorch: ref.losses, tensors, live, sameLibrary };
}

/** A one-line account of a parity run for t.diagnostic. */
export function describeParity(r: ParityResult): string {
  const lossErr = Math.max(...r.spotdiff.flatMap((l, i) => [Math.abs(l.total - r.pytorch[i]!.total), Math.abs(l.base - r.pytorch[i]!.base), Math.abs(l.spd - r.pytorch[i]!.spd)]));
  const worstAbs = Math.max(...r.tensors.map((t) => t.absError));
  const worstRel = Math.max(...r.tensors.map((t) => t.relToChange));
  return (
    `losses ${r.spotdiff.map((l) => `${l.total.toFixed(5)} (base ${l.base.toFixed(5)}, spd ${l.spd.toFixed(5)})`).join(' -> ')}; ` +
    `worst loss error ${lossErr.toExponential(2)}; worst parameter/buffer error ${worstAbs.toExponential(2)} abs, ${worstRel.toExponential(2)} of the change; live tensors per step ${r.live.join(', ')}; ` +
    `PyTorch ran ${r.sameLibrary ? "the addon's libtorch" : 'another libtorch'}`
  );
}

export interface ParityTolerances {
  /** |spotdiff − PyTorch| allowed for each loss term at each step. */
  loss: number;
  /** max |spotdiff − PyTorch| allowed per compared tensor. */
  param: number;
  /** that error over what the steps changed in the tensor (so that small steps do not pass by being small). */
  change: number;
  /** the largest error of any kind when PyTorch runs the addon's libtorch (one thread on both sides): 0 means the same bits. */
  sameLibrary: number;
}

/** Asserts a parity run within the tolerances (the same-library bound where it applies). */
export function checkParity(r: ParityResult, tol: ParityTolerances): void {
  const lossErrors = r.spotdiff.flatMap((l, i) => (['total', 'base', 'spd'] as const).map((k) => ({ step: i, k, ours: l[k], theirs: r.pytorch[i]![k] })));
  for (const e of lossErrors) assert.ok(Math.abs(e.ours - e.theirs) <= tol.loss, `step ${e.step} ${e.k} ${e.ours} vs PyTorch ${e.theirs}`);
  for (const c of r.tensors) {
    assert.ok(c.absError <= tol.param, `${c.name}: max error ${c.absError}`);
    if (c.changed > 1e-6) assert.ok(c.relToChange <= tol.change, `${c.name}: error ${c.absError} is ${c.relToChange} of the change ${c.changed}`);
  }
  if (!r.sameLibrary) return;
  const worst = Math.max(...lossErrors.map((e) => Math.abs(e.ours - e.theirs)), ...r.tensors.map((c) => c.absError));
  assert.ok(worst <= tol.sameLibrary, `same libtorch on one thread: worst error ${worst}, expected at most ${tol.sameLibrary}`);
}
