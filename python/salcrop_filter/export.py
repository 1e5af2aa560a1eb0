"""Export the trained network to the ONNX model contract of docs/DESIGN.md (model version 1).

``python -m salcrop_filter.export [--size small|large] [--out models/salcrop.onnx] [--height H --width W]`` or
``export_onnx(path, height=..., width=..., size=...)``: reads ``models/salcrop.pt`` (``--size large``:
``models/salcrop-large.pt``), writes the ONNX file (``salcrop.onnx`` or ``salcrop-large.onnx``) with dynamic batch and
the metadata the core checks, then verifies ONNX Runtime against PyTorch on the same inputs. Either size is the same
code: the checkpoint's config (training/model.py ``SIZES``) says which network to rebuild.

For the GPU: ``--fp16 SRC DST`` writes a half-precision copy of a float model (``export_fp16``; inputs and outputs
stay float32, so it is the same contract, metadata ``precision``="fp16"), and ``--split MODEL`` writes the
encoder/head pair the core batches with (:mod:`salcrop_filter.split`).
"""

from __future__ import annotations

import dataclasses
import pathlib

import numpy as np
import torch

from . import commands
from .training.model import ModelConfig, SalCropNet, load_checkpoint

MODEL_VERSION = "1"
DEFAULT_OPSET = 17
#: Largest accepted |PyTorch - ONNX Runtime| on a saliency map (maps sum to 1, a value is ~1e-3).
PARITY_TOLERANCE = 1e-5


#: File stem of each size preset: the small model is ``salcrop``, the large one ``salcrop-large``.
STEMS = {"small": "salcrop", "large": "salcrop-large"}


def default_checkpoint(size: str = "small") -> pathlib.Path:
    """``models/salcrop.pt`` (``salcrop-large.pt`` for the large size) in a source checkout, else the copy
    installed inside the package."""
    from .training.datasets import repo_root  # here: it needs scipy, which exporting does not

    name = STEMS[size] + ".pt"
    in_repo = repo_root() / "models" / name
    return in_repo if in_repo.is_file() else pathlib.Path(__file__).with_name(name)


def onnx_name(size: str) -> str:
    """The ONNX file name of a size preset: ``salcrop.onnx``, ``salcrop-large.onnx`` (``custom``: ``salcrop.onnx``)."""
    return STEMS.get(size, "salcrop") + ".onnx"


def default_output(size: str = "small") -> pathlib.Path:
    """``models/salcrop.onnx`` (``salcrop-large.onnx`` for the large size) in a source checkout, else that name in
    the working directory."""
    from .training.datasets import repo_root

    name = onnx_name(size)
    models = repo_root() / "models"
    return models / name if models.is_dir() else pathlib.Path(name)


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


def write_contract_model(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...], path: pathlib.Path,
                         map_hw: tuple[int, int], state_channels: int, meta: dict[str, str], doc: str,
                         opset: int = DEFAULT_OPSET) -> None:
    """Export ``module`` ((frame, prev_frame, state) -> (saliency, state_out)) to ``path`` in the model contract:
    batch dynamic, the outputs' other dimensions stated exactly, the metadata the core checks; onnx-checked.
    The caller checks it against PyTorch (its own parity)."""
    import onnx

    dyn = {"frame": {0: "N"}, "prev_frame": {0: "N"}, "state": {0: "N"}, "saliency": {0: "N"}, "state_out": {0: "N"}}
    torch.onnx.export(module, inputs, str(path), input_names=["frame", "prev_frame", "state"],
                      output_names=["saliency", "state_out"], dynamic_axes=dyn, opset_version=opset,
                      dynamo=False, do_constant_folding=True)
    model = onnx.load(str(path))
    # The tracer leaves generated names on some output dimensions (the softmax's reshape, the GRU's chunk); the
    # contract's shapes are known, so state them exactly for the core's checks.
    static = {"saliency": (1, *map_hw), "state_out": (state_channels, *map_hw)}
    for out in model.graph.output:
        dims = out.type.tensor_type.shape.dim
        dims[0].dim_param = "N"
        for d, v in zip(dims[1:], static[out.name]):
            d.dim_value = v
    del model.metadata_props[:]
    for k, v in meta.items():
        model.metadata_props.add(key=k, value=v)
    model.doc_string = doc
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def export_onnx(path: str | pathlib.Path | None = None, *, height: int | None = None, width: int | None = None,
                opset: int | None = None, checkpoint: str | pathlib.Path | None = None,
                size: str | None = None) -> pathlib.Path:
    """Write the ONNX model from the checkpoint and check it; return its path.

    ``checkpoint`` defaults to the shipped one of ``size`` (``small``: ``models/salcrop.pt``, ``large``:
    ``models/salcrop-large.pt``); ``path`` to ``models/salcrop.onnx`` or, for a large checkpoint,
    ``models/salcrop-large.onnx``. ``height``/``width`` choose another input size (multiples of 8) for the same
    weights; the network is fully convolutional and its centre priors are generated for the map size.
    """
    net, record = load_checkpoint(default_checkpoint(size or "small") if checkpoint is None else checkpoint)
    cfg = net.config
    # Only the input size changes; the rest (motion stride, state channels) is the checkpoint's size preset.
    cfg = dataclasses.replace(cfg, input_height=height or cfg.input_height, input_width=width or cfg.input_width)
    cfg.validate()
    net.config = cfg
    path = default_output(net.config.size_name) if path is None else pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = torch.rand(1, 3, cfg.input_height, cfg.input_width)
    prev = torch.rand(1, 3, cfg.input_height, cfg.input_width)
    state = net.zero_state(1)
    write_contract_model(_Exported(net).eval(), (frame, prev, state), path, (cfg.map_height, cfg.map_width),
                         cfg.state_channels, metadata(cfg, record),
                         "salcrop saliency model (docs/DESIGN.md, model version 1)", opset or DEFAULT_OPSET)
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


#: Smallest accepted correlation (CC) between an FP16 map and the FP32 map of the same frame.
FP16_MIN_CC = 0.99


def export_fp16(src: str | pathlib.Path, dst: str | pathlib.Path) -> pathlib.Path:
    """Write a half-precision copy of the float model ``src`` (weights and activations in FP16, the contract's
    float32 inputs and outputs kept, so the core loads it like any other model). Return ``dst``.

    Meant for the GPU (tensor cores); ONNX Runtime's CPU provider runs it too, slowly, which is what lets
    ``fp16_agreement`` check it on a machine without a GPU.
    """
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = onnx.load(str(src))
    meta = {p.key: p.value for p in model.metadata_props}
    if meta.get("precision", "float32") not in ("float32", ""):
        raise ValueError(f"{src}: precision {meta['precision']!r}; FP16 is made from the float model")
    from .split import sort_nodes

    half = convert_float_to_float16(model, keep_io_types=True)
    sort_nodes(half.graph)  # the converter appends its input casts at the end
    del half.metadata_props[:]
    for k, v in {**meta, "precision": "fp16"}.items():
        half.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(half)
    dst = pathlib.Path(dst)
    onnx.save(half, str(dst))
    return dst


def fp16_agreement(fp32: str | pathlib.Path, fp16: str | pathlib.Path, frames: np.ndarray,
                   provider: str = "CPUExecutionProvider") -> list[float]:
    """CC between the two models' maps on consecutive frames of one clip (``[T,3,H,W]`` in [0,1], state carried
    in each), frame by frame."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3  # the CPU has no FP16 kernel for some nodes; ONNX Runtime says so per node
    sessions = [ort.InferenceSession(str(p), opts, providers=[provider]) for p in (fp32, fp16)]
    meta = sessions[0].get_modelmeta().custom_metadata_map
    shape = (1, int(meta["state_channels"]), int(meta["map_height"]), int(meta["map_width"]))
    states = [np.zeros(shape, np.float32) for _ in sessions]
    ccs = []
    for t in range(len(frames)):
        feeds = {"frame": frames[t:t + 1], "prev_frame": frames[max(t - 1, 0):max(t - 1, 0) + 1]}
        maps = []
        for k, sess in enumerate(sessions):
            sal, states[k] = sess.run(["saliency", "state_out"], {**feeds, "state": states[k]})
            maps.append(sal.ravel().astype(np.float64))
        ccs.append(float(np.corrcoef(maps[0], maps[1])[0, 1]))
    return ccs


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    ap = commands.parser(
        "export", "Export models/salcrop.pt to ONNX (model contract version 1).",
        "example (the shipped checkpoint at another input size):\n"
        "  salcrop export --height 224 --width 400 --out salcrop-224x400.onnx", alias="export")
    ap.add_argument("--out", type=pathlib.Path, default=None)
    ap.add_argument("--checkpoint", type=pathlib.Path, default=None)
    ap.add_argument("--size", choices=sorted(STEMS), default=None,
                    help="export the shipped checkpoint of this size (default small; ignored with --checkpoint)")
    ap.add_argument("--height", type=int, default=None)
    ap.add_argument("--width", type=int, default=None)
    ap.add_argument("--opset", type=int, default=None)
    ap.add_argument("--fp16", nargs=2, type=pathlib.Path, metavar=("SRC", "DST"),
                    help="write an FP16 copy of the float model SRC to DST (for the GPU) instead of exporting")
    ap.add_argument("--split", type=pathlib.Path, metavar="MODEL",
                    help="write MODEL's encoder/head pair beside it (the core's batching) instead of exporting")
    args = ap.parse_args(argv)
    if args.fp16:
        print(export_fp16(*args.fp16))
        return 0
    if args.split:
        from .split import split_model

        for p in split_model(args.split):
            print(p)
        return 0
    print(export_onnx(args.out, height=args.height, width=args.width, opset=args.opset, checkpoint=args.checkpoint,
                      size=args.size))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
