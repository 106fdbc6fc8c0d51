"""PyTorch reference for bench/twoclass-step.ts: the 2-class half's training steps, timed the same
way (median over the timed steps after warm-up), on the same number of threads.

segmenter: the U-Net of unet_reference.py (spotdiff's src/models/unet.ts in plain torch modules),
sigmoid focal loss (alpha 0.25, gamma 2) against a random mask. classifier: torchvision's ResNet with a 2-way fc, cross-entropy. Both in
train mode, SGD momentum 0.9, random data.

usage: python3 twoclass_step.py --task segmenter|classifier [--steps 3] [--warmup 1] [--batch 8]
       [--size 256] [--arch resnet50] [--threads 2] [--device cpu|cuda]
On CUDA each timed step ends with torch.cuda.synchronize(). Prints one JSON object on stdout.
"""
import argparse
import json
import resource
import statistics
import time

import torch
import torch.nn.functional as F
import torchvision
from torchvision.ops import sigmoid_focal_loss

from bench_device import pick, sync
from unet_reference import UNet


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--task", choices=["segmenter", "classifier"], required=True)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--arch", default="resnet50")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    a = p.parse_args()
    dev = pick(a.device)

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.task == "segmenter":
        model = UNet(a.arch).to(dev)
    else:
        model = getattr(torchvision.models, a.arch)(num_classes=2).to(dev)
    model.train()
    torch.manual_seed(1)
    x = torch.randn(a.batch, 3, a.size, a.size, device=dev)
    if a.task == "segmenter":
        target = (torch.rand(a.batch, 1, a.size, a.size, device=dev) > 0.9).float()
        loss_of = lambda out: sigmoid_focal_loss(out, target, alpha=0.25, gamma=2, reduction="mean")
    else:
        target = torch.randint(0, 2, (a.batch,), device=dev)
        loss_of = lambda out: F.cross_entropy(out, target)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    times, cpu_times = [], []
    last = 0.0
    for i in range(a.warmup + a.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad()
        loss = loss_of(model(x))
        loss.backward()
        opt.step()
        last = loss.item()
        sync(dev)
        t1, c1 = time.perf_counter(), time.process_time()
        if i >= a.warmup:
            times.append((t1 - t0) * 1000)
            cpu_times.append((c1 - c0) * 1000)
    print(json.dumps({
        "engine": "pytorch " + torch.__version__,
        "task": a.task,
        "threads": torch.get_num_threads(),
        "ms_per_step": statistics.median(times),
        "ms_min": min(times),
        "cpu_ms_per_step": statistics.median(cpu_times),
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "last_loss": last,
    }))


if __name__ == "__main__":
    main()
