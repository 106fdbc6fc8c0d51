"""PyTorch reference for bench/pretrain-e2e.ts: SimSiam + SPD pre-training end to end on a
folder of images, the usual way: a DataLoader whose workers decode each image (PIL), resize it
to --size and make the five views with torchvision (two strong views, the anchor, the weak view
and its SmoothBlend-perturbed copy, as bench/reference/simsiam_spd.py), the step on --device.
Timed from the first batch asked for to the last step's end (torch.cuda.synchronize()); each
step reads its loss, as spotdiff's log.jsonl does; last_loss is the last epoch's mean.

usage:
  python3 pretrain_e2e.py make-images --out DIR --count 600 --size 256 [--seed 0]
  python3 pretrain_e2e.py run --data DIR --epochs 3 --batch 64 --size 224 [--workers 12]
                              [--threads 2] [--device cpu|cuda]
Prints one JSON object on stdout.
"""
import argparse
import json
import os
import random
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
import torchvision.transforms.functional as TF

from bench_device import pick, sync
from simsiam_spd import augmentations, build, smooth_blend


def make_images(a):
    """Smooth random colour images (noise upsampled), JPEG, named 00000.jpg, ..."""
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    for i in range(a.count):
        small = rng.integers(0, 256, size=(16, 16, 3), dtype=np.uint8)
        Image.fromarray(small).resize((a.size, a.size), Image.BICUBIC).save(os.path.join(a.out, f"{i:05d}.jpg"), quality=90)
    print(json.dumps({"made": a.count, "out": a.out}))


class Views(torch.utils.data.Dataset):
    def __init__(self, paths, size):
        self.paths, self.size = paths, size
        self.strong, self.weak, self.normalize = augmentations(size)

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        img = Image.open(self.paths[i]).convert("RGB").resize((self.size, self.size), Image.BILINEAR)
        x = TF.to_tensor(img)
        w = self.weak(x)
        return self.strong(x), self.strong(x), self.normalize(x), self.normalize(w), self.normalize(smooth_blend(w))


def train(a, dev):
    paths = sorted(os.path.join(a.data, f) for f in os.listdir(a.data) if f.endswith(".jpg"))
    loader = torch.utils.data.DataLoader(Views(paths, a.size), batch_size=a.batch, shuffle=True, drop_last=True,
                                         num_workers=a.workers, pin_memory=dev.type == "cuda", persistent_workers=a.workers > 0)
    model, predictor = build()
    model, predictor = model.to(dev).train(), predictor.to(dev).train()
    opt = torch.optim.SGD([{"params": model.parameters()}, {"params": predictor.parameters()}],
                          lr=0.05 * a.batch / 256, momentum=0.9, weight_decay=1e-4)
    images, last = 0, 0.0
    sync(dev)
    t0 = time.perf_counter()
    for _ in range(a.epochs):
        losses = []
        for views in loader:
            x1, x2, anchor, pos, neg = [v.to(dev, non_blocking=True) for v in views]
            z1, z2 = model(x1), model(x2)
            p1, p2 = predictor(z1), predictor(z2)
            base = -0.5 * (F.cosine_similarity(p1, z2.detach()).mean() + F.cosine_similarity(p2, z1.detach()).mean())
            z, zp, zn = model(anchor), model(pos), model(neg)
            loss = base + 0.1 * (F.cosine_similarity(z, zn).mean() - F.cosine_similarity(z, zp).mean())
            opt.zero_grad()
            loss.backward()
            opt.step()
            images += x1.shape[0]
            losses.append(loss.item())  # as spotdiff's log does each step
        last = sum(losses) / max(len(losses), 1)
    sync(dev)
    wall = time.perf_counter() - t0
    return {"engine": "pytorch " + torch.__version__, "images": images, "wall_s": wall,
            "images_per_s": images / wall, "workers": a.workers, "last_loss": last}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["make-images", "run"])
    p.add_argument("--out")
    p.add_argument("--count", type=int, default=600)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--workers", type=int, default=12)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    a = p.parse_args()
    if a.command == "make-images":
        return make_images(a)
    dev = pick(a.device)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    random.seed(0)
    print(json.dumps(train(a, dev)))


if __name__ == "__main__":
    main()
