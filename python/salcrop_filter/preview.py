"""The side-by-side debug video: what the planner saw and decided | what came out.

Left: the upright source with the core's debug drawing (saliency heatmap, the window, the shot mode, from
``_core.Engine.draw_debug``). Right: the reframed picture scaled to the source height. Nothing here
decides anything; it only lays out pictures.
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Any

import av
import numpy as np

from .picture import Picture
from .writer import VideoWriter

__all__ = ["PreviewWriter", "side_by_side"]

_GAP = 8  # dark gutter between the halves, so the result's edge stays visible


def side_by_side(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Two RGB pictures of equal height next to each other, width padded to even for yuv420p."""
    h = left.shape[0]
    width = left.shape[1] + _GAP + right.shape[1]
    width += width % 2
    canvas = np.full((h + h % 2, width, 3), 16, np.uint8)
    canvas[:h, : left.shape[1]] = left
    canvas[: right.shape[0], left.shape[1] + _GAP : left.shape[1] + _GAP + right.shape[1]] = right
    return canvas


class PreviewWriter:
    """Writes the preview video next to the reframed one, frame for frame, same timestamps."""

    def __init__(self, dst: str | os.PathLike[str], src_width: int, src_height: int, out_size: tuple[int, int],
                 time_base: Fraction, rate: Fraction) -> None:
        ow, oh = out_size
        # The result scaled to the source height (even, for the scaler and the encoder).
        self.right_size = (max(2, round(ow * src_height / oh) // 2 * 2), src_height // 2 * 2)
        width = src_width + _GAP + self.right_size[0]
        self.writer = VideoWriter(dst, width + width % 2, src_height + src_height % 2, time_base, rate)

    def write(self, engine: Any, decision: Any, pic: Picture, result: av.VideoFrame, pts: int | None) -> None:
        left = pic.rgb.copy()  # draw_debug draws in place; the clean RGB may still be needed for padding
        try:
            engine.draw_debug(decision, left)
        except ValueError:
            # The core keeps the map of the most recently popped decision only, and Engine.pop() hands over
            # a batch: for the others show at least the window, until the binding keeps a map per decision.
            _outline(left, decision.x, decision.y, decision.w, decision.h)
        rw, rh = self.right_size
        right = result.reformat(width=rw, height=rh, format="rgb24").to_ndarray()
        frame = av.VideoFrame.from_ndarray(side_by_side(left, right), format="rgb24")
        self.writer.write(frame, pts)


def _outline(rgb: np.ndarray, x: int, y: int, w: int, h: int, t: int = 3) -> None:
    """A bright frame around the window (in place)."""
    c = np.array([255, 220, 0], np.uint8)
    rgb[y : y + t, x : x + w] = c
    rgb[y + h - t : y + h, x : x + w] = c
    rgb[y : y + h, x : x + t] = c
    rgb[y : y + h, x + w - t : x + w] = c
