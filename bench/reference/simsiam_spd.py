"""PyTorch reference for bench/simsiam-spd.ts: one SimSiam + SPD training step as the
official SimSiam code builds it (torchvision ResNet with zero_init_residual, 3-layer
projector, bottleneck predictor, SGD momentum 0.9, weight decay 1e-4, predictor at a fixed
lr) plus SPD's regulariser eta * (cos(z, z-) - cos(z, z+)) on the projector outputs of the
anchor, its weak view and its SmoothBlend-perturbed weak view.

Views are made per image with torchvision's transforms in this process (what one DataLoader
worker does); their time is reported apart from the optimisation step's.

With --precision bf16 the forward and loss run under torch.autocast("cpu", torch.bfloat16);
--channels-last lays the models and views out NHWC. --device cuda puts the images, views, models
and step on the GPU (bf16 autocast then on "cuda"); each timer waits for torch.cuda.synchronize().

usage: python3 simsiam_spd.py [--steps 3] [--warmup 1] [--batch 32] [--size 224] [--threads 2]
                              [--precision fp32|bf16] [--channels-last] [--device cpu|cuda]
Prints one JSON object on stdout.
"""
import argparse
import json
import math
import random
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import torchvision.transforms as TT

from bench_device import pick, sync

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def build(dim=2048, pred_dim=512):
    model = torchvision.models.resnet18(zero_init_residual=True)
    prev = model.fc.weight.shape[1]
    model.fc = nn.Sequential(
        nn.Linear(prev, prev, bias=False), nn.BatchNorm1d(prev), nn.ReLU(inplace=True),
        nn.Linear(prev, prev, bias=False), nn.BatchNorm1d(prev), nn.ReLU(inplace=True),
        nn.Linear(prev, dim, bias=False), nn.BatchNorm1d(dim, affine=False))
    predictor = nn.Sequential(nn.Linear(dim, pred_dim, bias=False), nn.BatchNorm1d(pred_dim),
                              nn.ReLU(inplace=True), nn.Linear(pred_dim, dim))
    return model, predictor


def augmentations(size):
    normalize = TT.Normalize(MEAN, STD)
    strong = TT.Compose([
        TT.RandomResizedCrop(size, scale=(0.2, 1.0)),
        TT.RandomApply([TT.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
        TT.RandomGrayscale(p=0.2),
        TT.RandomApply([TT.GaussianBlur(2 * math.ceil(4 * 2.0) + 1, sigma=(0.1, 2.0))], p=0.5),
        TT.RandomHorizontalFlip(), normalize])
    weak = TT.Compose([
        TT.RandomResizedCrop(size, scale=(0.9, 1.0)),
        TT.RandomApply([TT.ColorJitter(0.1, 0.1, 0.1, 0.05)], p=0.8),
        TT.RandomApply([TT.GaussianBlur(3, sigma=(0.1, 0.3))], p=0.5),
        TT.RandomHorizontalFlip()])
    return strong, weak, normalize


def smooth_blend(x, sigma=8.0):
    """One patch of 0.5-1% of the area, jittered, pasted elsewhere through a blurred mask."""
    _, h, w = x.shape
    area = random.uniform(0.005, 0.01) * h * w
    aspect = math.exp(random.uniform(math.log(0.3), math.log(3)))
    ph = max(1, min(h, round(math.sqrt(area / aspect))))
    pw = max(1, min(w, round(math.sqrt(area * aspect))))
    sy, sx = random.randint(0, h - ph), random.randint(0, w - pw)
    ty, tx = random.randint(0, h - ph), random.randint(0, w - pw)
    patch = TT.ColorJitter(0.1, 0.1, 0.1, 0.1)(x[:, sy:sy + ph, sx:sx + pw])
    u = x.clone()
    u[:, ty:ty + ph, tx:tx + pw] = patch
    mask = torch.zeros(1, 1, h, w, device=x.device)
    mask[..., ty:ty + ph, tx:tx + pw] = 1
    r = int(4 * sigma + 0.5)
    g = torch.exp(-0.5 * (torch.arange(-r, r + 1, dtype=torch.float32, device=x.device) / sigma) ** 2)
    g = g / g.sum()
    alpha = F.conv2d(F.pad(mask, (r, r, 0, 0), mode="reflect"), g.view(1, 1, 1, -1))
    alpha = F.conv2d(F.pad(alpha, (0, 0, r, r), mode="reflect"), g.view(1, 1, -1, 1))[0]
    return (1 - alpha) * x + alpha * u


def make_views(images, size, strong, weak, normalize):
    first, second, anchor, pos, neg = [], [], [], [], []
    for x in images:
        first.append(strong(x))
        second.append(strong(x))
        anchor.append(normalize(F.interpolate(x[None], size=(size, size), mode="bilinear", align_corners=False)[0]))
        w = weak(x)
        pos.append(normalize(w))
        neg.append(normalize(smooth_blend(w)))
    return [torch.stack(v) for v in (first, second, anchor, pos, neg)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--eta", type=float, default=0.1)
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    a = p.parse_args()
    dev = pick(a.device)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    random.seed(0)
    model, predictor = build()
    model.train()
    predictor.train()
    model = model.to(dev, memory_format=fmt)
    predictor = predictor.to(dev)
    lr = 0.05 * a.batch / 256
    opt = torch.optim.SGD([{"params": model.parameters()}, {"params": predictor.parameters()}],
                          lr=lr, momentum=0.9, weight_decay=1e-4)
    images = torch.rand(a.batch, 3, a.size, a.size, device=dev)
    strong, weak, normalize = augmentations(a.size)
    view_ms, step_ms, step_cpu_ms, view_cpu_ms = [], [], [], []
    last = 0.0
    for i in range(a.warmup + a.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        x1, x2, anchor, pos, neg = make_views(images, a.size, strong, weak, normalize)
        sync(dev)
        t1, c1 = time.perf_counter(), time.process_time()
        x1, x2, anchor, pos, neg = [v.contiguous(memory_format=fmt) for v in (x1, x2, anchor, pos, neg)]
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=a.precision == "bf16"):
            z1, z2 = model(x1), model(x2)
            p1, p2 = predictor(z1), predictor(z2)
            base = -0.5 * (F.cosine_similarity(p1, z2.detach()).mean() + F.cosine_similarity(p2, z1.detach()).mean())
            z, zp, zn = model(anchor), model(pos), model(neg)
            spd = F.cosine_similarity(z, zn).mean() - F.cosine_similarity(z, zp).mean()
            loss = base + a.eta * spd
        opt.zero_grad()
        loss.backward()
        opt.step()
        last = loss.item()
        sync(dev)
        t2, c2 = time.perf_counter(), time.process_time()
        if i >= a.warmup:
            view_ms.append((t1 - t0) * 1000)
            step_ms.append((t2 - t1) * 1000)
            view_cpu_ms.append((c1 - c0) * 1000)
            step_cpu_ms.append((c2 - c1) * 1000)
    print(json.dumps({
        "engine": "pytorch " + torch.__version__,
        "threads": torch.get_num_threads(),
        "views_ms": statistics.median(view_ms),
        "views_cpu_ms": statistics.median(view_cpu_ms),
        "step_ms": statistics.median(step_ms),
        "step_best_ms": min(step_ms),
        "step_cpu_ms": statistics.median(step_cpu_ms),
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "last_loss": last,
    }))


if __name__ == "__main__":
    main()
