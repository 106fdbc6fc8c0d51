"""The device a reference bench runs on (--device cpu|cuda), as bench/lib/device.ts picks it
for the spotdiff side. CUDA queues kernels: sync() waits for them before a timer is read."""
import sys

import torch


def pick(name):
    """torch.device for --device; exits 2 with "no CUDA device" when CUDA is asked for and absent."""
    if name == "cuda" and not torch.cuda.is_available():
        sys.stderr.write(f"reference: no CUDA device (torch {torch.__version__} sees none)\n")
        sys.exit(2)
    return torch.device(name)


def exact_float32():
    """As spotdiff's detectors on a GPU (src/detect/run/exact-float32.ts): no TensorFloat-32."""
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)
