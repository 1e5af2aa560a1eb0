"""Split a salcrop model into the part that batches over time and the recurrent part (for the core's batching).

The network's appearance and motion streams see only ``frame`` and ``prev_frame``; the temporal ``state`` enters at
the ConvGRU near the end. Every node downstream of ``state`` is the *head*; everything else is the *encoder*. The
encoder can run on many consecutive frames of a clip in one call (batch over time) and the head then runs frame by
frame, carrying the state, which is exactly what the whole model computes one frame at a time.

``python -m salcrop_filter.split models/salcrop.onnx`` (or ``python -m salcrop_filter.export --split ...``) writes
``salcrop.encoder.onnx`` and ``salcrop.head.onnx`` beside it; the core finds them there (docs/DESIGN.md).

- Encoder: inputs ``frame``, ``prev_frame`` ``[N,3,H,W]``; outputs the tensors the head reads (batch-major floats).
- Head: those tensors for one frame plus ``state``; outputs ``saliency``, ``state_out``. Anything else the head
  reads from the encoder's side (constants, the batch size for a reshape) is frozen at batch 1, so the head runs
  one frame per call.
- Metadata: the model's, plus ``split_of_<key>`` for the keys the core compares (a split of another model,
  e.g. before a retraining, is refused).
The split is checked against the whole model on a clip before it is written: largest difference 1e-5 (2e-3 for
FP16).
"""

from __future__ import annotations

import pathlib

import numpy as np

from . import commands

#: Metadata keys of the source model that a split must match (the core checks ``split_of_<key>``).
SPLIT_KEYS = ("trained", "training_data_sha256", "input_height", "input_width", "precision")
#: Largest accepted |split - whole model| on a saliency map or state, by the model's precision: float32 and int8
#: agree to rounding; FP16 graphs are fused differently once cut, which moves the state (values ~1) by a few of
#: FP16's steps (1e-3 at 1).
SPLIT_TOLERANCE = {"fp16": 2e-3}
DEFAULT_SPLIT_TOLERANCE = 1e-5


def split_paths(model: str | pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    """Where the core looks for the split of ``model``: ``<stem>.encoder.onnx`` and ``<stem>.head.onnx``."""
    model = pathlib.Path(model)
    return (model.with_name(model.stem + ".encoder.onnx"), model.with_name(model.stem + ".head.onnx"))


def sort_nodes(graph) -> None:
    """Topological order in place (the FP16 converter appends its input casts at the end)."""
    available = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {""}
    pending, ordered = list(graph.node), []
    while pending:
        ready = [n for n in pending if all(i in available for i in n.input)]
        if not ready:
            raise ValueError("the graph has a cycle or reads a tensor nothing produces")
        for n in ready:
            available.update(n.output)
        ordered.extend(ready)
        pending = [n for n in pending if all(n is not r for r in ready)]
    del graph.node[:]
    graph.node.extend(ordered)


def _boundary(graph) -> tuple[list[str], set[str]]:
    """Tensors the state-dependent nodes read from the rest of the graph, and the tensors the frames reach."""
    inits = {i.name for i in graph.initializer}
    from_state, from_frames = {"state"}, {"frame", "prev_frame"}
    head_nodes = []
    for node in graph.node:  # ONNX graphs are topologically sorted
        if any(i in from_state for i in node.input):
            head_nodes.append(node)
            from_state.update(node.output)
        if any(i in from_frames for i in node.input):
            from_frames.update(node.output)
    boundary: list[str] = []
    for node in head_nodes:
        for name in node.input:
            if name and name not in from_state and name not in inits and name not in boundary:
                boundary.append(name)
    return boundary, from_frames


def _session(model_bytes: bytes):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3  # FP16 graphs: the CPU lacks some FP16 kernels and says so per node
    return ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])


def split_model(model_path: str | pathlib.Path, frames: np.ndarray | None = None) -> tuple[pathlib.Path, pathlib.Path]:
    """Write the encoder/head pair beside ``model_path`` (see the module docstring); return their paths.

    ``frames``: ``[T,3,H,W]`` float32 in [0,1], consecutive frames of one clip to check the split on (random
    frames when None). Raises RuntimeError when the split differs from the whole model by more than
    SPLIT_TOLERANCE.
    """
    import onnx
    from onnx import helper, numpy_helper, shape_inference
    from onnx.utils import Extractor

    model_path = pathlib.Path(model_path)
    model = onnx.load(str(model_path))
    sort_nodes(model.graph)
    meta = {p.key: p.value for p in model.metadata_props}
    h, w = int(meta["input_height"]), int(meta["input_width"])
    c, mh, mw = int(meta["state_channels"]), int(meta["map_height"]), int(meta["map_width"])
    boundary, from_frames = _boundary(model.graph)

    # The boundary's values at batch 1, to learn their types and freeze what is not a per-frame feature.
    probe = shape_inference.infer_shapes(model)
    infos = {v.name: v for v in list(probe.graph.value_info) + list(probe.graph.output)}
    probe.graph.output.extend(infos[name] if name in infos else helper.make_empty_tensor_value_info(name)
                              for name in boundary)
    rng = np.random.default_rng(0)
    one = rng.random((1, 3, h, w), dtype=np.float32)
    values = _session(probe.SerializeToString()).run(
        boundary, {"frame": one, "prev_frame": one, "state": np.zeros((1, c, mh, mw), np.float32)})
    features = [n for n, v in zip(boundary, values) if n in from_frames and v.dtype in (np.float32, np.float16) and v.ndim == 4]
    # Frozen: what the frames reach only through shapes (the batch size of a reshape). Tensors the frames do not
    # reach at all (constants, dequantized weights) keep their producers in the head.
    frozen = {n: v for n, v in zip(boundary, values) if n not in features and n in from_frames}

    encoder = Extractor(shape_inference.infer_shapes(model)).extract_model(["frame", "prev_frame"], features)
    head_src = onnx.ModelProto()
    head_src.CopyFrom(model)
    for node in head_src.graph.node:  # frozen tensors become initializers; their producers are cut off
        node.output[:] = [o + "__frozen_source" if o in frozen else o for o in node.output]
    head_src.graph.initializer.extend(numpy_helper.from_array(v, n) for n, v in frozen.items())
    head = Extractor(shape_inference.infer_shapes(head_src)).extract_model(features + ["state"], ["saliency", "state_out"])

    # The features' shapes exactly (the batch symbolic, the rest from the probe): the core sizes its views by them.
    shapes = {n: v.shape[1:] for n, v in zip(boundary, values) if n in features}
    for value_info in list(encoder.graph.output) + list(head.graph.input):
        if value_info.name in shapes:
            dims = value_info.type.tensor_type.shape.dim
            del dims[:]
            dims.add().dim_param = "N"
            for d in shapes[value_info.name]:
                dims.add().dim_value = int(d)
    for part, what in ((encoder, "encoder"), (head, "head")):
        part.ir_version = model.ir_version
        del part.opset_import[:]
        part.opset_import.extend(model.opset_import)
        del part.metadata_props[:]
        for k, v in meta.items():
            part.metadata_props.add(key=k, value=v)
        for k in SPLIT_KEYS:
            part.metadata_props.add(key="split_of_" + k, value=meta.get(k, ""))
        part.doc_string = f"salcrop model split ({what}) of {model_path.name}: salcrop_filter/split.py"
        onnx.checker.check_model(part)

    if frames is None:
        frames = rng.random((6, 3, h, w), dtype=np.float32)
    diff = _check(model.SerializeToString(), encoder.SerializeToString(), head.SerializeToString(), features,
                  frames, (c, mh, mw))
    tolerance = SPLIT_TOLERANCE.get(meta.get("precision", ""), DEFAULT_SPLIT_TOLERANCE)
    if diff > tolerance:
        raise RuntimeError(f"{model_path}: the split differs from the whole model by {diff:.3g} > {tolerance}")
    enc_path, head_path = split_paths(model_path)
    onnx.save(encoder, str(enc_path))
    onnx.save(head, str(head_path))
    return enc_path, head_path


def _check(whole: bytes, encoder: bytes, head: bytes, features: list[str], frames: np.ndarray,
           state_shape: tuple[int, int, int]) -> float:
    """Largest |split - whole| over the saliency maps and states of a clip run frame by frame (state carried)."""
    whole_s, enc_s, head_s = _session(whole), _session(encoder), _session(head)
    prev = np.concatenate([frames[:1], frames[:-1]])
    feats = enc_s.run(features, {"frame": frames, "prev_frame": prev})
    state_w = state_h = np.zeros((1,) + state_shape, np.float32)
    worst = 0.0
    for t in range(len(frames)):
        sal_w, state_w = whole_s.run(["saliency", "state_out"],
                                     {"frame": frames[t:t + 1], "prev_frame": prev[t:t + 1], "state": state_w})
        feeds = {n: f[t:t + 1] for n, f in zip(features, feats)}
        feeds["state"] = state_h
        sal_h, state_h = head_s.run(["saliency", "state_out"], feeds)
        worst = max(worst, float(np.abs(sal_w - sal_h).max()), float(np.abs(state_w - state_h).max()))
    return worst


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    ap = commands.parser(
        "split", "Split a salcrop model into its batchable encoder and recurrent head.",
        "example (writes my.encoder.onnx and my.head.onnx beside it):\n  salcrop split my.onnx", alias="split")
    ap.add_argument("models", nargs="+", type=pathlib.Path)
    args = ap.parse_args(argv)
    for m in args.models:
        for p in split_model(m):
            print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
