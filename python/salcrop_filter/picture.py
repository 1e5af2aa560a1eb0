"""Decoded frames in display orientation (:class:`Picture`), cropped or fitted to an output size.

Shared by the reframing pipeline, the preview and the shot scanners; it decides nothing.
"""

from __future__ import annotations

from typing import Any

import av
import numpy as np

__all__ = ["Picture", "fit"]


class Picture:
    """A decoded frame turned upright (rotation metadata applied, as ffmpeg's autorotate does).

    yuv420p/yuvj420p frames stay planar (cropping is slicing, no colour conversion, and the core reads
    the same bytes the FFmpeg filter reads); other formats are converted to RGB once for the core. 10-bit 4:2:0
    (yuv420p10le) is cropped plane by plane too, so the output keeps its bit depth (writer.SourceLook).
    """

    def __init__(self, frame: av.VideoFrame, apply_rotation: bool = True) -> None:
        self.frame = frame
        # frame.rotation is the counter-clockwise angle that makes the picture upright; np.rot90 turns
        # counter-clockwise for positive k, so k = rotation / 90.
        self.turns = (round(frame.rotation / 90) % 4) if apply_rotation else 0
        self.planar = frame.format.name in ("yuv420p", "yuvj420p")
        # Planes that crop() slices without a conversion: the 8-bit ones and 10-bit 4:2:0 (two bytes a sample).
        self.sliceable = self.planar or frame.format.name == "yuv420p10le"
        self._dtype = np.uint8 if self.planar else np.uint16
        # The filter's rule: yuvj420p, or a frame tagged full range (AVCOL_RANGE_JPEG == 2).
        self.full_range = frame.format.name == "yuvj420p" or int(frame.color_range) == 2
        self._planes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._rgb: np.ndarray | None = None
        w, h = frame.width, frame.height
        self.width, self.height = (h, w) if self.turns % 2 else (w, h)

    def nbytes(self) -> int:
        """Bytes this picture holds while it waits for its decision: the decoded frame, plus the RGB copy
        made of formats other than yuv420p."""
        decoded = sum(p.buffer_size for p in self.frame.planes)
        return decoded + (0 if self.planar else self.width * self.height * 3)

    def _upright(self, a: np.ndarray) -> np.ndarray:
        return np.rot90(a, self.turns) if self.turns else a

    @property
    def planes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._planes is None:
            out = []
            size = np.dtype(self._dtype).itemsize
            for p in self.frame.planes:
                a = np.frombuffer(p, self._dtype).reshape(p.height, p.line_size // size)[:, : p.width]
                out.append(self._upright(a))
            self._planes = (out[0], out[1], out[2])
        return self._planes

    @property
    def rgb(self) -> np.ndarray:
        if self._rgb is None:
            self._rgb = np.ascontiguousarray(self._upright(self.frame.to_ndarray(format="rgb24")))
        return self._rgb

    def push_to(self, engine: Any, *t: float) -> None:
        """Push to a core object: an ``Engine`` (with the time ``t``) or a ``ScheduleRecorder`` (without)."""
        if self.planar:
            y, u, v = (np.ascontiguousarray(p) for p in self.planes)
            # The filter's rule: BT.709 only when the frame says so (AVCOL_SPC_BT709 == 1), else BT.601.
            engine.push_yuv420p(y, u, v, *t, full_range=self.full_range,
                                colorspace=int(int(self.frame.colorspace) == 1))
        else:
            engine.push_rgb(self.rgb, *t)

    def crop(self, x: int, y: int, w: int, h: int) -> av.VideoFrame:
        """The region as a new frame (same pixel format when planar and the region is chroma-aligned)."""
        if self.sliceable and x % 2 == 0 and y % 2 == 0 and w % 2 == 0 and h % 2 == 0:
            out = av.VideoFrame(w, h, self.frame.format.name)
            out.color_range = self.frame.color_range
            out.colorspace = self.frame.colorspace
            pl = self.planes
            regions = (pl[0][y : y + h, x : x + w], pl[1][y // 2 : (y + h) // 2, x // 2 : (x + w) // 2],
                       pl[2][y // 2 : (y + h) // 2, x // 2 : (x + w) // 2])
            size = np.dtype(self._dtype).itemsize
            for dst, src in zip(out.planes, regions):
                np.frombuffer(dst, self._dtype).reshape(dst.height, dst.line_size // size)[:, : dst.width] = src
            return out
        return av.VideoFrame.from_ndarray(np.ascontiguousarray(self.rgb[y : y + h, x : x + w]), format="rgb24")


def fit(frame: av.VideoFrame, width: int, height: int) -> av.VideoFrame:
    """Scale a frame to fit width x height keeping its shape, black bars around (hand-edited odd sizes)."""
    if frame.width == width and frame.height == height:
        return frame
    s = min(width / frame.width, height / frame.height)
    fw, fh = max(2, round(frame.width * s) // 2 * 2), max(2, round(frame.height * s) // 2 * 2)
    fw, fh = min(fw, width), min(fh, height)
    small = frame.reformat(width=fw, height=fh, format="rgb24").to_ndarray()
    canvas = np.zeros((height, width, 3), np.uint8)
    oy, ox = (height - fh) // 2, (width - fw) // 2
    canvas[oy : oy + fh, ox : ox + fw] = small
    return av.VideoFrame.from_ndarray(canvas, format="rgb24")

