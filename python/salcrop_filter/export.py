"""Export the trained network to the ONNX model contract of docs/DESIGN.md (model version 1).

``python -m salcrop_filter.export [--out models/salcrop.onnx] [--height H --width W]`` or
``export_onnx(path, height=..., width=...)``: reads ``models/salcrop.pt``, writes the ONNX file with dynamic batch and
the metadata the core checks, then verifies ONNX Runtime against PyTorch on the same inputs.
"""

from __future__ import annotations

import argparse
import pathlib

import numpy as np
import torch

from .training.datasets import repo_root
from .training.model import ModelConfig, SalCropNet, load_checkpoint

MODEL_VERSION = "1"
DEFAULT_OPSET = 17
#: Largest accepted |PyTorch - ONNX Runtime| on a saliency map (maps sum to 1, a value is ~1e-3).
PARITY_TOLERANCE = 1e-5


def default_checkpoint() -> pathlib.Path:
    """``models/salcrop.pt`` in a source checkout, else the copy installed inside the package."""
    in_repo = repo_root() / "models" / "salcrop.pt"
    return in_repo if in_repo.is_file() else pathlib.Path(__file__).with_name("salcrop.pt")


def default_output() -> pathlib.Path:
    """``models/salcrop.onnx`` in a source checkout, else ``salcrop.onnx`` in the working directory."""
    models = repo_root() / "models"
    return models / "salcrop.onnx" if models.is_dir() else pathlib.Path("salcrop.onnx")


def metadata(config: ModelConfig, record: dict[str, str]) -> dict[str, str]:
    """The ``metadata_props`` of the contract, all strings."""
    return {
        "salcrop_model_version": MODEL_VERSION,
        "input_height": str(config.input_height),
        "input_width": str(config.input_width),
        "layout": "NCHW",
        "normalization": "rgb/255",
        "state_channels": str(config.state_channels),
        "map_height": str(config.map_height),
        "map_width": str(config.map_width),
        "training_data_sha256": record["training_data_sha256"],
        "trained": record["trained"],
    }


class _Exported(torch.nn.Module):
    """The network with the contract's three inputs and two outputs (no Python-only options)."""

    def __init__(self, net: SalCropNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, frame: torch.Tensor, prev_frame: torch.Tensor, state: torch.Tensor):
        return self.net(frame, prev_frame, state)


def export_onnx(path: str | pathlib.Path | None = None, *, height: int | None = None, width: int | None = None,
                opset: int | None = None, checkpoint: str | pathlib.Path | None = None) -> pathlib.Path:
    """Write the ONNX model (default ``models/salcrop.onnx``) from the checkpoint and check it; return its path.

    ``height``/``width`` choose another input size (multiples of 8) for the same weights; the network is fully
    convolutional and its centre priors are generated for the map size.
    """
    import onnx

    net, record = load_checkpoint(default_checkpoint() if checkpoint is None else checkpoint)
    cfg = net.config
    cfg = ModelConfig(input_height=height or cfg.input_height, input_width=width or cfg.input_width,
                      state_channels=cfg.state_channels, num_priors=cfg.num_priors)
    cfg.validate()
    net.config = cfg
    path = default_output() if path is None else pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = torch.rand(1, 3, cfg.input_height, cfg.input_width)
    prev = torch.rand(1, 3, cfg.input_height, cfg.input_width)
    state = net.zero_state(1)
    dyn = {"frame": {0: "N"}, "prev_frame": {0: "N"}, "state": {0: "N"}, "saliency": {0: "N"}, "state_out": {0: "N"}}
    torch.onnx.export(_Exported(net).eval(), (frame, prev, state), str(path), input_names=["frame", "prev_frame", "state"],
                      output_names=["saliency", "state_out"], dynamic_axes=dyn, opset_version=opset or DEFAULT_OPSET,
                      dynamo=False, do_constant_folding=True)
    model = onnx.load(str(path))
    # The tracer leaves generated names on some output dimensions (the softmax's reshape, the GRU's chunk); the
    # contract's shapes are known, so state them exactly for the core's checks.
    static = {"saliency": (1, cfg.map_height, cfg.map_width),
              "state_out": (cfg.state_channels, cfg.map_height, cfg.map_width)}
    for out in model.graph.output:
        dims = out.type.tensor_type.shape.dim
        dims[0].dim_param = "N"
        for d, v in zip(dims[1:], static[out.name]):
            d.dim_value = v
    del model.metadata_props[:]
    for k, v in metadata(cfg, record).items():
        model.metadata_props.add(key=k, value=v)
    model.doc_string = "salcrop saliency model (docs/DESIGN.md, model version 1)"
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    diff = parity(path, net)
    if diff > PARITY_TOLERANCE:
        raise RuntimeError(f"{path}: ONNX Runtime differs from PyTorch by {diff:.3g} > {PARITY_TOLERANCE}")
    return path


def parity(path: str | pathlib.Path, net: SalCropNet, frames: np.ndarray | None = None) -> float:
    """Largest |PyTorch - ONNX Runtime| over saliency and state for two consecutive frames (batch 2 and 1)."""
    import onnxruntime as ort

    cfg = net.config
    if frames is None:
        rng = np.random.default_rng(0)
        frames = rng.random((3, 3, cfg.input_height, cfg.input_width), dtype=np.float32)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    worst = 0.0
    state = np.zeros((1, cfg.state_channels, cfg.map_height, cfg.map_width), np.float32)
    for t in range(1, len(frames)):
        feeds = {"frame": frames[t:t + 1], "prev_frame": frames[t - 1:t], "state": state}
        sal, state_out = sess.run(["saliency", "state_out"], feeds)
        with torch.no_grad():
            ts, tst = net(*(torch.from_numpy(feeds[k]) for k in ("frame", "prev_frame", "state")))
        worst = max(worst, float(np.abs(sal - ts.numpy()).max()), float(np.abs(state_out - tst.numpy()).max()))
        state = state_out
    # A batch of two exercises the dynamic batch axis.
    feeds = {"frame": frames[1:3], "prev_frame": frames[0:2], "state": np.zeros((2,) + state.shape[1:], np.float32)}
    sal, _ = sess.run(["saliency", "state_out"], feeds)
    with torch.no_grad():
        ts, _ = net(*(torch.from_numpy(feeds[k]) for k in ("frame", "prev_frame", "state")))
    return max(worst, float(np.abs(sal - ts.numpy()).max()))


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description="Export models/salcrop.pt to ONNX (model contract version 1).")
    ap.add_argument("--out", type=pathlib.Path, default=None)
    ap.add_argument("--checkpoint", type=pathlib.Path, default=None)
    ap.add_argument("--height", type=int, default=None)
    ap.add_argument("--width", type=int, default=None)
    ap.add_argument("--opset", type=int, default=None)
    args = ap.parse_args(argv)
    print(export_onnx(args.out, height=args.height, width=args.width, opset=args.opset, checkpoint=args.checkpoint))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
