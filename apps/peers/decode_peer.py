#!/usr/bin/env python3
"""Decode-throughput peer for apps/bench_decode: one pass of PyTorch's DataLoader over an
image folder (class subfolders), each file opened with PIL, converted to the color mode
and made a float tensor (torchvision's ImageFolder + ToTensor), as many worker processes as
plexus's decode threads. Prints one line: "images=<n> seconds=<s> images_per_s=<r>".

  python3 decode_peer.py FOLDER [--workers 2] [--batch-size 128] [--color-mode grayscale]
Debian: python3-torch, python3-torchvision, python3-pil.
"""
import argparse
import time

import torch
from PIL import Image
from torchvision import datasets, transforms


def main():
    p = argparse.ArgumentParser()
    p.add_argument("folder")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--color-mode", default="grayscale", choices=["grayscale", "rgb"])
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    mode = "L" if a.color_mode == "grayscale" else "RGB"

    def loader(path):
        with open(path, "rb") as f:
            return Image.open(f).convert(mode)

    ds = datasets.ImageFolder(a.folder, loader=loader, transform=transforms.ToTensor())
    dl = torch.utils.data.DataLoader(ds, batch_size=a.batch_size, shuffle=True,
                                     num_workers=a.workers)
    start = time.perf_counter()
    n = 0
    for x, y in dl:
        n += x.shape[0]
    s = time.perf_counter() - start
    print(f"images={n} seconds={s:.3f} images_per_s={n / s:.1f}")


if __name__ == "__main__":
    main()
