"""PyTorch reference for bench/resnet18-train.ts: the same ResNet-18 training step and
forward pass, timed the same way (median over the timed steps after warm-up), on the same
number of threads. Prints one JSON object on stdout.

usage: python3 resnet18_train.py --mode train|forward [--steps 10] [--warmup 3]
       [--batch 8] [--size 224] [--threads 2] [--device cpu|cuda]
On CUDA each timed step ends with torch.cuda.synchronize().
"""
import argparse
import json
import resource
import statistics
import time

import torch
import torchvision

from bench_device import pick, sync


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["train", "forward"], required=True)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    a = p.parse_args()
    dev = pick(a.device)

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = torchvision.models.resnet18().to(dev)
    x = torch.randn(a.batch, 3, a.size, a.size, device=dev)
    y = torch.randint(0, 1000, (a.batch,), device=dev)
    times, cpu_times = [], []

    if a.mode == "train":
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        loss_fn = torch.nn.CrossEntropyLoss()
        for i in range(a.warmup + a.steps):
            t0, c0 = time.perf_counter(), time.process_time()
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            last_loss = loss.item()
            sync(dev)
            t1, c1 = time.perf_counter(), time.process_time()
            if i >= a.warmup:
                times.append((t1 - t0) * 1000)
                cpu_times.append((c1 - c0) * 1000)
    else:
        model.eval()
        with torch.no_grad():
            for i in range(a.warmup + a.steps):
                t0, c0 = time.perf_counter(), time.process_time()
                last_loss = float(model(x).sum())
                sync(dev)
                t1, c1 = time.perf_counter(), time.process_time()
                if i >= a.warmup:
                    times.append((t1 - t0) * 1000)
                    cpu_times.append((c1 - c0) * 1000)

    print(json.dumps({
        "engine": "pytorch " + torch.__version__,
        "mode": a.mode,
        "threads": torch.get_num_threads(),
        "ms_per_step": statistics.median(times),
        "ms_min": min(times),
        "ms_max": max(times),
        "cpu_ms_per_step": statistics.median(cpu_times),
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "last_value": last_loss,
    }))


if __name__ == "__main__":
    main()
