"""PyTorch reference for bench/detect-pipeline.ts: the same 1-class pipelines as spotdiff's
PaDiM and PatchCore, written the straightforward way (torchvision backbone, PIL decoding in
the main process, torch ops, scipy's gaussian_filter for the map as the official code does),
timed per stage. Prints one JSON object on stdout.

usage:
  python3 detect_pipeline.py save-weights --arch wide_resnet50_2 --out W.pth [--seed 0]
  python3 detect_pipeline.py run --method patchcore|padim --lists LISTS.json --weights W.pth
          [--threads 2] [--size 256] [--batch 8] [--coreset-ratio 0.1] [--device cpu|cuda]

--device cuda runs the backbone and the detector math on the GPU (decoding and scipy's blur stay
on the CPU, as in the official code); each stage's timer waits for torch.cuda.synchronize().

LISTS.json: {"train": [path, ...], "test": [{"image": path, "label": 0|1}, ...]}.

What each stage holds (the TypeScript side reports the same names):
  decode        PIL open + convert('RGB') + resize + to tensor + ImageNet normalisation
  backbone      the ResNet up to the last layer used (eval mode, no grad)
  embed         PatchCore: 3x3 patches, channel pooling to 1024, layer join; PaDiM: layer join
                and the 100 chosen channels (fit and test)
  coreset       PatchCore: 128-d Gaussian projection and greedy k-center selection (10% kept)
  statistics    PaDiM: per-position mean and covariance + 0.01 I, inverted
  knn           PatchCore: nearest memory entry per test patch, k = 9 re-weighted image score
  mahalanobis   PaDiM: per-position Mahalanobis distance
  maps          bilinear upsampling of the patch scores and the sigma = 4 Gaussian blur
"""
import argparse
import json
import random
import resource
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image
from scipy.ndimage import gaussian_filter

from bench_device import exact_float32, pick, sync

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)


class Clock:
    """Seconds spent per stage; waits for the device first."""

    def __init__(self, device):
        self.stages = {}
        self.device = device

    def add(self, name, start):
        sync(self.device)
        self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - start


def decode(paths, size, device):
    out = []
    for p in paths:
        img = Image.open(p).convert("RGB").resize((size, size), Image.BILINEAR)
        x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)
        out.append((x - MEAN) / STD)
    return torch.stack(out).to(device)


def features(model, x, layers):
    """The named layer outputs, running the network only as far as the last one needed."""
    out = {}
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    for name in ["layer1", "layer2", "layer3", "layer4"]:
        x = getattr(model, name)(x)
        if name in layers:
            out[name] = x
        if len(out) == len(layers):
            break
    return out


def batches(items, size):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def blur_maps(patch_scores, size):
    """Patch scores [B, h, w] -> maps [B, size, size]: bilinear (align_corners=False), then
    scipy's gaussian_filter(sigma=4) per map, as the official PaDiM/PatchCore code does."""
    up = F.interpolate(patch_scores.unsqueeze(1), size=(size, size), mode="bilinear", align_corners=False).squeeze(1).cpu().numpy()
    return np.stack([gaussian_filter(m, sigma=4) for m in up])


# ---- PatchCore ---------------------------------------------------------------------------

def pool_channels(v, size):
    """Adaptive average pooling of the last dimension of [..., K] down to `size`."""
    shape = v.shape
    return F.adaptive_avg_pool1d(v.reshape(-1, 1, shape[-1]), size).reshape(*shape[:-1], size)


def patchcore_embedding(feats):
    """[B, h, w, 1024]: per layer 3x3 neighbourhoods (zero padded) pooled to 1024 values, later
    layers bilinearly resized to layer2's grid, the layers joined and pooled to 1024."""
    first = feats["layer2"]
    b, _, h, w = first.shape
    per_layer = []
    for name in ["layer2", "layer3"]:
        x = feats[name]
        hl, wl = x.shape[2], x.shape[3]
        patches = F.unfold(x, kernel_size=3, padding=1).transpose(1, 2)  # [B, hl*wl, C*9]
        v = pool_channels(patches, 1024).reshape(b, hl, wl, 1024).permute(0, 3, 1, 2)
        if (hl, wl) != (h, w):
            v = F.interpolate(v, size=(h, w), mode="bilinear", align_corners=False)
        per_layer.append(v)
    joined = torch.cat(per_layer, 1).permute(0, 2, 3, 1)  # [B, h, w, 2048]
    return pool_channels(joined, 1024).contiguous()


def greedy_coreset(points, count, seed):
    """Approximate greedy k-center selection (the official sampler): start from the mean
    distance to 10 random points, then repeatedly take the farthest point and update every
    point's distance to the chosen set with one matrix-vector product."""
    g = torch.Generator().manual_seed(seed)
    n = points.shape[0]
    device = points.device
    norms = (points * points).sum(1)

    def dist_to(rows):
        sq = norms.unsqueeze(1) - 2 * points @ points[rows].T + norms[rows].unsqueeze(0)
        return sq.clamp(min=0).sqrt()

    starts = torch.randperm(n, generator=g)[:10].to(device)
    min_dist = dist_to(starts).mean(1)
    chosen = []
    for _ in range(count):
        i = int(torch.argmax(min_dist))
        chosen.append(i)
        min_dist = torch.minimum(min_dist, dist_to(torch.tensor([i], device=device)).squeeze(1))
    return torch.tensor(chosen, device=device)


def nearest(queries, bank, bank_norms):
    """Squared distance to, and index of, the nearest bank row of every query row."""
    sq = (queries * queries).sum(1, keepdim=True) - 2 * queries @ bank.T + bank_norms.unsqueeze(0)
    d, i = sq.min(1)
    return d.clamp(min=0), i


def run_patchcore(a, model, lists, clock):
    size = a.size
    started = time.perf_counter()
    bank_parts = []
    for paths in batches(lists["train"], a.batch):
        t = time.perf_counter()
        x = decode(paths, size, a.dev)
        clock.add("decode", t)
        t = time.perf_counter()
        with torch.no_grad():
            feats = features(model, x, ["layer2", "layer3"])
        clock.add("backbone", t)
        t = time.perf_counter()
        with torch.no_grad():
            e = patchcore_embedding(feats)
        bank_parts.append(e.reshape(-1, e.shape[-1]))
        clock.add("embed", t)
    t = time.perf_counter()
    with torch.no_grad():
        all_patches = torch.cat(bank_parts)
        del bank_parts
        g = torch.Generator().manual_seed(0)
        projection = torch.randn(all_patches.shape[1], 128, generator=g).to(a.dev)
        count = int(all_patches.shape[0] * a.coreset_ratio)
        chosen = greedy_coreset(all_patches @ projection, count, 0)
        bank = all_patches[chosen].contiguous()
        train_patches = all_patches.shape[0]
        del all_patches
        bank_norms = (bank * bank).sum(1)
    clock.add("coreset", t)
    sync(a.dev)
    fit_s = time.perf_counter() - started

    scores = []
    for items in batches(lists["test"], a.batch):
        t = time.perf_counter()
        x = decode([it["image"] for it in items], size, a.dev)
        clock.add("decode", t)
        t = time.perf_counter()
        with torch.no_grad():
            feats = features(model, x, ["layer2", "layer3"])
        clock.add("backbone", t)
        t = time.perf_counter()
        with torch.no_grad():
            e = patchcore_embedding(feats)
        clock.add("embed", t)
        t = time.perf_counter()
        with torch.no_grad():
            b, h, w, d = e.shape
            q = e.reshape(b, h * w, d)
            patch = torch.empty(b, h * w, device=a.dev)
            nn_index = torch.empty(b, h * w, dtype=torch.long, device=a.dev)
            for k in range(b):
                sq, idx = nearest(q[k], bank, bank_norms)
                patch[k] = sq.sqrt()
                nn_index[k] = idx
            # Paper eq. 7 as anomalib computes it: the worst patch, its nearest entry m*, and
            # m*'s 9 nearest entries in the bank; weight = 1 - softmax(distances)[0].
            worst = patch.argmax(1)
            rows = torch.arange(b, device=a.dev)
            s_star = patch[rows, worst]
            m_star = bank[nn_index[rows, worst]]
            sq = (m_star * m_star).sum(1, keepdim=True) - 2 * m_star @ bank.T + bank_norms.unsqueeze(0)
            support = sq.topk(min(9, bank.shape[0]), dim=1, largest=False).indices
            dist = (bank[support] - q[rows, worst].unsqueeze(1)).pow(2).sum(2).sqrt()
            weight = 1 - torch.softmax(dist, 1)[:, 0]
            scores.extend((weight * s_star).tolist())
        clock.add("knn", t)
        t = time.perf_counter()
        blur_maps(patch.reshape(b, h, w), size)
        clock.add("maps", t)
    return fit_s, scores, {"train_patches": int(train_patches), "memory": int(bank.shape[0])}


# ---- PaDiM --------------------------------------------------------------------------------

def padim_embedding(feats, idx):
    """[B, 100, H, W] on layer1's grid: layer2/3 cells repeated onto it, channels chosen by idx."""
    first = feats["layer1"]
    h = first.shape[2]
    parts = [first]
    for name in ["layer2", "layer3"]:
        x = feats[name]
        s = h // x.shape[2]
        parts.append(x.repeat_interleave(s, dim=2).repeat_interleave(s, dim=3))
    return torch.index_select(torch.cat(parts, 1), 1, idx)


def run_padim(a, model, lists, clock):
    size = a.size
    started = time.perf_counter()
    random.seed(1024)
    idx = torch.tensor(random.sample(range(64 + 128 + 256), 100), device=a.dev)
    layers = ["layer1", "layer2", "layer3"]
    train = []
    for paths in batches(lists["train"], a.batch):
        t = time.perf_counter()
        x = decode(paths, size, a.dev)
        clock.add("decode", t)
        t = time.perf_counter()
        with torch.no_grad():
            feats = features(model, x, layers)
        clock.add("backbone", t)
        t = time.perf_counter()
        with torch.no_grad():
            train.append(padim_embedding(feats, idx))
        clock.add("embed", t)
    t = time.perf_counter()
    with torch.no_grad():
        emb = torch.cat(train)  # [N, C, H, W]
        del train
        n, c, h, w = emb.shape
        x = emb.reshape(n, c, h * w).permute(2, 0, 1).double()  # [HW, N, C]
        mean = x.mean(1, keepdim=True)
        x = x - mean
        cov = torch.bmm(x.transpose(1, 2), x) / (n - 1) + 0.01 * torch.eye(c, dtype=torch.float64, device=a.dev)
        del x
        inv = torch.linalg.inv(cov.float().double()).float()  # [HW, C, C]
        del cov
        mean = mean.squeeze(1).float()  # [HW, C]
    clock.add("statistics", t)
    fit_s = time.perf_counter() - started

    scores = []
    for items in batches(lists["test"], a.batch):
        t = time.perf_counter()
        x = decode([it["image"] for it in items], size, a.dev)
        clock.add("decode", t)
        t = time.perf_counter()
        with torch.no_grad():
            feats = features(model, x, layers)
        clock.add("backbone", t)
        t = time.perf_counter()
        with torch.no_grad():
            e = padim_embedding(feats, idx)
        clock.add("embed", t)
        t = time.perf_counter()
        with torch.no_grad():
            b = e.shape[0]
            delta = e.reshape(b, c, h * w).permute(2, 0, 1) - mean.unsqueeze(1)  # [HW, B, C]
            dist = (torch.bmm(delta, inv) * delta).sum(2).clamp(min=0).sqrt().T.reshape(b, h, w)
        clock.add("mahalanobis", t)
        t = time.perf_counter()
        maps = blur_maps(dist, size)
        scores.extend(maps.reshape(b, -1).max(1).tolist())
        clock.add("maps", t)
    return fit_s, scores, {"positions": h * w, "channels": c}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["save-weights", "run"])
    p.add_argument("--arch")
    p.add_argument("--out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--method", choices=["patchcore", "padim"])
    p.add_argument("--lists")
    p.add_argument("--weights")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--coreset-ratio", type=float, default=0.1)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    a = p.parse_args()

    if a.command == "save-weights":
        torch.manual_seed(a.seed)
        model = getattr(torchvision.models, a.arch)()
        torch.save(model.state_dict(), a.out)
        print(json.dumps({"saved": a.out}))
        return

    torch.set_num_threads(a.threads)
    with open(a.lists) as f:
        lists = json.load(f)
    arch = "wide_resnet50_2" if a.method == "patchcore" else "resnet18"
    t0 = time.perf_counter()
    model = getattr(torchvision.models, arch)()
    model.load_state_dict(torch.load(a.weights))
    a.dev = pick(a.device)
    exact_float32()
    model.to(a.dev).eval()
    setup_s = time.perf_counter() - t0
    clock = Clock(a.dev)
    t1 = time.perf_counter()
    run = run_patchcore if a.method == "patchcore" else run_padim
    fit_s, scores, extra = run(a, model, lists, clock)
    total_s = time.perf_counter() - t1
    print(json.dumps({
        "engine": "pytorch " + torch.__version__,
        "method": a.method,
        "threads": torch.get_num_threads(),
        "setup_s": setup_s,
        "fit_s": fit_s,
        "eval_s": total_s - fit_s,
        "total_s": total_s,
        "cpu_s": time.process_time(),
        "stages": clock.stages,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "scores": scores,
        "extra": extra,
    }))


if __name__ == "__main__":
    main()
