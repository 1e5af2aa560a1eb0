"""Saliency maps for video frames, computed by the C++ core's ONNX Runtime session (the filter's own code path)."""

from __future__ import annotations

import numpy as np


class SaliencyModel:
    """The salcrop saliency network run through ``salcrop_filter._core.SaliencyRunner``.

    ``model``: path of an ONNX model following docs/DESIGN.md (``None`` or ``""``: the core's default model).
    ``device``: ``"auto"``, ``"cpu"`` or ``"cuda"``, as the core understands them.
    """

    def __init__(self, model: str | None = None, device: str = "auto", threads: int = 0) -> None:
        from . import _core

        self._runner = _core.SaliencyRunner(model=str(model or ""), device=device, threads=threads)

    @property
    def input_size(self) -> tuple[int, int]:
        """(height, width) the model sees; the core resizes frames to it."""
        return tuple(self._runner.input_size)

    @property
    def map_size(self) -> tuple[int, int]:
        """(height, width) of each output map."""
        return tuple(self._runner.map_size)

    @property
    def provider(self) -> str:
        """ONNX Runtime execution provider in use."""
        return self._runner.provider

    @property
    def path(self) -> str:
        """The model file in use (the core's default: the 8-bit model on the CPU, the float one on CUDA)."""
        return self._runner.path

    @property
    def metadata(self) -> dict[str, str]:
        """The model's metadata_props."""
        return dict(self._runner.metadata)

    def predict(self, frames: np.ndarray, reset: bool = True) -> np.ndarray:
        """Maps float32 ``[T, h, w]`` (each summing to 1) for consecutive uint8 RGB frames ``[T, H, W, 3]`` of one clip.

        The temporal state is carried from frame to frame; ``reset=False`` continues from the previous call's state
        (the next chunk of the same clip).
        """
        frames = np.asarray(frames)
        if frames.ndim == 3:
            frames = frames[None]
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"frames must be uint8 [T, H, W, 3], got {frames.dtype} {frames.shape}")
        return self._runner.predict(np.ascontiguousarray(frames), reset=reset)
