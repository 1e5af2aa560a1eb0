"""What a crop is scored by: fixations kept inside the window, how the window moves, and the oracle's windows.

Below both :mod:`.crop` (virtual-camera clips) and :mod:`.crop_video` (real video with gaze), which share these
scores and the table cells' formatting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from salcrop_filter.evaluation import baselines

if TYPE_CHECKING:
    from salcrop_filter.evaluation.crop import EvalClip


def _inside(windows: np.ndarray, points: np.ndarray, i: int) -> np.ndarray:
    x, y, w, h = (int(v) for v in windows[i])
    return ((points[:, 0] >= x) & (points[:, 0] < x + w) & (points[:, 1] >= y) & (points[:, 1] < y + h))


def fixations_kept(windows: np.ndarray, fixations: Sequence[np.ndarray]) -> tuple[float, int]:
    """Sum over frames of the share of visible fixations inside the window, and how many frames counted.

    Frames without any visible fixation do not count. Divide the first by the second for the mean.
    """
    total, frames = 0.0, 0
    for i, pts in enumerate(fixations):
        if len(pts) == 0:
            continue
        total += float(_inside(windows, pts, i).mean())
        frames += 1
    return total, frames


def _shot_ranges(n: int, cuts: Iterable[int]) -> list[tuple[int, int]]:
    starts = [0] + sorted(c for c in set(cuts) if 0 < c < n)
    return list(zip(starts, starts[1:] + [n]))


def centre_jitter(windows: np.ndarray, cuts: Iterable[int]) -> tuple[float, int, float, int]:
    """Sums of |delta centre| and |delta^2 centre| (Euclidean, px) within shots, with their counts."""
    c = windows[:, :2].astype(np.float64) + windows[:, 2:4].astype(np.float64) / 2.0
    s1 = s2 = 0.0
    n1 = n2 = 0
    for a, b in _shot_ranges(len(windows), cuts):
        seg = c[a:b]
        if len(seg) >= 2:
            d1 = np.diff(seg, axis=0)
            s1 += float(np.linalg.norm(d1, axis=1).sum())
            n1 += len(d1)
        if len(seg) >= 3:
            d2 = np.diff(seg, n=2, axis=0)
            s2 += float(np.linalg.norm(d2, axis=1).sum())
            n2 += len(d2)
    return s1, n1, s2, n2


def moving_share(windows: np.ndarray, mask: np.ndarray, cuts: Iterable[int]) -> tuple[int, int]:
    """Frames in ``mask`` whose window differs from the previous frame's, and frames judged.

    A shot's first frame is never judged (it has no previous frame in its shot).
    """
    moved = np.zeros(len(windows), dtype=bool)
    moved[1:] = np.any(windows[1:] != windows[:-1], axis=1)
    judged = np.asarray(mask, dtype=bool).copy()
    for a, _ in _shot_ranges(len(windows), cuts):
        judged[a] = False
    return int((moved & judged).sum()), int(judged.sum())


def oracle_windows(fixations: Sequence[np.ndarray], width: int, height: int, win_w: int, win_h: int,
                   even: bool = True) -> np.ndarray:
    """Per frame, the window position holding the most visible fixations (ties: nearest the centre)."""
    out = baselines.centre_windows(len(fixations), width, height, win_w, win_h, even)
    step = 2 if even else 1
    xs = np.arange(0, width - win_w + 1, step)
    ys = np.arange(0, height - win_h + 1, step)
    cx, cy = (width - win_w) / 2.0, (height - win_h) / 2.0
    for i, pts in enumerate(fixations):
        if len(pts) == 0:
            continue
        # Counts over the grid of positions: separable in x and y because the window is a box.
        in_x = (pts[None, :, 0] >= xs[:, None]) & (pts[None, :, 0] < xs[:, None] + win_w)  # X x n
        in_y = (pts[None, :, 1] >= ys[:, None]) & (pts[None, :, 1] < ys[:, None] + win_h)  # Y x n
        counts = in_y.astype(np.int32) @ in_x.T.astype(np.int32)  # Y x X
        best = counts.max()
        yy, xx = np.nonzero(counts == best)
        k = np.argmin((xs[xx] - cx) ** 2 + (ys[yy] - cy) ** 2)
        out[i, 0], out[i, 1] = xs[xx[k]], ys[yy[k]]
    return out


@dataclass
class MethodScore:
    """Running sums for one (ratio, method); read the means through the properties."""

    kept_sum: float = 0.0
    kept_frames: int = 0
    d1_sum: float = 0.0
    d1_n: int = 0
    d2_sum: float = 0.0
    d2_n: int = 0
    d1w_sum: float = 0.0  # the same sums, each clip's divided by its frame width
    d2w_sum: float = 0.0
    still_moved: int = 0
    still_judged: int = 0
    stat_moved: int = 0
    stat_judged: int = 0
    mode_frames: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def kept(self) -> float:
        return _share(self.kept_sum, self.kept_frames)

    @property
    def jitter1(self) -> float:
        return _share(self.d1_sum, self.d1_n)

    @property
    def jitter2(self) -> float:
        return _share(self.d2_sum, self.d2_n)

    @property
    def still_moving(self) -> float:
        return _share(self.still_moved, self.still_judged)

    @property
    def stationary_moving(self) -> float:
        return _share(self.stat_moved, self.stat_judged)

    @property
    def jitter1_width(self) -> float:
        """Mean |Δ centre| as a share of the frame's width."""
        return _share(self.d1w_sum, self.d1_n)

    @property
    def jitter2_width(self) -> float:
        """Mean |Δ² centre| as a share of the frame's width."""
        return _share(self.d2w_sum, self.d2_n)

    def add(self, clip: EvalClip, windows: np.ndarray, modes: Sequence[str] | None = None,
            mode_cuts: Sequence[int] = ()) -> None:
        """Adds one clip's windows (and, for salcrop, its per-frame shot modes and its own cuts)."""
        self.add_windows(windows, clip.fixations, clip.cuts, clip.frames.shape[2], clip.camera_still, modes,
                         mode_cuts)

    def add_windows(self, windows: np.ndarray, fixations: Sequence[np.ndarray], cuts: Sequence[int], width: int,
                    camera_still: np.ndarray | None = None, modes: Sequence[str] | None = None,
                    mode_cuts: Sequence[int] = ()) -> None:
        """Adds one clip's windows given its per-frame fixations, true cuts and frame width (``camera_still``:
        per frame, whether the picture is known not to move; None when nobody knows)."""
        k, kf = fixations_kept(windows, fixations)
        self.kept_sum += k
        self.kept_frames += kf
        s1, n1, s2, n2 = centre_jitter(windows, cuts)
        self.d1_sum += s1
        self.d1_n += n1
        self.d2_sum += s2
        self.d2_n += n2
        self.d1w_sum += s1 / width
        self.d2w_sum += s2 / width
        if camera_still is not None:
            m, j = moving_share(windows, camera_still, cuts)
            self.still_moved += m
            self.still_judged += j
        if modes is not None:
            stationary = np.array([md == "stationary" for md in modes])
            m, j = moving_share(windows, stationary, mode_cuts)
            self.stat_moved += m
            self.stat_judged += j
            for md in modes:
                self.mode_frames[md] = self.mode_frames.get(md, 0) + 1


def _share(total: float, count: int) -> float:
    """total / count, NaN when nothing was counted (shown as n/a)."""
    return total / count if count else float("nan")


def _pct(v: float) -> str:
    return "n/a" if v != v else f"{100 * v:.1f}%"


def _num(v: float, digits: int = 2) -> str:
    return "n/a" if v != v else f"{v:.{digits}f}"
