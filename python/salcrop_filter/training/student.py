"""A cheaper network distilled from the shipped one (issue 27): measured, not shipped.

The student is :class:`~salcrop_filter.training.model.SalCropNet` with :data:`STUDENT`'s shape: each MobileNetV2
stage keeps its first ``encoder_depth`` blocks (1: 7 of 17 blocks), and the camera-shift search runs at stride 8. It
starts from the teacher's weights (every kept layer takes the weights of the same layer in the full network) and
learns to give the teacher's maps: per sampled frame, KLD + 1 - CC between the student's map and the teacher's.

The teacher is the shipped float model (``models/salcrop.pt``); the material is the unlabeled corpus's training part
(:func:`salcrop_filter.training.corpus.split`: its kept-out repositories are never read), sampled every
:data:`SAMPLE_STEP`-th frame as the core samples it, in sequences of :data:`SEQUENCE` frames that both networks run
from a zero state (a shot's start), mirrored at random. hevc-gaze, ../shared/videos and the still images are not
used, so the gaze clips judge the student as they judge the teacher.

    python -m salcrop_filter.training.student --steps 1500 [--depth 1] --out /tmp/student.pt

Why none is shipped (EVALUATION.md "Issue 27 (stop 33)"): with one block per stage the 8-bit network takes ~35% less
time, with two ~17% less, but the filter's windows moved on hevc-gaze (-3.3 and -1.4 points mean at 9:16, one clip
-40 and -14) and on the kept-out corpus (one clip -11 and -28).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import pathlib
import time

import numpy as np
import torch

from . import corpus
from .losses import distill_loss
from .model import ModelConfig, SalCropNet, load_checkpoint

#: The student's shape: the shipped small model's input and state, one block per encoder stage, the camera-shift
#: search at stride 8 (a 14x25 grid instead of 28x50).
STUDENT = ModelConfig(motion_stride=8, encoder_depth=1)
#: Frames between two samples: the core runs the network on every 3rd frame at most.
SAMPLE_STEP = 3
#: Sampled frames of a clip read (from its start): bounds memory and keeps long clips from dominating.
MAX_SAMPLES = 120
#: Consecutive sampled frames per training sequence (both networks start it from a zero state).
SEQUENCE = 5


def init_from_teacher(student: SalCropNet, teacher: SalCropNet) -> None:
    """Copy every teacher weight the student has; a kept encoder layer takes the same layer's weights."""
    src = teacher.state_dict()
    mapping = student.encoder.source_indices()
    out = {}
    for key, value in student.state_dict().items():
        name = key
        if key.startswith("encoder.features."):
            index, rest = key[len("encoder.features."):].split(".", 1)
            name = f"encoder.features.{mapping[int(index)]}.{rest}"
        if src[name].shape != value.shape:
            raise ValueError(f"{key}: teacher's {name} is {tuple(src[name].shape)}, student's {tuple(value.shape)}")
        out[key] = src[name].clone()
    student.load_state_dict(out, strict=True)


def clip_samples(clip: corpus.CorpusClip, hw: tuple[int, int]) -> np.ndarray:
    """Every :data:`SAMPLE_STEP`-th frame of the clip from its start (at most :data:`MAX_SAMPLES`), ``uint8
    [T, H, W, 3]`` RGB squashed to ``hw``: the evaluation's cached decode (``video_saliency.clip_frames``) of the
    clip cut to that many frames."""
    from ..evaluation.video_saliency import clip_frames
    from .video_gaze import GazeClip

    head = GazeClip(name=clip.name, path=clip.path, width=clip.width, height=clip.height, fps=clip.fps,
                    frames=SAMPLE_STEP * MAX_SAMPLES, camera_motion=(), fixations=np.zeros((0, 5)))
    return clip_frames(head, hw, SAMPLE_STEP)[0]


def _as_input(frames: np.ndarray, mirror: np.ndarray) -> torch.Tensor:
    """``uint8 [B, T, H, W, 3]`` -> float ``[T, B, 3, H, W]`` in [0, 1], rows of ``mirror`` flipped left-right."""
    x = torch.from_numpy(frames).float().div_(255).permute(1, 0, 4, 2, 3)
    if mirror.any():
        x[:, torch.from_numpy(mirror)] = x[:, torch.from_numpy(mirror)].flip(-1)
    return x.contiguous()


def run_sequence(net: SalCropNet, x: torch.Tensor) -> list[torch.Tensor]:
    """The maps of ``x`` ([T, B, 3, H, W]) from a zero state, each frame's predecessor as ``prev_frame`` (the first
    frame its own, as at a shot's start)."""
    state = net.zero_state(x.shape[1])
    maps = []
    for t in range(x.shape[0]):
        sal, state = net(x[t], x[t - 1] if t else x[t], state)
        maps.append(sal)
    return maps


def freeze_batchnorm(net: torch.nn.Module) -> None:
    """Batch statistics of a few sequences are noisier than the teacher's running ones: keep those."""
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.eval()


def train(teacher_path: pathlib.Path, out: pathlib.Path, steps: int, batch: int, lr: float, seed: int,
          depth: int | None = None, log_every: int = 50) -> dict:
    """Distil a student (``depth``: its encoder's blocks per stage, :data:`STUDENT`'s when None); write its
    checkpoint (state_dict, config, record) to ``out``."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    teacher, teacher_record = load_checkpoint(teacher_path)
    config = STUDENT
    if depth is not None:
        config = dataclasses.replace(config, encoder_depth=depth)
    student = SalCropNet(config)
    init_from_teacher(student, teacher)
    hw = (config.input_height, config.input_width)

    train_clips, _ = corpus.split(corpus.load_clips())
    t0 = time.time()
    clips = [(c.name, clip_samples(c, hw)) for c in train_clips]
    clips = [(n, a) for n, a in clips if len(a) >= SEQUENCE]
    print(f"{len(clips)} training clips, {sum(len(a) for _, a in clips)} sampled frames "
          f"(decoded in {time.time() - t0:.0f} s)", flush=True)
    weights = np.array([len(a) - SEQUENCE + 1 for _, a in clips], float)
    weights /= weights.sum()

    opt = torch.optim.AdamW(student.parameters(), lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=max(0.05, 2 / steps))
    student.train()
    freeze_batchnorm(student)
    running = []
    t0 = time.time()
    for step in range(steps):
        picks = rng.choice(len(clips), size=batch, p=weights)
        seqs = []
        for k in picks:
            arr = clips[k][1]
            start = rng.integers(0, len(arr) - SEQUENCE + 1)
            seqs.append(arr[start:start + SEQUENCE])
        x = _as_input(np.stack(seqs), rng.random(batch) < 0.5)
        with torch.no_grad():
            target = run_sequence(teacher, x)
        pred = run_sequence(student, x)
        loss = sum(distill_loss(p, t) for p, t in zip(pred, target)) / len(pred)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        running.append(loss.item())
        if (step + 1) % log_every == 0:
            print(f"step {step + 1}/{steps}: loss {np.mean(running[-log_every:]):.4f} "
                  f"({time.time() - t0:.0f} s)", flush=True)
    student.eval()
    names = sorted(n for n, _ in clips)
    record = {
        "trained": time.strftime("%Y-%m-%d"),
        "training_data_sha256": hashlib.sha256("\n".join(names).encode()).hexdigest(),
        "recipe": (f"training.student: distilled from {teacher_path.name} "
                   f"({teacher_record.get('training_data_sha256', '?')[:12]}), {steps} steps x {batch} sequences of "
                   f"{SEQUENCE} frames sampled every {SAMPLE_STEP}, corpus training part ({len(clips)} clips), "
                   f"lr {lr}, seed {seed}"),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    cfg = dict(dataclasses.asdict(config), size=config.size_name)
    torch.save({"state_dict": student.state_dict(), "config": cfg, "record": record}, out)
    return record


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; see the module docstring."""
    from .datasets import repo_root

    ap = argparse.ArgumentParser(description="distil a cheaper student from the shipped model")
    ap.add_argument("--teacher", type=pathlib.Path, default=repo_root() / "models" / "salcrop.pt")
    ap.add_argument("--out", type=pathlib.Path, required=True)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--depth", type=int, default=None, help="encoder blocks per stage (default: 1)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    record = train(args.teacher, args.out, args.steps, args.batch, args.lr, args.seed, args.depth)
    print(record["recipe"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
