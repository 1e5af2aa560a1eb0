"""Baseline croppers that salcrop is measured against in :mod:`salcrop_filter.evaluation.crop`.

Every baseline returns windows in the planner's layout: an ``int32`` array of shape ``(T, 4)``
holding ``x, y, w, h`` in source pixels, one row per frame, always inside the frame. The window
size is given by the caller (the size salcrop itself chose for the ratio), so every method is
judged with the same amount of picture.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["place_windows", "centre_windows", "argmax_windows", "FaceFollower"]


def place_windows(centres: np.ndarray, width: int, height: int, win_w: int, win_h: int,
                  even: bool = True) -> np.ndarray:
    """Windows of size ``win_w x win_h`` centred as near ``centres`` (``T x 2``, x, y) as the frame allows.

    Args:
        centres: desired window centres in source pixels, one row per frame.
        width, height: source frame size.
        win_w, win_h: window size; must fit inside the frame.
        even: round x and y down to even numbers, as the filter does for chroma-subsampled output.
    """
    if win_w > width or win_h > height:
        raise ValueError(f"window {win_w}x{win_h} does not fit a {width}x{height} frame")
    centres = np.asarray(centres, dtype=np.float64).reshape(-1, 2)
    x = np.clip(np.rint(centres[:, 0] - win_w / 2.0), 0, width - win_w).astype(np.int32)
    y = np.clip(np.rint(centres[:, 1] - win_h / 2.0), 0, height - win_h).astype(np.int32)
    if even:
        x -= x % 2
        y -= y % 2
    out = np.empty((len(centres), 4), dtype=np.int32)
    out[:, 0], out[:, 1], out[:, 2], out[:, 3] = x, y, win_w, win_h
    return out


def centre_windows(n_frames: int, width: int, height: int, win_w: int, win_h: int,
                   even: bool = True) -> np.ndarray:
    """The static centre crop: what a plain ``crop=w:h`` filter does."""
    centres = np.tile([width / 2.0, height / 2.0], (n_frames, 1))
    return place_windows(centres, width, height, win_w, win_h, even)


def argmax_windows(maps: np.ndarray, width: int, height: int, win_w: int, win_h: int,
                   even: bool = True) -> np.ndarray:
    """Per-frame saliency-argmax crop with no smoothing at all.

    Each frame's window is centred on its saliency map's peak cell. This is what a naive saliency
    cropper does; salcrop must beat it on steadiness while keeping as much of what people look at.

    Args:
        maps: ``T x h x w`` saliency maps covering the whole frame.
    """
    maps = np.asarray(maps)
    n, mh, mw = maps.shape
    flat = maps.reshape(n, -1).argmax(axis=1)
    rows, cols = np.divmod(flat, mw)
    centres = np.stack([(cols + 0.5) * width / mw, (rows + 0.5) * height / mh], axis=1)
    return place_windows(centres, width, height, win_w, win_h, even)


class FaceFollower:
    """Follows the largest frontal face found by OpenCV's Haar cascade; centre crop when there is none.

    This is the classic heuristic reframer: cheap, stable on talking heads, blind to everything
    that is not a face.
    """

    def __init__(self, min_face: int = 20, downscale: int = 2) -> None:
        import cv2  # only this baseline needs OpenCV

        # OpenCV 5 dropped the Haar cascade classes; the 4.x wheels still ship them and their data.
        if not hasattr(cv2, "CascadeClassifier"):
            raise RuntimeError(f"OpenCV {cv2.__version__} has no CascadeClassifier; "
                               "install opencv-python-headless<5")
        path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
        self._cv2 = cv2
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise RuntimeError(f"cannot load the Haar cascade {path}")
        self._min_face = min_face
        # Detecting on a 2x smaller picture is 4x cheaper and, on 640x360 frames, finds the same faces.
        self._downscale = max(1, downscale)

    def largest_face_centre(self, frame_rgb: np.ndarray) -> tuple[float, float] | None:
        """Centre ``(x, y)`` of the largest face in an RGB frame (full-frame pixels), or None."""
        cv2 = self._cv2
        gray = cv2.cvtColor(np.ascontiguousarray(frame_rgb), cv2.COLOR_RGB2GRAY)
        k = self._downscale
        if k > 1:
            gray = cv2.resize(gray, (gray.shape[1] // k, gray.shape[0] // k), interpolation=cv2.INTER_AREA)
        m = max(1, self._min_face // k)
        faces = self._cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(m, m))
        if len(faces) == 0:
            return None
        x, y, w, h = max(faces, key=lambda f: int(f[2]) * int(f[3]))
        return (x + w / 2.0) * k, (y + h / 2.0) * k

    def face_centres(self, frames: Sequence[np.ndarray]) -> list[tuple[float, float] | None]:
        """Largest-face centre of every frame (None where no face is found)."""
        out: list[tuple[float, float] | None] = []
        prev = None
        for f in frames:
            # A frame identical to the previous one (a still camera) has the same faces: skip the detector.
            if prev is not None and np.array_equal(f, prev):
                out.append(out[-1])
            else:
                out.append(self.largest_face_centre(f))
            prev = f
        return out

    @staticmethod
    def windows_from_centres(centres: Sequence[tuple[float, float] | None], width: int, height: int,
                             win_w: int, win_h: int, even: bool = True) -> np.ndarray:
        """Windows on the given face centres, the frame centre where a frame has no face.

        Detection is done once per clip (``face_centres``) and reused for every ratio.
        """
        pts = np.array([c if c is not None else (width / 2.0, height / 2.0) for c in centres],
                       dtype=np.float64).reshape(-1, 2)
        return place_windows(pts, width, height, win_w, win_h, even)
