"""Shot boundaries of a video file: the core's detector (the one the planner uses) or PySceneDetect's."""

from __future__ import annotations

import os
from pathlib import Path

from .pipeline import Picture, ReframeError, _open_input, _rate

__all__ = ["scenes"]


def scenes(path: str | os.PathLike[str], *, threshold: float | None = None, backend: str = "salcrop") -> list[int]:
    """Frame indices where a new shot starts (0 excluded), in display order.

    ``backend="salcrop"`` runs ``_core.ShotDetector`` (``threshold`` = the filter's scene_threshold; None =
    the core's default), exactly the cuts the reframing planner sees. ``backend="pyscenedetect"`` runs
    PySceneDetect's ContentDetector (``pip install scenedetect``; ``threshold`` = its own threshold, None =
    its default) for comparison.
    """
    src = Path(path)
    if backend == "pyscenedetect":
        return _pyscenedetect(src, threshold)
    if backend != "salcrop":
        raise ValueError(f"backend: {backend!r} is not one of 'salcrop', 'pyscenedetect'")
    from . import _core

    with _open_input(src) as c:
        v = c.streams.video[0]
        v.thread_type = "AUTO"
        kwargs = {"fps": float(_rate(v))}
        if threshold is not None:
            kwargs["threshold"] = float(threshold)
        try:
            detector = _core.ShotDetector(**kwargs)
        except ValueError as e:
            raise ValueError(f"threshold: {e}") from None
        for frame in c.decode(v):
            detector.push_rgb(Picture(frame).rgb)
        return [int(i) for i in detector.flush()]


def _pyscenedetect(src: Path, threshold: float | None) -> list[int]:
    try:
        import scenedetect
    except ImportError:
        raise ReframeError("backend 'pyscenedetect' needs PySceneDetect: pip install scenedetect") from None
    if not src.exists():
        raise ReframeError(f"{src}: no such file")
    detector = scenedetect.ContentDetector() if threshold is None else scenedetect.ContentDetector(threshold=threshold)
    found = scenedetect.detect(str(src), detector)
    # 0.7 renamed get_frames() to the frame_num property; accept both releases.
    return [int(getattr(start, "frame_num", None) if hasattr(start, "frame_num") else start.get_frames())
            for start, _end in found[1:]]
