import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PyDict, PyTuple, unpickle, type PyValue } from '../../../src/tensor/io/pickle.js';
import { TensorRef, torchPickleHooks } from '../../../src/tensor/io/torch-pickle.js';
import { isSpotdiffError } from '../../../src/util/errors.js';
import { Random } from '../../../src/util/random.js';
import { pythonJson } from '../../helpers/python.js';

// Python pickles plain data with protocols 2-5 and describes it canonically; so does canon() here.
// It also pickles things that must be refused, and hands over a torch.save data.pkl for fuzzing.
interface Fixtures {
  plain: { protocol: number; hex: string }[];
  expected: unknown;
  refused: { hex: string; names: string }[];
  torchPickle: string;
}
const fx = pythonJson<Fixtures>(`
import io, json, os, pickle, zipfile, torch
shared = [7, 8]
value = {'a': 1, 'neg': -5, 'i32': -2**31, 'u16': 60000, 'big': 2**70, 'negbig': -2**64 - 3, 'f': 1.5, 'tiny': 1.25e-300,
         's': 'h\\u00e9llo \\U0001F642', 'b': b'\\x00\\x01\\xff', 'long_s': 'x' * 300, 'long_b': bytes(300),
         'l': [1, [2, 3], ()], 't': (1, 'x', None, True, False), 't2': (1, 2), 't3': (1, 2, 3),
         'nested': {'k': [1.0, -0.0]}, 5: 'int key', 'shared': shared, 'again': shared}
def canon(v):
    if isinstance(v, dict): return {'dict': [[canon(k), canon(x)] for k, x in v.items()]}
    if isinstance(v, list): return {'list': [canon(x) for x in v]}
    if isinstance(v, tuple): return {'tuple': [canon(x) for x in v]}
    if isinstance(v, bool) or v is None or isinstance(v, str): return v
    if isinstance(v, int): return {'num': v} if abs(v) <= 2**53 - 1 else {'int': str(v)}
    if isinstance(v, float): return {'num': v}
    if isinstance(v, bytes): return {'bytes': v.hex()}
class Exploit:
    def __reduce__(self): return (os.system, ('echo pwned',))
buf = io.BytesIO()
torch.save({'w': torch.arange(6.).reshape(2, 3).t(), 'n': torch.tensor(3)}, buf)
z = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
print(json.dumps({
    'plain': [{'protocol': p, 'hex': pickle.dumps(value, protocol=p).hex()} for p in (2, 3, 4, 5)],
    'expected': canon(value),
    'refused': [{'hex': pickle.dumps(Exploit(), protocol=2).hex(), 'names': 'posix.system'},
                {'hex': pickle.dumps({'f': print}, protocol=2).hex(), 'names': '__builtin__.print'},
                {'hex': pickle.dumps(set([1]), protocol=2).hex(), 'names': '__builtin__.set'}],
    'torchPickle': z.read([n for n in z.namelist() if n.endswith('data.pkl')][0]).hex(),
}))
`);

function canon(v: PyValue): unknown {
  if (v instanceof PyDict) return { dict: [...v.items].map(([k, x]) => [canon(k), canon(x)]) };
  if (Array.isArray(v)) return { list: v.map(canon) };
  if (v instanceof PyTuple) return { tuple: v.items.map(canon) };
  if (typeof v === 'bigint') return { int: v.toString() };
  if (typeof v === 'number') return { num: v };
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('hex') };
  return v;
}

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const refuseAll = {
  ...torchPickleHooks,
  persistentLoad: () => {
    throw new Error('no persistent ids in plain pickles');
  },
};

test('plain containers pickled with protocols 2-5 read back as Python wrote them, memo sharing kept', () => {
  for (const { protocol, hex: h } of fx.plain) {
    const v = unpickle(hex(h), refuseAll);
    assert.deepEqual(canon(v), fx.expected, `protocol ${protocol}`);
    const d = v as PyDict;
    assert.equal(d.items.get('shared'), d.items.get('again'), 'one list, referenced twice');
  }
});

test('globals outside the torch allowlist are refused by name, and nothing runs', () => {
  for (const { hex: h, names } of fx.refused) {
    assert.throws(
      () => unpickle(hex(h), torchPickleHooks),
      (e) => isSpotdiffError(e, 'ERR_BAD_CHECKPOINT') && (e as Error).message.includes(names),
    );
  }
});

test("torch.save's pickle gives tensor references; every truncation and 2000 random corruptions fail cleanly", () => {
  const bytes = hex(fx.torchPickle);
  const root = unpickle(bytes, torchPickleHooks) as PyDict;
  const w = root.items.get('w') as TensorRef;
  assert.ok(w instanceof TensorRef);
  assert.deepEqual([w.size, w.stride, w.offset, w.dtype, w.storage.key, w.storage.numel], [[3, 2], [1, 3], 0, 'float32', '0', 6]);
  const n = root.items.get('n') as TensorRef;
  assert.deepEqual([n.size, n.dtype], [[], 'int64']);

  for (let cut = 0; cut < bytes.length; cut++) {
    assert.throws(() => unpickle(bytes.subarray(0, cut), torchPickleHooks), (e) => isSpotdiffError(e, 'ERR_BAD_CHECKPOINT'), `cut at ${cut}`);
  }
  // A corrupted pickle may still parse into something; what it must never do is throw anything
  // but a SpotdiffError (no TypeError, RangeError, hang or crash).
  const rng = new Random(3);
  let refused = 0;
  for (let i = 0; i < 2000; i++) {
    const m = Uint8Array.from(bytes);
    for (let k = 0, flips = 1 + rng.int(3); k < flips; k++) m[rng.int(m.length)] = rng.int(256);
    try {
      unpickle(m, torchPickleHooks);
    } catch (e) {
      assert.ok(isSpotdiffError(e, 'ERR_BAD_CHECKPOINT'), `mutation ${i}: ${String(e)}`);
      refused++;
    }
  }
  assert.ok(refused > 1000, `most corruptions are caught (${refused})`);
});
