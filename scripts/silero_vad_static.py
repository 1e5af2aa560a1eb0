#!/usr/bin/env python3
"""models/silero-vad.onnx from the Silero VAD wheel's silero_vad_16k_op15.onnx (models/NOTICE-silero-vad.md): the
same operators on the same weights, with the shapes the core feeds fixed (`input` [1, 576], `state` [2, 1, 128])
and everything that depended only on those shapes folded away: the graph's eleven `If` nodes (each chose between
squeezing an axis of size 1 or not, or between the batch's recurrent state and a fresh one) and the `Shape`,
`Gather` and `Equal` nodes feeding them. ONNX Runtime runs an `If` as a subgraph with its own allocations on every
call, and the core calls the model 31 times a second of sound: ~20% of a call (issue 25, stop 32). The outputs are
checked bit for bit against the original's on a stream of chunks before the file is written.

    pip download --no-deps -d /tmp/silero silero-vad==6.2.3 && unzip -o /tmp/silero/silero_vad-6.2.3-*.whl \
        silero_vad/data/silero_vad_16k_op15.onnx -d /tmp/silero
    python scripts/silero_vad_static.py /tmp/silero/silero_vad/data/silero_vad_16k_op15.onnx models/silero-vad.onnx
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import onnxscript.optimizer

ORIGINAL_SHA256 = "7ed98ddbad84ccac4cd0aeb3099049280713df825c610a8ed34543318f1b2c49"
CHUNK, CONTEXT = 512, 64  # speakers.cpp: 512 new samples at 16 kHz, the previous call's last 64 in front
SHAPE_ONLY = {"Shape", "Gather", "Equal", "Constant", "Cast", "Not", "Size"}


def fix_shapes(model: onnx.ModelProto) -> None:
    for value in model.graph.input:
        dims = value.type.tensor_type.shape.dim
        if value.name == "input":
            dims[0].dim_value, dims[1].dim_value = 1, CONTEXT + CHUNK
        elif value.name == "state":
            dims[1].dim_value = 1


def resolve_ifs(model: onnx.ModelProto) -> int:
    """Replaces each top-level If whose condition depends on shapes alone by the branch it takes (found by running
    the graph once with the condition as an output: with fixed shapes it is the same on every call)."""
    graph = model.graph
    producer = {out: node for node in graph.node for out in node.output}
    inputs = {value.name for value in graph.input} | {init.name for init in graph.initializer}

    def shape_only(name: str, seen: set[str]) -> bool:
        if name in inputs or name in seen:
            return True
        seen.add(name)
        node = producer[name]
        if node.op_type == "Shape":
            return True  # the shape of anything is fixed now
        return node.op_type in SHAPE_ONLY and all(shape_only(i, seen) for i in node.input if i)

    ifs = [n for n in graph.node if n.op_type == "If" and shape_only(n.input[0], set())]
    if not ifs:
        return 0
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for node in ifs:
        probe.graph.output.append(onnx.helper.make_tensor_value_info(node.input[0], onnx.TensorProto.BOOL, None))
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    conditions = session.run([n.input[0] for n in ifs], feeds(np.zeros(CONTEXT + CHUNK, np.float32)))
    for node, cond in zip(ifs, conditions):
        branch = next(a.g for a in node.attribute if a.name == ("then_branch" if bool(cond) else "else_branch"))
        rename = {out.name: target for out, target in zip(branch.output, node.output)}
        at = list(graph.node).index(node)
        graph.node.remove(node)
        for k, inner in enumerate(branch.node):
            copy = onnx.NodeProto()
            copy.CopyFrom(inner)
            for i, name in enumerate(copy.output):
                copy.output[i] = rename.get(name, name)
            graph.node.insert(at + k, copy)
        # A branch that only passes a value through (Identity) keeps its name: still one node, folded below.
    return len(ifs)


def feeds(chunk: np.ndarray, state: np.ndarray | None = None) -> dict[str, np.ndarray]:
    return {"input": chunk.reshape(1, -1).astype(np.float32),
            "state": np.zeros((2, 1, 128), np.float32) if state is None else state,
            "sr": np.array(16000, np.int64)}


def same_outputs(original: bytes, derived: bytes, chunks: int = 600) -> None:
    """Both models over one stream (noise, tones and silence, the state carried): every output bit for bit."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    a = ort.InferenceSession(original, options, providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(derived, options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(25)
    t = np.arange(CHUNK * chunks) / 16000.0
    sound = 0.3 * np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 2 * t) > 0) + 0.05 * rng.standard_normal(t.size)
    sound[CHUNK * chunks // 3: CHUNK * chunks // 2] = 0
    context = np.zeros(CONTEXT, np.float32)
    sa = sb = None
    for k in range(chunks):
        chunk = np.concatenate([context, sound[k * CHUNK:(k + 1) * CHUNK].astype(np.float32)])
        context = chunk[-CONTEXT:]
        pa, sa = a.run(None, feeds(chunk, sa))
        pb, sb = b.run(None, feeds(chunk, sb))
        if pa.tobytes() != pb.tobytes() or sa.tobytes() != sb.tobytes():
            raise SystemExit(f"chunk {k}: the derived model's output differs ({float(pa[0, 0])} vs {float(pb[0, 0])})")


def count_ifs(graph: onnx.GraphProto) -> int:
    n = 0
    for node in graph.node:
        n += node.op_type == "If"
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                n += count_ifs(attr.g)
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", type=Path, help="silero_vad_16k_op15.onnx, byte for byte the wheel's")
    ap.add_argument("dst", type=Path)
    args = ap.parse_args()
    original = args.src.read_bytes()
    digest = hashlib.sha256(original).hexdigest()
    if digest != ORIGINAL_SHA256:
        raise SystemExit(f"{args.src}: sha256 {digest} is not the wheel's {ORIGINAL_SHA256}")
    model = onnx.load_from_string(original)
    before = count_ifs(model.graph)
    fix_shapes(model)
    # Fold what the fixed shapes decide (this inlines the nested Ifs), then the top-level Ifs left, then again.
    model = onnxscript.optimizer.optimize(model, num_iterations=4)
    while resolve_ifs(model):
        model = onnxscript.optimizer.optimize(model, num_iterations=4)
    onnx.checker.check_model(model)
    derived = model.SerializeToString()
    same_outputs(original, derived)
    args.dst.write_bytes(derived)
    print(f"{args.dst}: If nodes {before} -> {count_ifs(model.graph)}, nodes {len(onnx.load_from_string(original).graph.node)}"
          f" -> {len(model.graph.node)}; sha256 {hashlib.sha256(derived).hexdigest()}, {len(derived)} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
