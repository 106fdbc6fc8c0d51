"""PyTorch reference for bench/onnx-predict.ts: PatchCore scoring (predict) the straightforward
way in Python PyTorch, on the same shapes as the spotdiff model: torchvision WideResNet-50-2
(seeded random weights; timing depends on shapes only) up to layer3, 3x3 patches pooled to
1024, a memory bank of --bank rows x 1024, Euclidean nearest neighbour, k = 9 re-weighted
image score, bilinear upsampling and scipy's sigma = 4 blur of each map (the official code's).
Input: preprocessed images (no decoding), as the other sides. Prints one JSON object.

usage: python3 onnx_predict.py --bank M [--threads 2] [--size 256] [--batch 4] [--runs 3]
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F
import torchvision

from detect_pipeline import blur_maps, features, nearest, patchcore_embedding


def score(model, bank, bank_norms, x, size, k=9):
    with torch.no_grad():
        feats = features(model, x, ["layer2", "layer3"])
        emb = patchcore_embedding(feats)  # [B, h, w, D]
        b, h, w, d = emb.shape
        q = emb.reshape(-1, d)
        sq, idx = nearest(q, bank, bank_norms)
        patch = sq.sqrt().reshape(b, h * w)
        worst = patch.argmax(1)
        s_star = patch.max(1).values
        rows = worst + torch.arange(b) * h * w
        test_feature = q[rows]
        m_star = bank[idx[rows]]
        support = (bank_norms.unsqueeze(0) - 2 * m_star @ bank.T).topk(k, 1, largest=False).indices
        dist = (bank[support] - test_feature.unsqueeze(1)).pow(2).sum(2).sqrt()
        image = (1 - dist.softmax(1)[:, 0]) * s_star
        maps = blur_maps(patch.reshape(b, h, w), size)
    return image, maps


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bank", type=int, required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--runs", type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = torchvision.models.wide_resnet50_2().eval()
    bank = torch.randn(a.bank, 1024)
    bank_norms = (bank * bank).sum(1)
    one = torch.rand(1, 3, a.size, a.size)
    many = torch.rand(a.batch, 3, a.size, a.size)
    score(model, bank, bank_norms, one, a.size)  # warm-up
    lat = []
    for _ in range(a.runs):
        t = time.perf_counter()
        score(model, bank, bank_norms, one, a.size)
        lat.append(time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(a.runs):
        score(model, bank, bank_norms, many, a.size)
    thr = a.batch * a.runs / (time.perf_counter() - t)
    print(json.dumps({"engine": "pytorch", "latency_ms": 1000 * statistics.median(lat), "images_per_s": thr, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
