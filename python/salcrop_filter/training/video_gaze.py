"""Real video with real gaze: the hevc-gaze clips (21 HEVC test sequences, 32 viewers each, ../shared/data/hevc-gaze).

The layout (also the documented input format for a user's own gaze data):
- ``clips.csv``: clip, width, height, fps, frames, camera_motion_every_10_frames (space-separated direction codes,
  0 = static, 1..8 = up, up-right, ..., up-left; empty when the camera never moves);
- ``fixations.csv``: clip, subject, start_ms, duration_ms, x, y (ms from the clip's first frame; frame i is shown
  from ``1000 * i / fps`` ms; x, y in the video's own pixels, origin top-left);
- ``videos/<clip>.*``: the video files.

A fixation counts on frame i when the middle of that frame's display interval lies inside the fixation's
``[start, start + duration)``. Validation is by whole clips left out (:data:`FOLDS`), never by frames of a clip
seen in training.
"""

from __future__ import annotations

import csv
import pathlib
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import numpy as np

from ..decoders import missing_decoder
from .datasets import SIGMA_FRACTION, data_root, dense_map, fixation_map

__all__ = ["GazeClip", "FOLDS", "load_clips", "fold_of", "default_root", "VIDEO_SUFFIXES"]

#: Three fixed folds of seven clips, each with sports, crowds, talking heads and one of the three clips whose camera
#: moves (BQMall, BasketballPass, BQTerrace), so that a model scored on one fold was trained on the other two (and
#: on no frame of the fold's clips).
FOLDS: tuple[tuple[str, ...], ...] = (
    ("BasketballDrill", "BQMall", "Couple", "Johnny", "Vidyo1", "SlideEditing", "Traffic"),
    ("BasketballPass", "BQSquare", "Female", "KristenAndSara", "Vidyo3", "SlideShow", "Cactus"),
    ("BasketballDrillText", "BQTerrace", "PartyScene", "Lee", "Male", "Simo", "Vidyo4"),
)
VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv", ".mov", ".webm", ".y4m")


def default_root() -> pathlib.Path:
    """``<data root>/hevc-gaze`` (``$SALCROP_DATA`` or ``../shared/data`` beside the repository)."""
    return data_root() / "hevc-gaze"


def fold_of(name: str) -> int:
    """Index in :data:`FOLDS` of the fold that holds clip ``name`` (ValueError for a clip in none)."""
    for k, names in enumerate(FOLDS):
        if name in names:
            return k
    raise ValueError(f"clip {name!r} is in none of the folds")


@dataclass
class GazeClip:
    """One video with its viewers' fixations.

    Attributes:
        name, path: the clip's name (as in the CSV files) and its video file.
        width, height, fps, frames: as listed in clips.csv (``frames`` is how many frames carry gaze; a file may
            decode more, which are ignored).
        camera_motion: the camera's direction code every 10 frames (empty when it never moves).
        fixations: ``N x 5`` float64 rows (subject, start_ms, duration_ms, x, y).
    """

    name: str
    path: pathlib.Path
    width: int
    height: int
    fps: float
    frames: int
    camera_motion: tuple[int, ...]
    fixations: np.ndarray
    #: For a corpus clip (training/corpus.py): the teacher's maps cover its first this many sampled frames.
    teacher_max_maps: int | None = None
    _per_frame: list[np.ndarray] | None = field(default=None, repr=False)

    @property
    def camera_moves(self) -> bool:
        """True when clips.csv says the camera moves at some point of the clip."""
        return any(c != 0 for c in self.camera_motion)

    def camera_moving_at(self, frame: int) -> bool:
        """The camera's state on ``frame`` (clips.csv gives one direction every 10 frames)."""
        if not self.camera_motion:
            return False
        return self.camera_motion[min(frame // 10, len(self.camera_motion) - 1)] != 0

    def all_points(self) -> list[np.ndarray]:
        """Per frame, the ``k x 2`` (x, y) fixations active on it (computed once)."""
        if self._per_frame is None:
            mid = (np.arange(self.frames) + 0.5) * 1000.0 / self.fps
            start, end = self.fixations[:, 1], self.fixations[:, 1] + self.fixations[:, 2]
            order = np.argsort(start)
            start, end, xy = start[order], end[order], self.fixations[order][:, 3:5]
            per = []
            for t in mid:
                upto = np.searchsorted(start, t, side="right")
                active = end[:upto] > t
                per.append(xy[:upto][active].copy())
            self._per_frame = per
        return self._per_frame

    def points(self, frame: int) -> np.ndarray:
        """The ``k x 2`` (x, y) fixations active on ``frame``, in the video's pixels."""
        return self.all_points()[frame]

    def _scaled(self, frame: int, height: int, width: int) -> np.ndarray:
        pts = self.points(frame).copy()
        pts[:, 0] *= width / self.width
        pts[:, 1] *= height / self.height
        return pts

    def gaze_map(self, frame: int, height: int, width: int, sigma_fraction: float = SIGMA_FRACTION) -> np.ndarray:
        """The viewers' fixation density on ``frame`` at ``height x width`` (sum 1; all zeros without fixations).

        Blurred by a Gaussian of ``sigma_fraction`` of the width, as the still-image targets are.
        """
        pts = self._scaled(frame, height, width)
        if len(pts) == 0:
            return np.zeros((height, width), np.float32)
        return dense_map(pts, height, width, sigma_fraction)

    def fixation_counts(self, frame: int, height: int, width: int) -> np.ndarray:
        """Fixations per cell on ``frame`` at ``height x width`` (for NSS and AUC-Judd)."""
        return fixation_map(self._scaled(frame, height, width), height, width)

    def read_frames(self, size: tuple[int, int] | None = None, step: int = 1,
                    start: int = 0) -> Iterator[tuple[int, np.ndarray]]:
        """Decodes the clip with PyAV: ``(index, H x W x 3 uint8 RGB)`` for frames ``start, start+step, ...``
        below :attr:`frames`. ``size`` is ``(width, height)`` to scale to (the video's own size when None)."""
        import av

        w, h = size if size is not None else (self.width, self.height)
        # metadata_errors: a few real clips carry tags that are not UTF-8, which PyAV refuses by default.
        with av.open(str(self.path), metadata_errors="replace") as container:
            stream = container.streams.video[0]
            why = missing_decoder(container, stream)
            if why is not None:
                raise ValueError(f"{self.path}: {why}")
            stream.thread_type = "AUTO"
            for i, frame in enumerate(container.decode(stream)):
                if i >= self.frames:
                    break
                if i >= start and (i - start) % step == 0:
                    yield i, frame.to_ndarray(format="rgb24", width=w, height=h)

    def frame_array(self, size: tuple[int, int] | None = None, step: int = 1) -> np.ndarray:
        """:meth:`read_frames` as one ``T x H x W x 3`` array (mind the memory at full size)."""
        return np.stack([f for _, f in self.read_frames(size, step)])


def _read_clip_rows(path: pathlib.Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    need = {"clip", "width", "height", "fps", "frames"}
    if not rows or not need <= set(rows[0]):
        raise ValueError(f"{path}: expected the columns {sorted(need)} (and camera_motion_every_10_frames)")
    return rows


def _read_fixations(path: pathlib.Path) -> dict[str, np.ndarray]:
    cols = ("subject", "start_ms", "duration_ms", "x", "y")
    by_clip: dict[str, list[list[float]]] = {}
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or not {"clip", *cols} <= set(reader.fieldnames):
            raise ValueError(f"{path}: expected the columns clip,{','.join(cols)}")
        for n, row in enumerate(reader, start=2):
            try:
                by_clip.setdefault(row["clip"], []).append([float(row[c]) for c in cols])
            except (TypeError, ValueError) as e:
                raise ValueError(f"{path}:{n}: not a number in {row}") from e
    return {k: np.asarray(v, dtype=np.float64) for k, v in by_clip.items()}


def _find_video(videos: pathlib.Path, name: str) -> pathlib.Path:
    for suffix in VIDEO_SUFFIXES:
        p = videos / f"{name}{suffix}"
        if p.is_file():
            return p
    raise FileNotFoundError(f"no video for clip {name!r} in {videos} (looked for {', '.join(VIDEO_SUFFIXES)})")


def unlabeled_clip(path: pathlib.Path | str) -> GazeClip:
    """A video without recorded gaze, for distillation only (the teacher's maps are its sole target).

    Size, frame rate and frame count come from the file (PyAV); the clip has no fixations, so every frame's gaze
    map is empty and the training loss skips it. Raises ValueError for a file PyAV finds no video stream in.
    """
    import av

    path = pathlib.Path(path)
    try:
        with av.open(str(path), metadata_errors="replace") as container:
            if not container.streams.video:
                raise ValueError(f"{path}: no video stream")
            stream = container.streams.video[0]
            why = missing_decoder(container, stream)
            if why is not None:
                raise ValueError(f"{path}: {why}")
            fps = float(stream.average_rate or stream.guessed_rate or 25)
            width, height = stream.codec_context.width, stream.codec_context.height
            frames = sum(1 for _ in container.decode(stream))
    except av.error.FFmpegError as e:
        raise ValueError(f"{path}: not a readable video ({e})") from e
    if frames == 0:
        raise ValueError(f"{path}: no decodable frame")
    return GazeClip(name=path.stem, path=path, width=width, height=height, fps=fps, frames=frames,
                    camera_motion=(), fixations=np.zeros((0, 5)))


def load_clips(root: pathlib.Path | str | None = None, names: Sequence[str] | None = None,
               videos: pathlib.Path | str | None = None,
               fixations: pathlib.Path | str | None = None) -> list[GazeClip]:
    """The clips of a gaze data set in the hevc-gaze layout, in clips.csv's order.

    Args:
        root: the folder holding clips.csv, fixations.csv and videos/ (default :func:`default_root`).
        names: only these clips (all when None); an unknown name is an error.
        videos, fixations: a videos folder and a fixations CSV elsewhere than under ``root``.
    Raises ValueError (bad CSV, fixations outside the frame, a clip without fixations) or FileNotFoundError.
    """
    root = pathlib.Path(root) if root is not None else default_root()
    videos = pathlib.Path(videos) if videos is not None else root / "videos"
    fix = _read_fixations(pathlib.Path(fixations) if fixations is not None else root / "fixations.csv")
    rows = _read_clip_rows(root / "clips.csv")
    known = {r["clip"] for r in rows}
    if names is not None:
        unknown = sorted(set(names) - known)
        if unknown:
            raise ValueError(f"unknown clips {unknown}; clips.csv has {sorted(known)}")
    clips = []
    for r in rows:
        name = r["clip"]
        if names is not None and name not in names:
            continue
        if name not in fix:
            raise ValueError(f"clip {name!r} has no fixations")
        w, h = int(r["width"]), int(r["height"])
        pts = fix[name]
        bad = (pts[:, 3] < 0) | (pts[:, 3] >= w) | (pts[:, 4] < 0) | (pts[:, 4] >= h) | (pts[:, 2] <= 0)
        if bad.any():
            raise ValueError(f"clip {name!r}: {int(bad.sum())} fixations outside its {w}x{h} frame "
                             "or without a duration")
        motion = tuple(int(v) for v in (r.get("camera_motion_every_10_frames") or "").split())
        clips.append(GazeClip(name=name, path=_find_video(videos, name), width=w, height=h, fps=float(r["fps"]),
                              frames=int(r["frames"]), camera_motion=motion, fixations=pts))
    return clips
