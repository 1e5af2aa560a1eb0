"""Train the saliency network on OSIE + NUS-Scene (CPU friendly), then export it.

``python -m salcrop_filter.train --out models/`` writes ``salcrop.pt`` (state_dict, config, training record),
``salcrop.onnx`` and ``split.json``. Stage 1 trains on single augmented images (``prev_frame = frame``, zero state);
stage 2 on short virtual-camera sequences with back-propagation through time, so the motion stream and the
ConvGRU state learn from camera motion whose effect on the fixations is exactly known.

Loss per frame: KLD(target || prediction) + (1 - CC) on the dense fixation map, and -NSS on the fixation points.
"""

from __future__ import annotations

import argparse
import datetime
import json
import pathlib
import platform
import shlex
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from . import datasets
from .model import ModelConfig, SalCropNet
from .virtual_camera import View, camera_sequence, random_view

NSS_WEIGHT = 0.1
EPS = 1e-8
#: Targets are built at this multiple of the map resolution, blurred, then averaged down (less quantisation).
TARGET_OVERSAMPLE = 4


def _gaussian_kernel(sigma: float) -> torch.Tensor:
    r = max(1, int(3 * sigma + 0.5))
    x = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def targets(views: list[View], map_hw: tuple[int, int], frame_hw: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Dense target maps [N,h,w] (sum 1, zero where a view shows no fixation) and fixation counts [N,h,w]."""
    h, w = map_hw
    oh, ow = h * TARGET_OVERSAMPLE, w * TARGET_OVERSAMPLE
    dense = torch.zeros(len(views), h, w)
    counts = torch.zeros(len(views), h, w)
    for i, v in enumerate(views):
        if len(v.points) == 0:
            continue
        p = torch.from_numpy(v.points)
        for grid, gh, gw in ((counts, h, w), (None, oh, ow)):
            xi = (p[:, 0] * gw / frame_hw[1]).long().clamp(0, gw - 1)
            yi = (p[:, 1] * gh / frame_hw[0]).long().clamp(0, gh - 1)
            m = torch.zeros(gh * gw).index_add_(0, yi * gw + xi, torch.ones(len(p))).view(1, 1, gh, gw)
            if grid is not None:
                grid[i] = m[0, 0]
                continue
            k = _gaussian_kernel(v.sigma * gw / frame_hw[1])
            m = F.conv2d(m, k.view(1, 1, 1, -1), padding=(0, len(k) // 2))
            m = F.conv2d(m, k.view(1, 1, -1, 1), padding=(len(k) // 2, 0))
            m = F.avg_pool2d(m, TARGET_OVERSAMPLE)[0, 0]
            dense[i] = m / m.sum().clamp_min(EPS)
    return dense, counts


def saliency_loss(pred: torch.Tensor, dense: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Mean over the views that show fixations of KLD + (1 - CC) - NSS_WEIGHT * NSS."""
    p = pred.flatten(1)
    q = dense.flatten(1)
    c = counts.flatten(1)
    valid = c.sum(1) > 0
    if not valid.any():
        return pred.sum() * 0
    p, q, c = p[valid], q[valid], c[valid]
    kld = (q * torch.log(EPS + q / (p + EPS))).sum(1)
    pc, qc = p - p.mean(1, keepdim=True), q - q.mean(1, keepdim=True)
    cc = (pc * qc).sum(1) / (pc.norm(dim=1) * qc.norm(dim=1) + EPS)
    z = pc / (p.std(1, keepdim=True) + EPS)
    nss = (z * c).sum(1) / c.sum(1)
    return (kld + (1 - cc) - NSS_WEIGHT * nss).mean()


def _trainable(net: SalCropNet, first_trained_block: int) -> list[torch.nn.Parameter]:
    """Freeze the ImageNet encoder below ``first_trained_block``: the high-resolution layers cost most on a CPU."""
    params = []
    for name, p in net.named_parameters():
        frozen = name.startswith("encoder.features.") and int(name.split(".")[2]) < first_trained_block
        p.requires_grad_(not frozen)
        if not frozen:
            params.append(p)
    return params


def _set_train_mode(net: SalCropNet) -> None:
    # BatchNorm statistics of the encoder stay at ImageNet's: batches of a few images on a CPU are too small.
    net.train()
    net.encoder.eval()


def stage_single(net: SalCropNet, opt: torch.optim.Optimizer, sched: torch.optim.lr_scheduler.LRScheduler,
                 train: list[datasets.Stimulus], epochs: int, batch: int, rng: np.random.Generator, log) -> None:
    """Stage 1: single images, no motion (``prev_frame = frame``) and a zero state."""
    cfg = net.config
    hw = (cfg.input_height, cfg.input_width)
    steps = len(train) // batch
    for epoch in range(epochs):
        order = rng.permutation(len(train))
        total = 0.0
        t0 = time.time()
        for s in range(steps):
            views = [random_view(rng, train[i], hw) for i in order[s * batch:(s + 1) * batch]]
            x = torch.stack([v.frame for v in views])
            dense, counts = targets(views, (cfg.map_height, cfg.map_width), hw)
            pred, _ = net(x, x, net.zero_state(len(views)))
            loss = saliency_loss(pred[:, 0], dense, counts)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach())
        log(f"stage1 epoch {epoch + 1}/{epochs} loss {total / steps:.4f} ({time.time() - t0:.0f} s)")


def stage_sequences(net: SalCropNet, opt: torch.optim.Optimizer, sched: torch.optim.lr_scheduler.LRScheduler,
                    train: list[datasets.Stimulus], steps: int, batch: int, length: int, rng: np.random.Generator, log) -> None:
    """Stage 2: virtual-camera sequences, state carried and gradients through time (BPTT over ``length`` frames)."""
    cfg = net.config
    hw = (cfg.input_height, cfg.input_width)
    total, count = 0.0, 0
    t0 = time.time()
    for s in range(steps):
        seqs = [camera_sequence(rng, train, length, hw) for _ in range(batch)]
        state = net.zero_state(batch)
        prev = torch.stack([seq[0].frame for seq in seqs])
        loss = 0.0
        for t in range(length):
            views = [seq[t] for seq in seqs]
            x = torch.stack([v.frame for v in views])
            dense, counts = targets(views, (cfg.map_height, cfg.map_width), hw)
            pred, state = net(x, prev, state)
            loss = loss + saliency_loss(pred[:, 0], dense, counts) / length
            prev = x
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        total, count = total + float(loss.detach()), count + 1
        if (s + 1) % 20 == 0 or s + 1 == steps:
            log(f"stage2 step {s + 1}/{steps} loss {total / count:.4f} ({time.time() - t0:.0f} s)")
            total, count = 0.0, 0


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=pathlib.Path, default=datasets.repo_root() / "models")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--epochs", type=int, default=8, help="stage-1 epochs over the training images")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq-steps", type=int, default=60, help="stage-2 optimiser steps")
    ap.add_argument("--seq-batch", type=int, default=4)
    ap.add_argument("--seq-length", type=int, default=4)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--first-trained-block", type=int, default=10,
                    help="encoder blocks below this index keep their ImageNet weights")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--height", type=int, default=ModelConfig.input_height)
    ap.add_argument("--width", type=int, default=ModelConfig.input_width)
    ap.add_argument("--no-export", action="store_true")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    log_lines: list[str] = []

    def log(msg: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        log_lines.append(line)
        print(line, flush=True)

    start = time.time()
    root = datasets.data_root()
    data_sha = datasets.data_sha256(root)
    stimuli = datasets.load_all(root)
    train, held = datasets.split(stimuli)
    datasets.write_split(args.out / "split.json")
    log(f"data sha256 {data_sha}; {len(train)} training and {len(held)} held-out images")

    config = ModelConfig(input_height=args.height, input_width=args.width)
    net = SalCropNet(config, imagenet=True)
    params = _trainable(net, args.first_trained_block)
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)
    _set_train_mode(net)
    stage1_steps = args.epochs * (len(train) // args.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=stage1_steps + args.seq_steps,
                                                pct_start=0.1)

    # One learning-rate schedule spans both stages.
    stage_single(net, opt, sched, train, args.epochs, args.batch, rng, log)
    stage_sequences(net, opt, sched, train, args.seq_steps, args.seq_batch, args.seq_length, rng, log)
    net.eval()
    wall = time.time() - start
    record = {
        "seed": str(args.seed),
        "training_data_sha256": data_sha,
        "trained": datetime.date.today().isoformat(),
        "wall_time_s": f"{wall:.0f}",
        "device": f"CPU ({platform.processor() or platform.machine()}), {args.threads} threads, torch {torch.__version__}",
        "command": "PYTHONPATH=python python -m salcrop_filter.train " + shlex.join(argv if argv is not None
                                                                                    else sys.argv[1:]),
        "stages": json.dumps({"stage1_epochs": args.epochs, "batch": args.batch, "stage2_steps": args.seq_steps,
                              "stage2_batch": args.seq_batch, "stage2_length": args.seq_length, "lr": args.lr,
                              "first_trained_block": args.first_trained_block}),
        "log": "\n".join(log_lines),
    }
    cfg = {"input_height": config.input_height, "input_width": config.input_width,
           "state_channels": config.state_channels, "num_priors": config.num_priors}
    torch.save({"state_dict": net.state_dict(), "config": cfg, "record": record}, args.out / "salcrop.pt")
    log(f"wrote {args.out / 'salcrop.pt'} after {wall:.0f} s")
    if not args.no_export:
        from ..export import export_onnx

        onnx_path = export_onnx(args.out / "salcrop.onnx", checkpoint=args.out / "salcrop.pt")
        log(f"wrote {onnx_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
