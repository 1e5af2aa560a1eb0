"""A virtual camera over still images: video-like sequences with fixations that move with the content.

The eye-tracking sets hold no video. Moving a crop window over an image (pan, zoom, hand-held shake, now and then a
cut to another image) gives frames whose motion is known exactly, and the human fixations of the image follow the
same transform, so the temporal stream and state can be trained and evaluated honestly on real gaze data.
The same crop-and-resize (with optional mirror) is the spatial augmentation of single-image training.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
import torch.nn.functional as F

from .datasets import Stimulus


@dataclasses.dataclass
class View:
    """One rendered frame: pixels in [0, 1] and the fixations visible in it (output pixel coordinates)."""

    frame: torch.Tensor  # float32 [3, H, W]
    points: np.ndarray  # float32 [K, 2]
    source: str  # key of the stimulus shown
    sigma: float  # fixation-map sigma in output pixels (one degree of the source image, scaled by the crop)


def render(image: torch.Tensor, box: np.ndarray, out_hw: tuple[int, int], flip: bool = False) -> torch.Tensor:
    """Crop ``box`` = (x0, y0, w, h) (continuous pixels, may be any aspect) from ``image`` [C,H,W] and resize it."""
    _, h_img, w_img = image.shape
    x0, y0, bw, bh = (float(v) for v in box)
    oh, ow = out_hw
    # Output pixel centres mapped to source continuous coordinates, then to grid_sample's [-1, 1] (align_corners=False).
    xs = x0 + (torch.arange(ow, dtype=torch.float32) + 0.5) * (bw / ow)
    ys = y0 + (torch.arange(oh, dtype=torch.float32) + 0.5) * (bh / oh)
    if flip:
        xs = xs.flip(0)
    gx = xs / w_img * 2 - 1
    gy = ys / h_img * 2 - 1
    grid = torch.stack(torch.meshgrid(gy, gx, indexing="ij")[::-1], -1).unsqueeze(0)
    # Antialias first when the crop is shrunk a lot, so small details do not alias into noise.
    src = image.unsqueeze(0)
    shrink = min(bw / ow, bh / oh)
    if shrink > 1.5:
        k = int(shrink)
        src = F.avg_pool2d(src, k, stride=1, padding=k // 2, count_include_pad=False)[..., :h_img, :w_img]
    return F.grid_sample(src, grid, mode="bilinear", padding_mode="border", align_corners=False)[0]


def move_points(points: np.ndarray, box: np.ndarray, out_hw: tuple[int, int], flip: bool = False) -> np.ndarray:
    """Fixations of the source image in the rendered frame's pixel coordinates; those outside the crop are dropped."""
    x0, y0, bw, bh = box
    oh, ow = out_hw
    p = np.empty_like(points)
    p[:, 0] = (points[:, 0] - x0) * (ow / bw)
    p[:, 1] = (points[:, 1] - y0) * (oh / bh)
    if flip:
        p[:, 0] = ow - p[:, 0]
    keep = (p[:, 0] >= 0) & (p[:, 0] < ow) & (p[:, 1] >= 0) & (p[:, 1] < oh)
    return p[keep].astype(np.float32)


def _to_tensor(stim: Stimulus) -> torch.Tensor:
    return torch.from_numpy(stim.image).permute(2, 0, 1).float().div_(255.0)


def _fit_box(cx: float, cy: float, bw: float, bh: float, w_img: int, h_img: int) -> np.ndarray:
    """Shrink the box to fit in the image if needed (keeping its aspect) and shift it inside."""
    s = min(1.0, w_img / bw, h_img / bh)
    bw, bh = bw * s, bh * s
    x0 = float(np.clip(cx - bw / 2, 0, w_img - bw))
    y0 = float(np.clip(cy - bh / 2, 0, h_img - bh))
    return np.array([x0, y0, bw, bh], np.float64)


def random_view(rng: np.random.Generator, stim: Stimulus, out_hw: tuple[int, int],
                min_scale: float = 0.6) -> View:
    """A single-image augmentation: random crop (aspect between the image's and the output's), scale and mirror."""
    h_img, w_img = stim.image.shape[:2]
    a_img, a_out = w_img / h_img, out_hw[1] / out_hw[0]
    aspect = float(np.exp(rng.uniform(min(np.log(a_img), np.log(a_out)), max(np.log(a_img), np.log(a_out)))))
    # The biggest box of that aspect that fits, scaled down at random; often the whole image (the evaluation view).
    full_w = min(w_img, h_img * aspect)
    scale = 1.0 if rng.random() < 0.3 else rng.uniform(min_scale, 1.0)
    bw = full_w * scale
    bh = bw / aspect
    cx = rng.uniform(bw / 2, w_img - bw / 2) if w_img > bw else w_img / 2
    cy = rng.uniform(bh / 2, h_img - bh / 2) if h_img > bh else h_img / 2
    box = _fit_box(cx, cy, bw, bh, w_img, h_img)
    flip = bool(rng.random() < 0.5)
    return View(render(_to_tensor(stim), box, out_hw, flip), move_points(stim.points, box, out_hw, flip), stim.key,
                _sigma(stim, box, out_hw))


def whole_view(stim: Stimulus, out_hw: tuple[int, int]) -> View:
    """The whole image squashed to the output size: what the core does with a frame."""
    h_img, w_img = stim.image.shape[:2]
    box = np.array([0.0, 0.0, w_img, h_img])
    return View(render(_to_tensor(stim), box, out_hw), move_points(stim.points, box, out_hw), stim.key,
                _sigma(stim, box, out_hw))


def _sigma(stim: Stimulus, box: np.ndarray, out_hw: tuple[int, int]) -> float:
    from .datasets import SIGMA_FRACTION

    return SIGMA_FRACTION * stim.image.shape[1] * out_hw[1] / float(box[2])


def camera_sequence(rng: np.random.Generator, stimuli: list[Stimulus], length: int, out_hw: tuple[int, int],
                    cut_probability: float = 0.15) -> list[View]:
    """``length`` frames of a camera moving over one image: 16:9-ish crop, pan, zoom and shake; maybe one cut.

    A cut switches to another image and a fresh camera path mid-sequence without telling the model, which teaches the
    state not to cling to the previous shot when the core's shot detector misses a cut.
    """
    cut_at = int(rng.integers(1, length)) if length > 1 and rng.random() < cut_probability else length
    views: list[View] = []
    for start, stop in ((0, cut_at), (cut_at, length)):
        if stop <= start:
            continue
        stim = stimuli[int(rng.integers(len(stimuli)))]
        views += _camera_path(rng, stim, stop - start, out_hw)
    return views


def _camera_path(rng: np.random.Generator, stim: Stimulus, n: int, out_hw: tuple[int, int]) -> list[View]:
    h_img, w_img = stim.image.shape[:2]
    aspect = out_hw[1] / out_hw[0] * float(np.exp(rng.normal(0, 0.05)))
    full_w = min(w_img, h_img * aspect)
    scale = rng.uniform(0.55, 0.95)
    cx, cy = rng.uniform(0.35, 0.65) * w_img, rng.uniform(0.35, 0.65) * h_img
    # Per-frame motion in fractions of the image: pan, zoom factor, shake amplitude.
    vx, vy = rng.normal(0, 0.02, 2) * (w_img, h_img)
    zoom = float(np.exp(rng.normal(0, 0.02)))
    shake = rng.uniform(0, 0.01) * w_img
    tensor = _to_tensor(stim)
    flip = bool(rng.random() < 0.5)
    views = []
    for _ in range(n):
        bw = float(np.clip(full_w * scale, 0.3 * full_w, full_w))
        jx, jy = rng.normal(0, shake, 2)
        box = _fit_box(cx + jx, cy + jy, bw, bw / aspect, w_img, h_img)
        views.append(View(render(tensor, box, out_hw, flip), move_points(stim.points, box, out_hw, flip), stim.key,
                          _sigma(stim, box, out_hw)))
        cx, cy, scale = cx + vx, cy + vy, scale * zoom
    return views
