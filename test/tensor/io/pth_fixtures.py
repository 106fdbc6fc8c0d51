# Writes the .pth files the checkpoint-reader tests read, with Debian's torch, and prints a JSON
# reference: for every tensor its dtype, shape, sha256 of its C-contiguous bytes, sum and a few
# elements, as torch itself reports them.
# Usage: python3 pth_fixtures.py OUT_DIR
import collections
import hashlib
import io
import json
import os
import pickle
import sys
import zipfile

import numpy as np
import torch
import torchvision

out = sys.argv[1]
torch.manual_seed(0)


def raw_bytes(t):
    c = t.detach().contiguous()
    if c.dtype == torch.bfloat16:
        c = c.view(torch.int16)
    return c.numpy().tobytes()


def describe(sd):
    res = []
    for name, t in sd.items():
        t = t.detach()
        flat = t.reshape(-1)
        res.append({
            'name': name,
            'dtype': str(t.dtype).replace('torch.', ''),
            'shape': list(t.shape),
            'sha256': hashlib.sha256(raw_bytes(t)).hexdigest(),
            'sum': float(t.double().sum()),
            'head': flat[:3].double().tolist(),
            'tail': flat[-2:].double().tolist(),
        })
    return res


ref = {}

# A torchvision ResNet-18 state dict, random init: conv/bn/fc weights and int64 num_batches_tracked.
resnet = torchvision.models.resnet18()
resnet.train()
with torch.no_grad():  # non-trivial BN statistics and counters
    resnet(torch.randn(2, 3, 64, 64))
sd = resnet.state_dict()
torch.save(sd, os.path.join(out, 'resnet18.pth'))
ref['resnet18'] = describe(sd)

# Layouts and dtypes: views, offsets, non-contiguous strides, shared storages, 0-d and empty tensors.
base = torch.arange(60, dtype=torch.float32).reshape(3, 4, 5) / 7
special = collections.OrderedDict()
special['base'] = base
special['transposed'] = base.transpose(0, 2)
special['permuted'] = base.permute(1, 2, 0)
special['row_view'] = base[1]  # storage offset 20, contiguous
special['stepped'] = base[:, 1:, ::2]  # offset + strides with steps
special['expanded'] = torch.tensor([1.5, -2.0, 3.25]).reshape(3, 1).expand(3, 4)  # stride 0
special['column'] = base[2, :, 3]
special['scalar_f32'] = torch.tensor(3.5)
special['scalar_i64'] = torch.tensor(-123456789012345, dtype=torch.int64)
special['scalar_view'] = base[1, 2, 3]  # 0-d view with an offset into a shared storage
special['empty'] = torch.zeros(0, 3)
special['f64'] = torch.randn(4, 3, dtype=torch.float64).t()
special['f16'] = (torch.randn(5, 6) * 100).half()[:, 1::2]
special['bf16'] = (torch.randn(7) * 1e5).bfloat16()
special['i64'] = torch.tensor([[-(2 ** 62), 2 ** 53 + 1], [0, -1]], dtype=torch.int64)
special['i32'] = torch.tensor([-(2 ** 31), 2 ** 31 - 1, 5], dtype=torch.int32)
special['i16'] = torch.tensor([-32768, 32767, 1], dtype=torch.int16)
special['i8'] = torch.tensor([-128, 127, 0], dtype=torch.int8)
special['u8'] = torch.tensor([0, 255, 17], dtype=torch.uint8)
special['bool'] = torch.tensor([[True, False, True], [False, False, True]])
special['bool_t'] = special['bool'].t()
torch.save(special, os.path.join(out, 'special.pth'))
ref['special'] = describe(special)

# The same dict pickled with protocol 4 (FRAME, SHORT_BINUNICODE, MEMOIZE, ...).
torch.save(special, os.path.join(out, 'special_proto4.pth'), pickle_protocol=4)

# keep_vars=True keeps Parameters (rebuilt through torch._utils._rebuild_parameter).
small = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Linear(5, 2))
torch.save(small.state_dict(keep_vars=True), os.path.join(out, 'params.pth'))
ref['params'] = describe(small.state_dict())

# Training checkpoints that wrap the state dict.
opt = torch.optim.SGD(small.parameters(), lr=0.1, momentum=0.9)
small(torch.randn(1, 3, 7, 7)).sum().backward()
opt.step()
torch.save({'epoch': 3, 'arch': 'small', 'best_acc': 0.75, 'state_dict': small.state_dict(), 'optimizer': opt.state_dict()},
           os.path.join(out, 'wrapped_state_dict.pth'))
torch.save({'model': small.state_dict(), 'epoch': 1, 'tags': ['a', 'b'], 'ratio': (1, 2.5, None, True)},
           os.path.join(out, 'wrapped_model.pth'))
ref['small'] = describe(small.state_dict())

# nn.DataParallel prefixes every name with 'module.'.
torch.save(torch.nn.DataParallel(small).state_dict(), os.path.join(out, 'dataparallel.pth'))

# Files spotdiff must refuse, each for a reason it names.
torch.save({'w': torch.ones(2), 'arr': np.arange(3)}, os.path.join(out, 'numpy.pth'))
torch.save({'w': torch.ones(2, dtype=torch.complex64)}, os.path.join(out, 'complex.pth'))
torch.save(small.state_dict(), os.path.join(out, 'legacy.pth'), _use_new_zipfile_serialization=False)
torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), os.path.join(out, 'script.pt'))


def repack(src, dst, compression=zipfile.ZIP_STORED, change=None):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w', compression) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if change:
                data = change(info.filename, data)
            zout.writestr(info.filename, data)


repack(os.path.join(out, 'special.pth'), os.path.join(out, 'deflated.pth'), zipfile.ZIP_DEFLATED)
repack(os.path.join(out, 'special.pth'), os.path.join(out, 'short_pickle.pth'),
       change=lambda n, d: d[: len(d) // 2] if n.endswith('data.pkl') else d)
repack(os.path.join(out, 'special.pth'), os.path.join(out, 'short_storage.pth'),
       change=lambda n, d: d[:-4] if n.endswith('/data/0') else d)

# Zip64 records everywhere (what an archive past 4 GiB has): lower zipfile's limits while writing.
saved = zipfile.ZIP64_LIMIT
zipfile.ZIP64_LIMIT = 0
try:
    repack(os.path.join(out, 'special.pth'), os.path.join(out, 'zip64.pth'))
finally:
    zipfile.ZIP64_LIMIT = saved
with open(os.path.join(out, 'zip64.pth'), 'rb') as f:
    ref['zip64_has_eocd64'] = b'PK\x06\x06' in f.read()

# What newer torch versions write: the 'archive/' folder, a byteorder entry, and tensors over
# untyped storages rebuilt by _rebuild_tensor_v3 with an explicit dtype. torch 1.13 cannot write
# these, so the pickle is made by hand over special.pth's storages (key '0' is `base`).
def _rebuild_tensor_v3(*args):
    raise RuntimeError('never called: only its name is pickled')


_rebuild_tensor_v3.__module__ = 'torch._utils'
torch._utils._rebuild_tensor_v3 = _rebuild_tensor_v3


class StorageId:
    def __init__(self, key, nbytes):
        self.pid = ('storage', torch.UntypedStorage, key, 'cpu', nbytes)


class V3:
    def __init__(self, *args):
        self.args = args

    def __reduce__(self):
        return (_rebuild_tensor_v3, self.args)


class IdPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, StorageId) else None


storage0 = StorageId('0', 240)
v3 = collections.OrderedDict()
v3['as_float'] = V3(storage0, 0, (3, 4, 5), (20, 5, 1), False, collections.OrderedDict(), torch.float32)
v3['as_int16_t'] = V3(storage0, 10, (10, 2), (1, 20), False, collections.OrderedDict(), torch.int16)
buf = io.BytesIO()
IdPickler(buf, protocol=2).dump(v3)
ref['v3'] = describe({'as_float': base, 'as_int16_t': base.reshape(-1).view(torch.int16)[10:].as_strided((10, 2), (1, 20))})


def newer_layout(dst, byteorder):
    with zipfile.ZipFile(os.path.join(out, 'special.pth')) as zin, zipfile.ZipFile(dst, 'w') as zout:
        for info in zin.infolist():
            name = 'archive/' + info.filename.split('/', 1)[1]
            zout.writestr(name, buf.getvalue() if name.endswith('data.pkl') else zin.read(info.filename))
        zout.writestr('archive/byteorder', byteorder)


newer_layout(os.path.join(out, 'newer.pth'), 'little')
newer_layout(os.path.join(out, 'bigendian.pth'), 'big')

print(json.dumps(ref))
