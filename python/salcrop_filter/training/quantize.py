"""The CPU variant of the model: the float ONNX model with its convolutions in 8-bit integers.

``python -m salcrop_filter.quantize [--model models/salcrop.onnx] [--out models/salcrop-int8.onnx]`` or
``quantize_model(src, dst)``. ONNX Runtime's static quantization (QDQ format, per-channel int8 weights, uint8
activations) calibrated on training images only (never the held-out split), each seen as a still frame and as a
shifted frame so the motion stream's range is calibrated too. The read-out (the last convolution and the
softmax) stays in float: quantized, many map values round to exactly zero and KLD goes from 0.49 to 3.3.
Weights use 7 bits (``reduce_range``): on CPUs without AVX-512 VNNI, ONNX Runtime's 8-bit kernels sum pairs of
products in 16 bits, which saturated with full-range weights (maps against the float model: mean CC 0.982 there
against 0.9975 on VNNI); with 7-bit weights both paths give the same maps (CC 0.99999) at the same speed.

"The shipped 8-bit model is current" is checked by :func:`differences` (``python -m salcrop_filter.quantize --check``),
not by comparing bytes: calibration runs the float model in ONNX Runtime, whose kernels differ by CPU (AVX-512 or
AVX2 only), so activation ranges and the scales and zero points derived from them differ in their last bits from one
x86-64 CPU to another. The check compares the graph exactly and the numbers within what such rounding can move.

Why: on this project's 2-core CPU (AVX-512 VNNI) the 8-bit model runs in ~2.4 ms instead of ~5.2 ms per frame
with the same held-out CC (models/README.md). The core loads it by default on the CPU; the float model stays the
default on CUDA, where the float kernels are the fast ones.
"""

from __future__ import annotations

import pathlib
import sys
import tempfile

import numpy as np

from .. import commands
from . import datasets

#: Training images used for calibration (a seeded choice; more changed nothing measurable).
CALIBRATION_IMAGES = 64
CALIBRATION_SEED = 0
#: Pixels the calibration's second frame is shifted by, horizontally (the motion stream sees a real difference).
CALIBRATION_SHIFT = 8
#: Nodes of the float export kept in float: the read-out conv and what follows it (see the module docstring).
FLOAT_TAIL = ("/net/Concat_5", "/net/readout/Conv", "/net/Flatten", "/net/Softmax", "/net/Reshape",
              # The camera-motion estimate: mean absolute differences of a few grey levels decide the softmax over
              # the candidate shifts, finer than 8-bit steps; its tensors are small (stride 4, one channel each).
              "/net/motion/Conv", "/net/motion/Sub", "/net/motion/Abs", "/net/motion/ReduceMean_2",
              "/net/motion/Softmax", "/net/motion/Mul", "/net/motion/ReduceSum")


def default_output() -> pathlib.Path:
    """``models/salcrop-int8.onnx`` in a source checkout, else ``salcrop-int8.onnx`` in the working directory."""
    models = datasets.repo_root() / "models"
    return models / "salcrop-int8.onnx" if models.is_dir() else pathlib.Path("salcrop-int8.onnx")


def calibration_inputs(height: int, width: int, state_shape: tuple[int, int, int],
                       count: int = CALIBRATION_IMAGES) -> list[dict[str, np.ndarray]]:
    """Model inputs made from ``count`` seeded training images: a still frame and a shifted one for each."""
    import cv2

    train, _ = datasets.split(datasets.load_all())
    picks = np.random.default_rng(CALIBRATION_SEED).choice(len(train), min(count, len(train)), replace=False)
    state = np.zeros((1,) + state_shape, np.float32)
    feeds = []
    for i in sorted(picks):
        frame = cv2.resize(train[i].image, (width, height), interpolation=cv2.INTER_AREA)
        x = (frame.astype(np.float32) / 255.0).transpose(2, 0, 1)[None].copy()
        moved = np.roll(x, CALIBRATION_SHIFT, axis=3)
        feeds.append({"frame": x, "prev_frame": x, "state": state})
        feeds.append({"frame": moved, "prev_frame": x, "state": state})
    return feeds


def quantize_model(src: str | pathlib.Path, dst: str | pathlib.Path | None = None) -> pathlib.Path:
    """Write the 8-bit variant of the float model ``src`` to ``dst`` (default ``models/salcrop-int8.onnx``).

    The contract's metadata is carried over unchanged, with ``precision=int8`` added.
    """
    import onnx
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    src = pathlib.Path(src)
    dst = default_output() if dst is None else pathlib.Path(dst)
    model = onnx.load(str(src))
    meta = {p.key: p.value for p in model.metadata_props}
    height, width = int(meta["input_height"]), int(meta["input_width"])
    state_shape = (int(meta["state_channels"]), int(meta["map_height"]), int(meta["map_width"]))
    names = {n.name for n in model.graph.node}
    missing = [n for n in FLOAT_TAIL if n not in names]
    if missing:
        raise ValueError(f"{src}: nodes {missing} not found: not a salcrop_filter export of this network")

    class _Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._feeds = iter(calibration_inputs(height, width, state_shape))

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._feeds, None)

    with tempfile.TemporaryDirectory() as tmp:
        prepared = pathlib.Path(tmp) / "prepared.onnx"
        quant_pre_process(str(src), str(prepared))
        out = pathlib.Path(tmp) / "int8.onnx"
        quantize_static(str(prepared), str(out), _Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax, nodes_to_exclude=list(FLOAT_TAIL),
                        reduce_range=True)
        quantized = onnx.load(str(out))
    del quantized.metadata_props[:]
    for k, v in {**meta, "precision": "int8"}.items():
        quantized.metadata_props.add(key=k, value=v)
    quantized.doc_string = model.doc_string + " (8-bit QDQ variant for the CPU)"
    onnx.checker.check_model(quantized)
    dst.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(quantized, str(dst))
    return dst


#: Relative tolerance on scales (and on biases, quantized with the activation scale): calibration on another CPU
#: moves a scale by ~1e-6 of itself; a changed float model moves the ranges it sees by percents.
SCALE_RTOL = 1e-3
#: Quantized weights and zero points may differ by one step (a value on a rounding boundary).
STEP_ATOL = 1
#: Float initialisers copied or constant-folded from the float model (folding runs on the CPU too).
FLOAT_RTOL = 1e-5


def _roles(model) -> dict[str, str]:  # onnx.ModelProto
    """Initialiser name -> ``scale`` / ``zero_point`` / ``quantized`` (the integer input of a DequantizeLinear)."""
    roles: dict[str, str] = {}
    for node in model.graph.node:
        if node.op_type in ("QuantizeLinear", "DequantizeLinear"):
            for i, role in enumerate(("quantized" if node.op_type == "DequantizeLinear" else "input",
                                      "scale", "zero_point")):
                if i < len(node.input):
                    roles.setdefault(node.input[i], role)
    return roles


def differences(expected: str | pathlib.Path, actual: str | pathlib.Path, limit: int = 10) -> list[str]:
    """What makes the 8-bit model ``actual`` another model than ``expected``, beyond CPU rounding (empty: the same).

    Exact: metadata, inputs and outputs, every node (type, inputs, outputs, attributes), every initialiser's name,
    type and shape. Within tolerance: scales (:data:`SCALE_RTOL`), zero points and int8 weights (:data:`STEP_ATOL`),
    int32 biases (one step plus :data:`SCALE_RTOL` of the value, as their scale is the input's times the weight's),
    other floats (:data:`FLOAT_RTOL`); integer constants exactly. At most ``limit`` differences are listed.
    """
    import onnx
    from onnx import numpy_helper

    a, b = onnx.load(str(expected)), onnx.load(str(actual))
    out: list[str] = []
    meta_a = {p.key: p.value for p in a.metadata_props}
    meta_b = {p.key: p.value for p in b.metadata_props}
    if meta_a != meta_b:
        keys = sorted(k for k in meta_a.keys() | meta_b.keys() if meta_a.get(k) != meta_b.get(k))
        out.append(f"metadata differs: {keys}")
    for what, xa, xb in (("inputs", a.graph.input, b.graph.input), ("outputs", a.graph.output, b.graph.output)):
        if [x.SerializeToString() for x in xa] != [x.SerializeToString() for x in xb]:
            out.append(f"graph {what} differ")
    nodes_a = [(n.op_type, list(n.input), list(n.output), [x.SerializeToString() for x in n.attribute])
               for n in a.graph.node]
    nodes_b = [(n.op_type, list(n.input), list(n.output), [x.SerializeToString() for x in n.attribute])
               for n in b.graph.node]
    if nodes_a != nodes_b:
        first = next((i for i, (x, y) in enumerate(zip(nodes_a, nodes_b)) if x != y), min(len(nodes_a), len(nodes_b)))
        out.append(f"graph differs: {len(nodes_a)} against {len(nodes_b)} nodes, first difference at node {first}")
    inits_a = {t.name: t for t in a.graph.initializer}
    inits_b = {t.name: t for t in b.graph.initializer}
    if inits_a.keys() != inits_b.keys():
        out.append(f"initialisers differ: only in {expected}: {sorted(inits_a.keys() - inits_b.keys())[:5]}, "
                   f"only in {actual}: {sorted(inits_b.keys() - inits_a.keys())[:5]}")
    roles = _roles(a)
    for name in sorted(inits_a.keys() & inits_b.keys()):
        x, y = numpy_helper.to_array(inits_a[name]), numpy_helper.to_array(inits_b[name])
        if x.dtype != y.dtype or x.shape != y.shape:
            out.append(f"{name}: {x.dtype}{list(x.shape)} against {y.dtype}{list(y.shape)}")
            continue
        role = roles.get(name, "")
        if np.issubdtype(x.dtype, np.floating):
            rtol = SCALE_RTOL if role == "scale" else FLOAT_RTOL
            bad = np.abs(x.astype(np.float64) - y) > rtol * np.abs(x.astype(np.float64)) + 1e-30
            what = f"beyond {rtol:g} relative"
        elif role in ("zero_point", "quantized") and x.dtype != np.int32:
            bad = np.abs(x.astype(np.int64) - y) > STEP_ATOL
            what = f"by more than {STEP_ATOL} step"
        elif role == "quantized":  # int32 bias
            bad = np.abs(x.astype(np.int64) - y) > STEP_ATOL + SCALE_RTOL * np.abs(x.astype(np.float64))
            what = f"by more than {STEP_ATOL} step + {SCALE_RTOL:g} relative"
        else:
            bad = x != y
            what = "(exact)"
        if np.any(bad):
            d = np.abs(x.astype(np.float64) - y)
            out.append(f"{name} ({role or 'constant'}, {x.dtype}): {int(bad.sum())} of {x.size} values differ "
                       f"{what}, largest difference {d.max():.6g}")
        if len(out) >= limit:
            break
    return out[:limit]


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; see the module docstring."""
    ap = commands.parser(
        "quantize", "Write the 8-bit CPU variant of the salcrop ONNX model.",
        "example (is the shipped 8-bit model what the float one quantizes to?):\n  salcrop quantize --check",
        alias="quantize")
    ap.add_argument("--model", type=pathlib.Path, default=datasets.repo_root() / "models" / "salcrop.onnx")
    ap.add_argument("--out", type=pathlib.Path, default=None)
    ap.add_argument("--check", action="store_true",
                    help="do not write: quantize into a temporary file and say whether --out (default the shipped "
                         "8-bit model) is what that gives, up to CPU rounding (exit 1 if it is stale)")
    args = ap.parse_args(argv)
    if not args.check:
        print(quantize_model(args.model, args.out))
        return 0
    shipped = default_output() if args.out is None else args.out
    if not shipped.is_file():
        print(f"quantize --check: {shipped} does not exist", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        diffs = differences(shipped, quantize_model(args.model, pathlib.Path(tmp) / "int8.onnx"))
    for d in diffs:
        print(d)
    print(f"{shipped}: {'stale, rerun python -m salcrop_filter.quantize' if diffs else 'current'}")
    return 1 if diffs else 0


if __name__ == "__main__":
    raise SystemExit(main())
