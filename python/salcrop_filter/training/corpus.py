"""The unlabeled corpus for distillation: 112 short real clips from 42 source repositories, no gaze.

``../shared/data/unlabeled-videos/`` (``$SALCROP_DATA/unlabeled-videos``): ``clips.csv`` (one row per clip: file,
category, camera, width, height, fps, seconds, description, source_repo, ...) and ``videos/``; SOURCES.md there says
where each clip came from.

The split is **by source repository** (several clips of one repository share a camera, a scene or a person; split by
clip, the kept-out part would flatter a model). :data:`KEPT_OUT_REPOS` is the kept-out third, which nothing may be
trained or tuned on; every other repository is training material. It was drawn once by :func:`draw_kept_out`
(repositories in the order of ``sha256("salcrop-kept-out:" + repo)``, each taken while the kept-out clips stay
within a third of the corpus) and is stored here, so that a later change of clips.csv cannot move a clip from one
part to the other unnoticed (``tests/test_corpus.py`` checks the stored list against the rule and the CSV).

The teacher's maps of every clip are cached (:func:`salcrop_filter.training.teacher.clip_maps`) for the first
:data:`TEACHER_MAPS_PER_CLIP` sampled frames (the teacher samples ~6 frames/s, so ~5 s of each clip): the teacher costs
0.1-0.3 s a frame on a CPU, and a bounded share of each clip keeps the long ones from dominating training or scores.

``python -m salcrop_filter.training.corpus [--teacher] [--part kept-out|train|all]`` lists the split and, with
``--teacher``, computes the missing teacher maps.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import pathlib
from dataclasses import dataclass
from typing import Sequence

from .datasets import data_root

#: The kept-out repositories (37 of 112 clips, 22 of 42 repositories); see the module docstring.
KEPT_OUT_REPOS: tuple[str, ...] = (
    "DAMO-NLP-SG/VideoLLaMA2", "DeepLabCut/DeepLabCut", "Jeff-sjtu/HybrIK", "LLaVA-VL/LLaVA-NeXT",
    "OpenGVLab/Ask-Anything", "OpenTalker/SadTalker", "OpenTalker/video-retalking", "PKU-YuanGroup/LanguageBind",
    "PaddlePaddle/PaddleVideo", "Smorodov/Multitarget-tracker", "ahmetozlu/vehicle_counting_tensorflow",
    "ali-vilab/videocomposer", "dmlc/decord", "federicoparroni/IACV_background_subtractor", "pytorch/torchcodec",
    "rehg-lab/RAVE", "theAIGuysCode/yolov4-deepsort", "timesler/facenet-pytorch", "udacity/CarND-LaneLines-P1",
    "udacity/CarND-Vehicle-Detection", "v-iashin/video_features", "yoyo-nb/Thin-Plate-Spline-Motion-Model",
)
KEPT_OUT_SALT = "salcrop-kept-out"
#: Sampled frames (~6 frames/s) of each clip the teacher maps, from its start.
TEACHER_MAPS_PER_CLIP = 32


@dataclass(frozen=True)
class CorpusClip:
    """One unlabeled clip, as listed in clips.csv."""

    name: str  # the file's stem, e.g. "017_vc_5360763"
    path: pathlib.Path
    category: str
    camera: str  # "static" or "moving"
    width: int
    height: int
    fps: float
    seconds: float
    source_repo: str

    @property
    def kept_out(self) -> bool:
        return self.source_repo in KEPT_OUT_REPOS


def default_root() -> pathlib.Path:
    """``<data root>/unlabeled-videos``."""
    return data_root() / "unlabeled-videos"


def load_clips(root: pathlib.Path | None = None) -> list[CorpusClip]:
    """Every clip of clips.csv (in its order); a listed video that is missing is an error."""
    root = default_root() if root is None else pathlib.Path(root)
    table = root / "clips.csv"
    if not table.is_file():
        raise FileNotFoundError(f"{table}: the unlabeled corpus is missing (expected ../shared/data/unlabeled-videos)")
    clips = []
    with open(table, newline="") as f:
        for row in csv.DictReader(f):
            path = root / "videos" / row["file"]
            if not path.is_file():
                raise FileNotFoundError(f"{path}: listed in {table} but missing")
            clips.append(CorpusClip(name=path.stem, path=path, category=row["category"], camera=row["camera"],
                                    width=int(row["width"]), height=int(row["height"]), fps=float(row["fps"]),
                                    seconds=float(row["seconds"]), source_repo=row["source_repo"]))
    return clips


def split(clips: Sequence[CorpusClip]) -> tuple[list[CorpusClip], list[CorpusClip]]:
    """(train, kept-out) by source repository (:data:`KEPT_OUT_REPOS`)."""
    return [c for c in clips if not c.kept_out], [c for c in clips if c.kept_out]


def draw_kept_out(clips: Sequence[CorpusClip], salt: str = KEPT_OUT_SALT) -> tuple[str, ...]:
    """The rule :data:`KEPT_OUT_REPOS` was drawn by: repositories in the order of ``sha256(salt:repo)``, each taken
    while the kept-out clips stay at most a third of all (rounded); returned sorted."""
    counts: dict[str, int] = {}
    for c in clips:
        counts[c.source_repo] = counts.get(c.source_repo, 0) + 1
    target = round(len(clips) / 3)
    taken, total = [], 0
    for repo in sorted(counts, key=lambda r: hashlib.sha256(f"{salt}:{r}".encode()).hexdigest()):
        if total + counts[repo] <= target:
            taken.append(repo)
            total += counts[repo]
    return tuple(sorted(taken))


def teacher_maps(clip: CorpusClip, net=None, compute: bool = True):  # -> teacher.TeacherMaps | None
    """The teacher's cached maps of the clip's first :data:`TEACHER_MAPS_PER_CLIP` sampled frames."""
    from . import teacher

    return teacher.clip_maps(clip.path, clip.fps, net=net, compute=compute, max_maps=TEACHER_MAPS_PER_CLIP)


def gaze_clip(clip: CorpusClip):  # -> video_gaze.GazeClip
    """The clip as training material without gaze (the teacher's cached maps are its only target), cut to the frames
    the teacher mapped; its maps must be cached (:func:`main` with ``--teacher``)."""
    import numpy as np

    from .video_gaze import GazeClip

    tm = teacher_maps(clip, compute=False)
    if tm is None:
        raise FileNotFoundError(f"{clip.name}: the teacher's maps are not cached; run python -m "
                                "salcrop_filter.training.corpus --teacher --part train")
    frames = tm.end
    if frames is None:  # mapped to its end: count the frames
        from .teacher import open_video

        with open_video(clip.path) as container:
            frames = sum(1 for _ in container.decode(video=0))
    return GazeClip(name=clip.name, path=clip.path, width=clip.width, height=clip.height, fps=clip.fps,
                    frames=frames, camera_motion=(), fixations=np.zeros((0, 5)),
                    teacher_max_maps=TEACHER_MAPS_PER_CLIP)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; see the module docstring."""
    import time

    ap = argparse.ArgumentParser(description="the unlabeled corpus: its split and the teacher's maps")
    ap.add_argument("--root", type=pathlib.Path, default=None)
    ap.add_argument("--part", choices=("kept-out", "train", "all"), default="all")
    ap.add_argument("--teacher", action="store_true", help="compute and cache the teacher's missing maps")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    clips = load_clips(args.root)
    train, kept = split(clips)
    print(f"{len(clips)} clips: train {len(train)} ({len({c.source_repo for c in train})} repositories), "
          f"kept out {len(kept)} ({len({c.source_repo for c in kept})} repositories)")
    chosen = {"kept-out": kept, "train": train, "all": kept + train}[args.part]
    if not args.teacher:
        for c in chosen:
            print(f"{'kept-out' if c.kept_out else 'train'}\t{c.name}\t{c.category}\t{c.source_repo}")
        return 0
    import torch

    from . import teacher

    torch.set_num_threads(args.threads)
    net = None
    for c in chosen:
        if teacher_maps(c, compute=False) is not None:
            continue
        net = teacher.load_teacher() if net is None else net
        t0 = time.time()
        tm = teacher_maps(c, net)
        print(f"{c.name}: {len(tm.frames)} maps ({time.time() - t0:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
