// The ops bench/device-parity.ts runs on two devices, a representative set per op family
// (src/tensor/ops/<family>.ts), plus autograd through a small network. Every case takes its
// inputs from `x`, which hands out the same values on whichever device the case runs on, and
// returns the tensors to compare. Random ops cannot match value for value across devices
// (each device has its own generator), so their cases return moments of large draws instead.
import * as T from '../../src/tensor/index.js';

export type Inputs = (name: InputName) => T.Tensor;
export type InputName = 'a' | 'b' | 'pos' | 'img' | 'w' | 'grid' | 'spd' | 'idx' | 'labels' | 'vec';
export interface ParityCase {
  family: string;
  name: string;
  run: (x: Inputs, device: string) => T.Tensor[];
}

/** The inputs on the CPU, seeded: every device gets copies of these. */
export function makeInputs(): Map<InputName, T.Tensor> {
  T.manualSeed(0);
  const a = T.randn([16, 32]);
  const spd = T.tidy(() => T.add(T.matmul(a, T.transpose(a, 0, 1)), T.mul(T.eye(16), 16)));
  return new Map<InputName, T.Tensor>([
    ['a', a],
    ['b', T.randn([32, 24])],
    ['pos', T.add(T.rand([16, 32]), 0.1)],
    ['img', T.randn([2, 3, 20, 20])],
    ['w', T.mul(T.randn([8, 3, 3, 3]), 0.2)],
    ['grid', T.sub(T.mul(T.rand([2, 12, 12, 2]), 2.2), 1.1)],
    ['spd', spd],
    ['idx', T.randint(0, 16, [10])],
    ['labels', T.randint(0, 32, [16])],
    ['vec', T.randn([32])],
  ]);
}

const moments = (t: T.Tensor): T.Tensor => T.stack([T.mean(t), T.std(t)]);
const f32 = (t: T.Tensor): T.Tensor => T.toDtype(t, 'float32');

const creation: ParityCase[] = [
  { family: 'creation', name: 'arange/linspace/eye/full', run: (_x, d) => [T.arange(0, 10, 0.5, { device: d }), T.linspace(-1, 1, 7, { device: d }), T.eye(5, { device: d }), T.full([3, 4], 2.5, { device: d })] },
  { family: 'creation', name: 'clone/toDtype/contiguous/*Like', run: (x) => [T.clone(x('a')), f32(T.toDtype(x('a'), 'float16')), T.contiguous(T.transpose(x('a'), 0, 1)), T.onesLike(x('a')), T.fullLike(x('a'), 3)] },
];

const random: ParityCase[] = [
  { family: 'random', name: 'rand/randn moments', run: (_x, d) => [moments(T.rand([200000], { device: d })), moments(T.randn([200000], { device: d }))] },
  { family: 'random', name: 'randint/randperm/bernoulli', run: (_x, d) => [moments(f32(T.randint(0, 10, [200000], { device: d }))), f32(T.sort(T.randperm(100, { device: d }))[0]), T.mean(T.bernoulli(T.full([200000], 0.3, { device: d })))] },
  { family: 'random', name: 'dropout kept fraction', run: (_x, d) => [T.mean(f32(T.ne(T.dropout(T.ones([200000], { device: d }), 0.25, true), 0)))] },
];

const pointwise: ParityCase[] = [
  { family: 'pointwise', name: 'arithmetic', run: (x) => [T.add(x('a'), x('a'), 0.5), T.sub(x('a'), 1), T.mul(x('a'), x('a')), T.div(x('a'), x('pos')), T.pow(x('pos'), 1.7), T.remainder(x('a'), 0.7)] },
  { family: 'pointwise', name: 'unary', run: (x) => [T.exp(x('a')), T.log(x('pos')), T.sqrt(x('pos')), T.rsqrt(x('pos')), T.sin(x('a')), T.erf(x('a')), T.tanh(x('a')), T.sigmoid(x('a')), T.gelu(x('a')), T.silu(x('a')), T.softplus(x('a'))] },
  { family: 'pointwise', name: 'compare/where/clamp', run: (x) => [f32(T.gt(x('a'), 0)), T.where(T.lt(x('a'), 0), x('a'), x('pos')), T.clamp(x('a'), -0.5, 0.5), T.maximum(x('a'), x('pos')), T.lerp(x('a'), x('pos'), 0.3)] },
];

const reduce: ParityCase[] = [
  { family: 'reduce', name: 'sum/mean/var/std/norm', run: (x) => [T.sum(x('a')), T.mean(x('a'), [1]), T.variance(x('a'), [0]), T.std(x('a'), [1]), T.norm(x('a'), 2, [1]), T.logsumexp(x('a'), [1])] },
  { family: 'reduce', name: 'max/argmax/topk/sort/cumsum', run: (x) => [T.amax(x('a'), [1]), f32(T.argmax(x('a'), 1)), T.topk(x('a'), 3, 1)[0], T.sort(x('a'), 1)[0], T.cumsum(x('a'), 1), T.quantile(x('a'), 0.9, 1)] },
];

const shape: ParityCase[] = [
  { family: 'shape', name: 'views and joins', run: (x) => [T.reshape(x('a'), [8, 64]), T.permute(x('img'), [0, 2, 3, 1]), T.cat([x('a'), x('a')], 1), T.stack([x('a'), x('pos')]), T.flip(x('a'), [1]), T.roll(x('a'), [3], [1]), T.triu(x('a'))] },
  { family: 'shape', name: 'gather/scatter/index', run: (x) => [T.indexSelect(x('a'), 0, x('idx')), T.gather(x('a'), 0, T.expand(T.unsqueeze(x('idx'), 1), [10, 32])), T.scatterAdd(T.zerosLike(x('a')), 0, T.expand(T.unsqueeze(x('idx'), 1), [10, 32]), T.narrow(x('a'), 0, 0, 10)), T.maskedSelect(x('a'), T.gt(x('a'), 1)), f32(T.nonzero(T.gt(x('a'), 1.5)))] },
];

const nn: ParityCase[] = [
  { family: 'nn', name: 'conv/norm/linear', run: (x) => [T.conv2d(x('img'), x('w'), null, { padding: 1 }), T.batchNorm(x('img'), { training: true }), T.groupNorm(T.conv2d(x('img'), x('w')), 2), T.layerNorm(x('a'), [32]), T.linear(x('a'), T.transpose(x('b'), 0, 1))] },
  { family: 'nn', name: 'pool/interpolate/gridSample/pad', run: (x) => [T.maxPool2d(x('img'), 2), T.avgPool2d(x('img'), 3, { stride: 2 }), T.adaptiveAvgPool2d(x('img'), 5), T.interpolate(x('img'), [31, 31]), T.gridSample(x('img'), x('grid')), T.pad(x('img'), [2, 2, 2, 2], 'reflect')] },
  { family: 'nn', name: 'softmax/cdist/unfold/cosine', run: (x) => [T.softmax(x('a'), 1), T.logSoftmax(x('a'), 1), T.cdist(x('a'), x('pos')), T.unfold(x('img'), 3, { padding: 1 }), T.cosineSimilarity(x('a'), x('pos')), T.normalize(x('a'))] },
];

const loss: ParityCase[] = [
  { family: 'loss', name: 'cross-entropy/bce/mse/l1', run: (x) => [T.crossEntropyRaw(x('a'), x('labels'), { labelSmoothing: 0.1 }), T.bceWithLogitsRaw(x('a'), T.sigmoid(x('pos'))), T.mseLossRaw(x('a'), x('pos')), T.l1LossRaw(x('a'), x('pos'), 'none')] },
];

const linalg: ParityCase[] = [
  { family: 'linalg', name: 'mm/bmm/einsum/addmm', run: (x) => [T.mm(x('a'), x('b')), T.bmm(T.reshape(x('a'), [2, 8, 32]), T.reshape(T.narrow(x('b'), 1, 0, 16), [2, 32, 8])), T.einsum('ij,jk->ik', x('a'), x('b')), T.addmm(T.narrow(x('pos'), 1, 0, 24), x('a'), x('b'), 0.5, 2), T.outer(x('vec'), x('vec'))] },
  { family: 'linalg', name: 'inverse/cholesky/solve', run: (x) => [T.inverse(x('spd')), T.cholesky(x('spd')), T.choleskyInverse(T.cholesky(x('spd'))), T.solve(x('spd'), T.narrow(x('a'), 1, 0, 4))] },
];

const inplace: ParityCase[] = [
  {
    family: 'inplace', name: 'add_/mul_/clamp_/lerp_/copy_', run: (x) => {
      const t = T.clone(x('a'));
      T.addInPlace(t, x('pos'), 0.5);
      T.mulInPlace(t, 1.5);
      T.clampInPlace(t, -1, 2);
      T.lerpInPlace(t, x('pos'), 0.25);
      const u = T.zerosLike(t);
      T.copyInPlace(u, t);
      T.indexPutInPlace(u, [x('idx')], T.ones([10, 32], { device: u.device }), true);
      return [t, u];
    },
  },
];

const optim: ParityCase[] = [
  {
    family: 'optim', name: 'sgdStep/adamStep', run: (x) => {
      const p = T.clone(x('a'));
      const q = T.clone(x('a'));
      p.setGrad(T.clone(x('pos')));
      q.setGrad(T.clone(x('pos')));
      const buf = T.zerosLike(p);
      T.sgdStep([p], [buf], { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 1e-4, nesterov: false, firstStep: true });
      const m = T.zerosLike(q);
      const v = T.zerosLike(q);
      T.adamStep([q], [m], [v], { step: 1, lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled: true });
      return [p, buf, q, m, v];
    },
  },
  {
    // CUDA runs torch's fused kernel, the CPU (libtorch 1.13) the loop: same products, same flag.
    family: 'optim', name: 'ampUnscaleInPlace (clean, then with an inf)', run: (x) => {
      const g = T.clone(x('a'));
      const h = T.clone(x('pos'));
      const clean = T.ampUnscaleInPlace([g, h], Math.fround(1 / 1024));
      const dirty = T.clone(x('pos'));
      T.indexPutInPlace(dirty, [T.tensor(BigInt64Array.from([0n]), [1], { dtype: 'int64', device: dirty.device })], T.full([1, ...dirty.shape.slice(1)], Infinity, { device: dirty.device }));
      const found = T.ampUnscaleInPlace([T.clone(x('a')), dirty], 0.5);
      return [g, h, clean, found];
    },
  },
];

const memoryFormat: ParityCase[] = [
  { family: 'memory-format', name: 'channels_last conv', run: (x) => {
    const cl = T.toMemoryFormat(x('img'), 'channels_last');
    return [T.contiguous(cl), T.conv2d(cl, T.toMemoryFormat(x('w'), 'channels_last'), null, { padding: 1 }), T.tensor([T.isMemoryFormat(cl, 'channels_last') ? 1 : 0])];
  } },
];

const autograd: ParityCase[] = [
  {
    family: 'autograd', name: 'conv-bn-relu-linear backward', run: (x) => {
      const input = T.clone(x('img')).setRequiresGrad();
      const w = T.clone(x('w')).setRequiresGrad();
      const h = T.relu(T.batchNorm(T.conv2d(input, w, null, { padding: 1 }), { training: true }));
      const out = T.mean(T.square(T.adaptiveAvgPool2d(h, 1)));
      out.backward();
      return [out, input.grad!, w.grad!];
    },
  },
];

export const PARITY_CASES: readonly ParityCase[] = [...creation, ...random, ...pointwise, ...reduce, ...shape, ...nn, ...loss, ...linalg, ...inplace, ...optim, ...memoryFormat, ...autograd];
