"""Maps to score: the ONNX model through ONNX Runtime with the contract's inputs, and the centre-bias baseline.

Below both :mod:`.saliency` (images, virtual-camera sequences) and :mod:`.video_saliency` (real video with gaze).
"""

from __future__ import annotations

import pathlib

import numpy as np
import torch
import torch.nn.functional as F

from .metrics import METRICS

CENTRE_SIGMAS = (0.15, 0.2, 0.25, 0.3, 0.35, 0.45)


class OnnxSaliency:
    """The ONNX model in an ONNX Runtime CPU session, with the contract's inputs."""

    def __init__(self, path: str | pathlib.Path, threads: int = 1) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        self.metadata = dict(meta)
        self.input_hw = (int(meta["input_height"]), int(meta["input_width"]))
        self.state_shape = (int(meta["state_channels"]), int(meta["map_height"]), int(meta["map_width"]))

    def run(self, frames: np.ndarray, temporal: bool = True) -> np.ndarray:
        """Maps [T,h,w] for frames [T,3,H,W] in [0,1]: consecutive frames with state, or each frame on its own."""
        state = np.zeros((1,) + self.state_shape, np.float32)
        out = []
        for t in range(len(frames)):
            prev = frames[t - 1] if temporal and t > 0 else frames[t]
            if not temporal:
                state = np.zeros_like(state)
            sal, state = self.session.run(["saliency", "state_out"],
                                          {"frame": frames[t:t + 1], "prev_frame": prev[None], "state": state})
            out.append(sal[0, 0])
        return np.stack(out)


def upsample(sal: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear upsampling of a map to the evaluation resolution."""
    t = torch.from_numpy(np.ascontiguousarray(sal, dtype=np.float32))[None, None]
    return F.interpolate(t, size=(height, width), mode="bilinear", align_corners=False)[0, 0].numpy()


def centre_bias(height: int, width: int, sigma: float) -> np.ndarray:
    """A Gaussian at the centre with standard deviations ``sigma * width`` and ``sigma * height``."""
    y = (np.arange(height) + 0.5 - height / 2) / (sigma * height)
    x = (np.arange(width) + 0.5 - width / 2) / (sigma * width)
    g = np.exp(-0.5 * (y[:, None] ** 2 + x[None, :] ** 2))
    return (g / g.sum()).astype(np.float32)


def mean_rows(rows: list[dict[str, float]]) -> dict[str, float]:
    """Each metric's mean over rows of per-frame (or per-image) metrics."""
    return {k: float(np.mean([r[k] for r in rows])) for k in METRICS}
