"""Train the saliency network on OSIE + NUS-Scene (CPU friendly), then export it.

``python -m salcrop_filter.train --out models/`` writes ``salcrop.pt`` (state_dict, config, training record),
``salcrop.onnx`` and ``split.json``. Stage 1 trains on single augmented images (``prev_frame = frame``, zero state);
stage 2 on short virtual-camera sequences with back-propagation through time, so the motion stream and the
ConvGRU state learn from camera motion whose effect on the fixations is exactly known.

Loss per frame: KLD(target || prediction) + (1 - CC) on the dense fixation map, and -NSS on the fixation points.

``--size large`` trains the large preset (224x400, ``model.SIZES``) with the same stages; its checkpoint records the
size, and it exports ``salcrop-large.onnx`` (float only: the 8-bit CPU default is the small model's).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import pathlib
import platform
import shlex
import sys
import time

import numpy as np
import torch

from .. import commands
from ..checksums import file_sha256
from . import datasets, teacher, video_train
from .losses import saliency_loss, targets
from .model import SIZES, ModelConfig, SalCropNet
from .virtual_camera import camera_sequence, random_view

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


def _video_split(args) -> tuple[list, list, dict[str, str]]:
    """Training and held-out clips of the gaze data set, and what the training record says about them."""
    from .video_gaze import FOLDS, load_clips, unlabeled_clip

    clips = load_clips(args.gaze_root, videos=args.videos, fixations=args.fixations)
    held_names: set[str] = set()
    if args.hold_out_fold >= 0:
        held_names = set(FOLDS[args.hold_out_fold])
    if args.hold_out:
        held_names |= set(args.hold_out)
    unknown = held_names - {c.name for c in clips}
    if unknown and args.hold_out:
        raise SystemExit(f"--hold-out: unknown clips {sorted(unknown)}")
    train_clips = [c for c in clips if c.name not in held_names]
    if args.teacher_videos and args.no_teacher:
        raise SystemExit("--teacher-videos needs the teacher (drop --no-teacher)")
    try:
        unlabeled = [unlabeled_clip(p) for p in args.teacher_videos]
    except ValueError as e:
        raise SystemExit(f"--teacher-videos: {e}") from e
    if args.corpus:
        if args.no_teacher:
            raise SystemExit("--corpus needs the teacher (drop --no-teacher)")
        from . import corpus

        try:
            unlabeled += [corpus.gaze_clip(c) for c in corpus.split(corpus.load_clips())[0]]
        except FileNotFoundError as e:
            raise SystemExit(f"--corpus: {e}") from e
    held = [c for c in clips if c.name in held_names]
    if not train_clips:
        raise SystemExit("no training clips left after holding out")
    h = hashlib.sha256()
    for c in clips:
        h.update(c.name.encode())
        h.update(bytes.fromhex(file_sha256(c.path)))
        h.update(c.fixations.tobytes())
    record = {"gaze_data_sha256": h.hexdigest(), "video_clips_trained": " ".join(c.name for c in train_clips),
              "teacher_only_videos": " ".join(f"{c.path.name} (sha256 {file_sha256(c.path)[:16]})"
                                              for c in unlabeled),
              "video_clips_held_out": " ".join(c.name for c in held),
              "teacher_weights_sha256": "" if args.no_teacher else teacher.WEIGHTS_SHA256,
              "teacher_wheel": "" if args.no_teacher else f"{teacher.WHEEL_SPEC} sha256 {teacher.WHEEL_SHA256}"}
    return train_clips + unlabeled, held, record


def _score_clips(net: SalCropNet, clips: list, config: ModelConfig) -> dict[str, float]:
    """Mean metrics of the network (motion and state on) on the sampled frames of ``clips``."""
    from ..evaluation import video_saliency as vs

    net.eval()
    res, _ = vs.evaluate(clips, {"m": lambda c, f, i: vs.run_torch(net, f)}, (config.input_height, config.input_width))
    _set_train_mode(net)
    return res["m"]


def _fmt(r: dict[str, float]) -> str:
    return " ".join(f"{k} {v:.3f}" for k, v in r.items())


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; see the module docstring."""
    ap = commands.parser(
        "train", __doc__.splitlines()[0],
        "example (fine-tune the shipped model on your own gaze recordings, hevc-gaze layout):\n"
        "  salcrop train --init models/salcrop.pt --gaze-root my-gaze/ --out my-model/", alias="train")
    ap.add_argument("--out", type=pathlib.Path, default=datasets.repo_root() / "models")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--epochs", type=int, default=None, help="stage-1 epochs over the training images (8)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq-steps", type=int, default=None, help="stage-2 optimiser steps (60)")
    ap.add_argument("--seq-batch", type=int, default=4)
    ap.add_argument("--seq-length", type=int, default=4)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--first-trained-block", type=int, default=10,
                    help="encoder blocks below this index keep their ImageNet weights")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", choices=sorted(SIZES), default="small",
                    help="model size preset (training/model.py SIZES): small = the CPU default, 112x200; "
                    "large = 224x400 for CUDA")
    ap.add_argument("--height", type=int, default=None, help="override the preset's input height")
    ap.add_argument("--width", type=int, default=None, help="override the preset's input width")
    ap.add_argument("--no-export", action="store_true")
    video = ap.add_argument_group("real video with gaze (fine-tuning; hevc-gaze layout, video_gaze.py)")
    video.add_argument("--init", type=pathlib.Path, help="start from this checkpoint (e.g. models/salcrop.pt); "
                       "the still-image stages then default to 0 steps")
    video.add_argument("--gaze-root", type=pathlib.Path, help="folder with clips.csv, fixations.csv, videos/ "
                       "(default ../shared/data/hevc-gaze)")
    video.add_argument("--videos", type=pathlib.Path, help="videos folder, if not <gaze-root>/videos")
    video.add_argument("--fixations", type=pathlib.Path, help="fixations CSV, if not <gaze-root>/fixations.csv")
    video.add_argument("--hold-out-fold", type=int, default=-1,
                       help="hevc-gaze: leave this fold of video_gaze.FOLDS out (-1: train on every clip)")
    video.add_argument("--hold-out", nargs="*", default=None, help="clip names to leave out and score before/after")
    video.add_argument("--video-steps", type=int, default=None,
                       help="video-stage optimiser steps (default 300 with --init, else 0)")
    video.add_argument("--video-batch", type=int, default=4)
    video.add_argument("--video-length", type=int, default=4)
    video.add_argument("--image-batch", type=int, default=8, help="still images mixed into each video step")
    video.add_argument("--teacher-weight", type=float, default=1.0)
    video.add_argument("--teacher-videos", nargs="*", type=pathlib.Path, default=[],
                       help="videos without gaze that train on the teacher's maps alone (e.g. ../shared/videos/*.mp4)")
    video.add_argument("--no-teacher", action="store_true", help="gaze targets only (no distillation)")
    video.add_argument("--corpus", action="store_true",
                       help="distil on the unlabeled corpus's training part too (training/corpus.py; never its "
                            "kept-out part; the teacher's maps must be cached: python -m "
                            "salcrop_filter.training.corpus --teacher --part train)")
    video.add_argument("--no-scores", action="store_true", help="skip the held-out clips' before/after scores")
    args = ap.parse_args(argv)
    if args.epochs is None:
        args.epochs = 0 if args.init else 8
    if args.seq_steps is None:
        args.seq_steps = 0 if args.init else 60
    if args.video_steps is None:
        args.video_steps = 300 if args.init else 0

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

    config = dataclasses.replace(ModelConfig.preset(args.size), **{k: v for k, v in
                                 (("input_height", args.height), ("input_width", args.width)) if v is not None})
    config.validate()
    log(f"model size {config.size_name}: input {config.input_height}x{config.input_width}, "
        f"map {config.map_height}x{config.map_width}, motion stride {config.motion_stride}")
    net = SalCropNet(config, imagenet=args.init is None)
    if args.init is not None:
        video_train.init_from_checkpoint(net, args.init, log)
    video_record: dict[str, str] = {}
    clips_train, clips_held, clip_data = [], [], []
    if args.video_steps > 0:
        clips_train, clips_held, video_record = _video_split(args)
        teacher_net = None if args.no_teacher else teacher.load_teacher()
        clip_data = [video_train.clip_tensors(c, (config.input_height, config.input_width),
                                              (config.map_height, config.map_width), teacher_net)
                     for c in clips_train]
        log(f"video: {len(clips_train)} training clips ({sum(len(c.frames) for c in clip_data)} sampled frames), "
            f"held out {[c.name for c in clips_held]}; gaze data sha256 {video_record['gaze_data_sha256']}")
        if clips_held and not args.no_scores:
            before = _score_clips(net, clips_held, config)
            log(f"held-out clips before: {_fmt(before)}")
    params = _trainable(net, args.first_trained_block)
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)
    _set_train_mode(net)
    stage1_steps = args.epochs * (len(train) // args.batch)
    total_steps = stage1_steps + args.seq_steps + args.video_steps
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=max(total_steps, 1), pct_start=0.1)

    # One learning-rate schedule spans all stages.
    stage_single(net, opt, sched, train, args.epochs, args.batch, rng, log)
    stage_sequences(net, opt, sched, train, args.seq_steps, args.seq_batch, args.seq_length, rng, log)
    if args.video_steps > 0:
        video_train.stage_video(net, opt, sched, clip_data, train, args.video_steps, args.video_batch,
                                args.video_length, args.image_batch, 0.0 if args.no_teacher else args.teacher_weight,
                                rng, log)
    net.eval()
    if clips_held and not args.no_scores:
        after = _score_clips(net, clips_held, config)
        log(f"held-out clips after:  {_fmt(after)}")
        video_record["held_out_before"] = json.dumps(before)
        video_record["held_out_after"] = json.dumps(after)
    wall = time.time() - start
    record = {
        "seed": str(args.seed),
        "training_data_sha256": data_sha,
        "trained": datetime.date.today().isoformat(),
        "wall_time_s": f"{wall:.0f}",
        "device": f"CPU ({platform.processor() or platform.machine()}), {args.threads} threads, torch {torch.__version__}",
        "command": "PYTHONPATH=python python -m salcrop_filter.train " + shlex.join(argv if argv is not None
                                                                                    else sys.argv[1:]),
        **video_record,
        "init": str(args.init or ""),
        "stages": json.dumps({"video_steps": args.video_steps, "video_batch": args.video_batch,
                              "video_length": args.video_length, "image_batch": args.image_batch,
                              "teacher_weight": 0.0 if args.no_teacher else args.teacher_weight,
                              "stage1_epochs": args.epochs, "batch": args.batch, "stage2_steps": args.seq_steps,
                              "stage2_batch": args.seq_batch, "stage2_length": args.seq_length, "lr": args.lr,
                              "first_trained_block": args.first_trained_block}),
        "log": "\n".join(log_lines),
    }
    cfg = {**config.as_dict(), "size": config.size_name}
    torch.save({"state_dict": net.state_dict(), "config": cfg, "record": record}, args.out / "salcrop.pt")
    log(f"wrote {args.out / 'salcrop.pt'} after {wall:.0f} s")
    if not args.no_export:
        from ..export import export_onnx, onnx_name

        # The file is named as export names each size (salcrop-large.onnx for the large one). The large model is
        # float only (CUDA's, or a CPU user's explicit choice); the 8-bit file is the small model's, the CPU default.
        onnx_path = export_onnx(args.out / onnx_name(config.size_name), checkpoint=args.out / "salcrop.pt")
        log(f"wrote {onnx_path}")
        if config.size_name != "large":
            from .quantize import quantize_model

            log(f"wrote {quantize_model(onnx_path, args.out / 'salcrop-int8.onnx')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
