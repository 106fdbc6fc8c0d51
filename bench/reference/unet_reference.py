"""The U-Net of spotdiff's src/models/unet.ts in plain torch modules, the one reference for the
tests (test/models/unet.test.ts) and the bench (twoclass_step.py): segmentation_models_pytorch's
Unet layout on a torchvision ResNet encoder (its fc removed) — skips from the stem and
layer1..layer4, five decoder blocks 256..16 of nearest upsampling to the skip's size,
concatenation and two 3x3 conv-BN-ReLU, a 3x3 head to one channel.

UNet(arch, seed): with a seed, torch.manual_seed(seed) first and then encoder, decoder and head
drawn in that order, as spotdiff's UNet documents, so the two start from the same weights.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


def conv_bn_relu(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class Block(nn.Module):
    def __init__(self, cin, cskip, cout):
        super().__init__()
        self.conv1 = conv_bn_relu(cin + cskip, cout)
        self.conv2 = conv_bn_relu(cout, cout)

    def forward(self, x, skip, size):
        x = F.interpolate(x, size=size, mode="nearest")
        if skip is not None:
            x = torch.cat([x, skip], 1)
        return self.conv2(self.conv1(x))


def out_channels(layer):
    last = layer[-1]
    return (last.conv3 if hasattr(last, "conv3") else last.conv2).out_channels


class UNet(nn.Module):
    def __init__(self, arch, seed=None):
        super().__init__()
        if seed is not None:
            torch.manual_seed(seed)
        enc = getattr(torchvision.models, arch)()
        del enc.fc
        self.encoder = enc
        e = [64] + [out_channels(m) for m in (enc.layer1, enc.layer2, enc.layer3, enc.layer4)]
        ins, skips, outs = [e[4], 256, 128, 64, 32], [e[3], e[2], e[1], e[0], 0], [256, 128, 64, 32, 16]
        self.decoder = nn.Module()
        self.decoder.blocks = nn.ModuleList([Block(i, s, o) for i, s, o in zip(ins, skips, outs)])
        self.segmentation_head = nn.Sequential(nn.Conv2d(16, 1, 3, padding=1))

    def forward(self, x):
        e = self.encoder
        stem = e.relu(e.bn1(e.conv1(x)))
        l1 = e.layer1(e.maxpool(stem))
        l2 = e.layer2(l1)
        l3 = e.layer3(l2)
        h = e.layer4(l3)
        for block, skip in zip(self.decoder.blocks, [l3, l2, l1, stem, None]):
            h = block(h, skip, x.shape[-2:] if skip is None else skip.shape[-2:])
        return self.segmentation_head(h)
