# An independent safetensors reader and writer for the tests, written from the format's spec
# (the `safetensors` package is not packaged for Debian here), checked against torch tensors.
#   write OUT [PTH]      writes tensors in the reference writer's layout; prints their description;
#                        with PTH also saves a torchvision resnet18 state dict there (seed 0)
#   check FILE PTH       reads FILE and compares every tensor with torch.load(PTH); prints a report
import hashlib
import json
import struct
import sys

import numpy as np
import torch

CODES = {torch.float64: 'F64', torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16',
         torch.int64: 'I64', torch.int32: 'I32', torch.int16: 'I16', torch.int8: 'I8', torch.uint8: 'U8',
         torch.bool: 'BOOL'}
NUMPY = {'F64': np.float64, 'F32': np.float32, 'F16': np.float16, 'BF16': np.int16, 'I64': np.int64,
         'I32': np.int32, 'I16': np.int16, 'I8': np.int8, 'U8': np.uint8, 'BOOL': np.bool_}
SIZE = {'F64': 8, 'F32': 4, 'F16': 2, 'BF16': 2, 'I64': 8, 'I32': 4, 'I16': 2, 'I8': 1, 'U8': 1, 'BOOL': 1}
# The reference's dtype order (its sort puts larger elements first, then sorts by name).
RANK = ['BOOL', 'U8', 'I8', 'I16', 'F16', 'BF16', 'I32', 'F32', 'F64', 'I64']


def raw(t):
    t = t.detach().contiguous()
    return (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()


def write(path, tensors, metadata):
    items = sorted(tensors.items(), key=lambda kv: (-RANK.index(CODES[kv[1].dtype]), kv[0]))
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header['__metadata__'] = metadata
    for name, t in items:
        b = raw(t)
        header[name] = {'dtype': CODES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
    return [name for name, _ in items]


def read(path):
    data = open(path, 'rb').read()
    (n,) = struct.unpack('<Q', data[:8])
    header_bytes = data[8:8 + n]
    text = header_bytes.decode('utf-8')
    # The reference pads the JSON with at most 7 spaces so that the data starts 8-byte aligned.
    padded = n % 8 == 0 and text.rstrip(' ').endswith('}') and len(text) - len(text.rstrip(' ')) < 8
    header = json.loads(header_bytes.decode('utf-8'))
    metadata = header.pop('__metadata__', None)
    body = data[8 + n:]
    entries = sorted(header.items(), key=lambda kv: kv[1]['data_offsets'])
    cursor, out, aligned = 0, {}, True
    for name, info in entries:
        b, e = info['data_offsets']
        code, shape = info['dtype'], info['shape']
        assert b == cursor, f'{name}: gap or overlap'
        assert e - b == int(np.prod(shape, dtype=np.int64)) * SIZE[code], f'{name}: size'
        aligned = aligned and (8 + n + b) % SIZE[code] == 0
        arr = np.frombuffer(body[b:e], dtype=NUMPY[code]).reshape(shape)
        t = torch.from_numpy(arr.copy())
        out[name] = t.view(torch.bfloat16) if code == 'BF16' else t
        cursor = e
    assert cursor == len(body), 'trailing or missing data'
    return {
        'names': [name for name, _ in entries],
        'tensors': out,
        'metadata': metadata,
        'header_length': n,
        'header_padded_with_spaces': padded,
        'aligned': aligned,
    }


if sys.argv[1] == 'write':
    torch.manual_seed(1)
    tensors = {
        'conv.weight': torch.randn(4, 3, 3, 3),
        'conv.bias': torch.randn(4),
        'bn.num_batches_tracked': torch.tensor(17, dtype=torch.int64),
        'f64': torch.randn(2, 3, dtype=torch.float64),
        'f16': torch.randn(5).half(),
        'bf16': torch.randn(3, 1).bfloat16(),
        'i32': torch.tensor([-7, 2 ** 31 - 1], dtype=torch.int32),
        'i16': torch.tensor([[-3]], dtype=torch.int16),
        'i8': torch.tensor([-128, 5, 9], dtype=torch.int8),
        'u8': torch.tensor([250, 1], dtype=torch.uint8),
        'mask': torch.tensor([True, False, True]),
        'empty': torch.zeros(0, 4),
        'scalar': torch.tensor(2.5),
    }
    order = write(sys.argv[2], tensors, {'format': 'pt', 'note': 'written by the test reference'})
    if len(sys.argv) > 3:
        import torchvision
        torch.manual_seed(0)
        torch.save(torchvision.models.resnet18().state_dict(), sys.argv[3])
    print(json.dumps([{'name': k, 'sha256': hashlib.sha256(raw(tensors[k])).hexdigest(),
                       'shape': list(tensors[k].shape)} for k in order]))
elif sys.argv[1] == 'check':
    got = read(sys.argv[2])
    want = torch.load(sys.argv[3])
    mismatched = [k for k, t in want.items() if k not in got['tensors'] or got['tensors'][k].dtype != t.dtype
                  or got['tensors'][k].shape != t.shape or not torch.equal(got['tensors'][k], t)]
    print(json.dumps({'names': got['names'], 'mismatched': mismatched, 'metadata': got['metadata'],
                      'header_padded_with_spaces': got['header_padded_with_spaces'], 'aligned': got['aligned'],
                      'extra': sorted(set(got['tensors']) - set(want))}))
