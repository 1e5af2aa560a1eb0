"""Fine-tuning on real video with real gaze, distilling the UNISAL teacher, with still images mixed in.

Each optimiser step takes ``batch`` short sequences of consecutive sampled frames (every
:data:`~salcrop_filter.evaluation.video_saliency.EVAL_STEP`-th frame, the previous sampled frame as ``prev_frame``,
the state carried, back-propagation through time) from random training clips, mirrored at random, and one batch of
augmented still images (OSIE/NUS-Scene, so the spatial knowledge of the still-image training stays). Per video frame
the loss is the still-image loss on the viewers' fixations active on it (dense map + NSS) plus ``teacher_weight`` x
(KLD + 1 - CC) against the teacher's map; frames without fixations learn from the teacher alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..evaluation.video_saliency import clip_frames
from . import datasets, teacher
from .losses import EPS, distill_loss, saliency_loss, targets
from .model import SalCropNet
from .video_gaze import GazeClip


@dataclass
class ClipTensors:
    """One clip at the model's input and map sizes: frames, fixation targets and the teacher's maps."""

    name: str
    frames: torch.Tensor  # uint8 [T,H,W,3]
    dense: torch.Tensor  # [T,h,w] sum 1 (zeros where no fixation)
    counts: torch.Tensor  # [T,h,w]
    teacher: torch.Tensor  # [T,h,w] sum 1 (zeros when the clip has no teacher maps)


def clip_tensors(clip: GazeClip, input_hw: tuple[int, int], map_hw: tuple[int, int],
                 teacher_net: torch.nn.Module | None = None) -> ClipTensors:
    """Frames (cached decode), gaze targets and teacher maps of every sampled frame of ``clip``."""
    frames, index = clip_frames(clip, input_hw)
    h, w = map_hw
    over = 4
    dense = np.zeros((len(index), h, w), np.float32)
    counts = np.zeros((len(index), h, w), np.float32)
    for k, i in enumerate(index):
        if len(clip.points(int(i))) == 0:
            continue
        g = torch.from_numpy(clip.gaze_map(int(i), h * over, w * over))[None, None]
        d = F.avg_pool2d(g, over)[0, 0]
        dense[k] = (d / d.sum().clamp_min(EPS)).numpy()
        counts[k] = clip.fixation_counts(int(i), h, w)
    tm = teacher.clip_maps(clip.path, clip.fps, net=teacher_net, compute=teacher_net is not None,
                           max_maps=clip.teacher_max_maps)
    tmaps = np.zeros((len(index), h, w), np.float32)
    if tm is not None:
        for k, i in enumerate(index):
            tmaps[k] = teacher.resize_map(tm.for_frame(int(i)), h, w)
    return ClipTensors(clip.name, torch.from_numpy(frames), torch.from_numpy(dense), torch.from_numpy(counts),
                       torch.from_numpy(tmaps))


def sample_sequences(rng: np.random.Generator, clips: Sequence[ClipTensors], batch: int,
                     length: int) -> list[tuple[ClipTensors, int, bool]]:
    """(clip, first sampled frame, mirror) for ``batch`` sequences; clips drawn in proportion to their length."""
    sizes = np.array([len(c.frames) - length for c in clips], dtype=np.float64)
    probs = np.maximum(sizes, 1) / np.maximum(sizes, 1).sum()
    out = []
    for _ in range(batch):
        c = clips[int(rng.choice(len(clips), p=probs))]
        out.append((c, int(rng.integers(0, max(1, len(c.frames) - length))), bool(rng.random() < 0.5)))
    return out


def sequence_batch(seqs: list[tuple[ClipTensors, int, bool]], length: int) -> dict[str, torch.Tensor]:
    """Frames [L+1,N,3,H,W] (index 0 = the frame before the sequence), targets [L,N,h,w] each, mirrored as drawn."""
    frames, dense, counts, tmaps = [], [], [], []
    for c, start, flip in seqs:
        lo = max(start - 1, 0)
        f = c.frames[lo:start + length].permute(0, 3, 1, 2).float().div(255)
        if start == 0:
            f = torch.cat([f[:1], f], 0)
        d, n, m = c.dense[start:start + length], c.counts[start:start + length], c.teacher[start:start + length]
        if flip:
            f, d, n, m = f.flip(-1), d.flip(-1), n.flip(-1), m.flip(-1)
        frames.append(f)
        dense.append(d)
        counts.append(n)
        tmaps.append(m)
    return {"frames": torch.stack(frames, 1), "dense": torch.stack(dense, 1), "counts": torch.stack(counts, 1),
            "teacher": torch.stack(tmaps, 1)}


def stage_video(net: SalCropNet, opt: torch.optim.Optimizer, sched, clips: Sequence[ClipTensors],
                stills: Sequence[datasets.Stimulus], steps: int, batch: int, length: int, image_batch: int,
                teacher_weight: float, rng: np.random.Generator, log: Callable[[str], None]) -> None:
    """The video stage; see the module docstring."""
    from .virtual_camera import random_view

    cfg = net.config
    hw = (cfg.input_height, cfg.input_width)
    totals = np.zeros(3)
    count = 0
    t0 = time.time()
    for s in range(steps):
        b = sequence_batch(sample_sequences(rng, clips, batch, length), length)
        state = net.zero_state(batch)
        gaze_loss, teach_loss = 0.0, 0.0
        for t in range(length):
            pred, state = net(b["frames"][t + 1], b["frames"][t], state)
            gaze_loss = gaze_loss + saliency_loss(pred[:, 0], b["dense"][t], b["counts"][t]) / length
            teach_loss = teach_loss + distill_loss(pred[:, 0], b["teacher"][t]) / length
        loss = gaze_loss + teacher_weight * teach_loss
        img_loss = torch.zeros(())
        if image_batch > 0 and stills:
            views = [random_view(rng, stills[int(i)], hw) for i in rng.integers(0, len(stills), image_batch)]
            x = torch.stack([v.frame for v in views])
            dense, cnt = targets(views, (cfg.map_height, cfg.map_width), hw)
            pred, _ = net(x, x, net.zero_state(len(views)))
            img_loss = saliency_loss(pred[:, 0], dense, cnt)
            loss = loss + img_loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        totals += [float(gaze_loss.detach()), float(teach_loss.detach()), float(img_loss.detach())]
        count += 1
        if (s + 1) % 25 == 0 or s + 1 == steps:
            g, te, im = totals / count
            log(f"video step {s + 1}/{steps} gaze {g:.4f} teacher {te:.4f} images {im:.4f} ({time.time() - t0:.0f} s)")
            totals[:] = 0
            count = 0


def init_from_checkpoint(net: SalCropNet, path, log: Callable[[str], None]) -> None:
    """Load a checkpoint's weights; parameters whose shape changed since (e.g. the motion stream) stay fresh."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    own = net.state_dict()
    usable = {k: v for k, v in ckpt["state_dict"].items() if k in own and own[k].shape == v.shape}
    fresh = sorted(set(own) - set(usable))
    net.load_state_dict(usable, strict=False)
    log(f"initialised from {path}: {len(usable)} tensors loaded, {len(fresh)} fresh"
        + (f" ({', '.join(sorted({k.split('.')[0] + '.' + k.split('.')[1] for k in fresh}))})" if fresh else ""))
