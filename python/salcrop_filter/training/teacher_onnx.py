"""The video teacher (UNISAL) as a model the core runs: ONNX in salcrop's model contract (``models/salcrop-teacher.onnx``).

``python -m salcrop_filter.training.teacher_onnx [--out models/salcrop-teacher.onnx] [--height 256 --width 448]``

The contract (csrc/src/model.cpp, :mod:`salcrop_filter.export`): inputs ``frame`` and ``prev_frame`` (N x 3 x H x W,
RGB / 255) and ``state`` (N x C x H/8 x W/8); outputs ``saliency`` (N x 1 x H/8 x W/8, sums to 1) and ``state_out``.
UNISAL fits it as follows:

- ImageNet normalisation happens inside the graph; ``prev_frame`` is not used (UNISAL's motion lives in its ConvGRU
  state), but stays an input, as the contract wants it;
- its ConvGRU's hidden state (256 channels at H/32 x W/32) travels as the contract's state by a depth-to-space
  rearrangement (``pixel_shuffle`` by 4: 16 channels at H/8 x W/8), exactly and without loss; a zero state is
  UNISAL's own initial state, so the core's shot starts mean what they mean for UNISAL;
- its DHF1K domain (video, the setting :mod:`.teacher` uses), in eval mode; the map is UNISAL's output resampled to
  H/8 x W/8 (bilinear, as UNISAL resamples to any target size) and normalised by its log-softmax.

The default input, 256x448, is UNISAL's own choice for 16:9 video (:func:`.teacher.input_size`). UNISAL was made for
~6 frames/s; the core feeds it every ``stride``-th frame (3 by default), so at 25-30 frames/s it sees 8-10 frames/s.

Licence: UNISAL's code and weights are Apache-2.0 (Richard Droste); ``training/unisal/NOTICE`` and ``LICENSE`` go
with the file (models/NOTICE-teacher.md says so beside it).
"""

from __future__ import annotations

import argparse
import pathlib

import numpy as np
import torch
import torch.nn.functional as F

from ..export import write_contract_model
from . import teacher
from .datasets import repo_root

DEFAULT_HW = (256, 448)
#: UNISAL's bottleneck is at 1/32 of the input, the contract's map at 1/8: the hidden state is shuffled by 4.
SHUFFLE = 4
HIDDEN_CHANNELS = teacher.UNISAL_CONFIG["rnn_hidden_channels"]
STATE_CHANNELS = HIDDEN_CHANNELS // (SHUFFLE * SHUFFLE)
PARITY_TOLERANCE = 1e-4


class TeacherContract(torch.nn.Module):
    """UNISAL with the contract's inputs and outputs."""

    def __init__(self, net: torch.nn.Module, height: int, width: int) -> None:
        super().__init__()
        self.net = net
        self.map_hw = (height // 8, width // 8)
        self.register_buffer("mean", torch.tensor(teacher.RGB_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(teacher.RGB_STD).view(1, 3, 1, 1))

    def forward(self, frame: torch.Tensor, prev_frame: torch.Tensor, state: torch.Tensor):
        # prev_frame joins the graph at no cost (a zero-weighted corner pixel), so the exported model keeps the input.
        x = (frame - self.mean) / self.std + 0.0 * prev_frame[:, :, :1, :1]
        h0 = F.pixel_unshuffle(state, SHUFFLE)
        logp, hidden = self.net(x.unsqueeze(1), target_size=self.map_hw, h0=[h0], return_hidden=True,
                                source="DHF1K", static=False)
        return logp[:, 0].exp(), F.pixel_shuffle(hidden[0], SHUFFLE)


def default_output() -> pathlib.Path:
    return repo_root() / "models" / "salcrop-teacher.onnx"


def metadata(height: int, width: int) -> dict[str, str]:
    """The contract's ``metadata_props``: the teacher was trained by its authors, on data we do not have."""
    return {
        "salcrop_model_version": "1",
        "input_height": str(height),
        "input_width": str(width),
        "layout": "NCHW",
        "normalization": "rgb/255",
        "state_channels": str(STATE_CHANNELS),
        "map_height": str(height // 8),
        "map_width": str(width // 8),
        # The weights' sha256 stands for the training data (DHF1K, Hollywood-2, UCF Sports, SALICON) we cannot hash.
        "training_data_sha256": teacher.WEIGHTS_SHA256,
        "trained": "UNISAL pretrained weights (Droste et al., ECCV 2020), pyautoflip==0.2.1; Apache-2.0",
        "teacher": "unisal",
    }


def export_teacher(path: str | pathlib.Path | None = None, height: int = DEFAULT_HW[0],
                   width: int = DEFAULT_HW[1]) -> pathlib.Path:
    """Write the teacher in the contract to ``path``, check it against PyTorch and return the path."""
    if height % 32 or width % 32:
        raise ValueError(f"{height}x{width}: UNISAL needs multiples of 32")
    path = default_output() if path is None else pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    net = TeacherContract(teacher.load_teacher(), height, width).eval()
    frame = torch.rand(1, 3, height, width)
    state = torch.zeros(1, STATE_CHANNELS, height // 8, width // 8)
    with torch.no_grad():
        write_contract_model(net, (frame, frame, state), path, (height // 8, width // 8), STATE_CHANNELS,
                             metadata(height, width),
                             "UNISAL (Droste et al., ECCV 2020; Apache-2.0) in salcrop's model contract, version 1")
    diff = parity(path, net)
    if diff > PARITY_TOLERANCE:
        raise RuntimeError(f"{path}: ONNX Runtime differs from PyTorch by {diff:.3g} > {PARITY_TOLERANCE}")
    return path


@torch.no_grad()
def parity(path: pathlib.Path, net: TeacherContract, steps: int = 3) -> float:
    """Largest |PyTorch - ONNX Runtime| over the maps and states of ``steps`` consecutive random frames."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    h, w = net.map_hw[0] * 8, net.map_hw[1] * 8
    rng = np.random.default_rng(0)
    state_t = torch.zeros(1, STATE_CHANNELS, h // 8, w // 8)
    state_o = state_t.numpy()
    worst = 0.0
    prev = None
    for _ in range(steps):
        frame = rng.random((1, 3, h, w), dtype=np.float32)
        prev = frame if prev is None else prev
        sal_t, state_t = net(torch.from_numpy(frame), torch.from_numpy(prev), state_t)
        sal_o, state_o = sess.run(["saliency", "state_out"], {"frame": frame, "prev_frame": prev, "state": state_o})
        worst = max(worst, float(np.abs(sal_t.numpy() - sal_o).max() / max(float(sal_t.max()), 1e-12)),
                    float(np.abs(state_t.numpy() - state_o).max()))
        prev = frame
    return worst


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; see the module docstring."""
    ap = argparse.ArgumentParser(description="export the UNISAL teacher in salcrop's ONNX model contract")
    ap.add_argument("--out", type=pathlib.Path, default=None)
    ap.add_argument("--height", type=int, default=DEFAULT_HW[0])
    ap.add_argument("--width", type=int, default=DEFAULT_HW[1])
    args = ap.parse_args(argv)
    print(export_teacher(args.out, args.height, args.width))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
