"""Model-alone CPU speed of one ONNX Runtime wheel, for choosing between ``onnxruntime`` and ``onnxruntime-gpu``.

Run it once with each wheel's interpreter (each in a virtualenv of its own; they cannot share one, both install the
``onnxruntime`` module), alternating, on the same idle-as-possible machine:

    <venv>/bin/python benchmarks/ort_wheels.py models/salcrop-int8.onnx models/salcrop.onnx

Prints one line per model: the wheel, its version, frames/s at batch 1 on one intra-op thread (the core's default
``threads=0``), the median of ``--repeats`` timed blocks of ``--frames`` frames. Needs only numpy and onnxruntime.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import statistics
import time

import numpy as np
import onnxruntime as ort


def wheel_name() -> str:
    """Which onnxruntime distribution provides the module (both install ``onnxruntime``)."""
    for dist in ("onnxruntime-gpu", "onnxruntime"):
        try:
            return f"{dist}=={importlib.metadata.version(dist)}"
        except importlib.metadata.PackageNotFoundError:
            continue
    return f"onnxruntime (unknown wheel) {ort.__version__}"


def frames_per_second(path: str, frames: int, repeats: int, threads: int) -> list[float]:
    """frames/s of ``repeats`` blocks of ``frames`` batch-1 runs with the state fed back, as the core runs."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    meta = sess.get_modelmeta().custom_metadata_map
    h, w = int(meta["input_height"]), int(meta["input_width"])
    c, mh, mw = int(meta["state_channels"]), int(meta["map_height"]), int(meta["map_width"])
    rng = np.random.default_rng(0)
    clip = rng.random((frames + 1, 1, 3, h, w), dtype=np.float32)
    state = np.zeros((1, c, mh, mw), np.float32)
    for k in range(5):  # warm-up
        _, state = sess.run(None, {"frame": clip[k + 1], "prev_frame": clip[k], "state": state})
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for k in range(frames):
            _, state = sess.run(None, {"frame": clip[k + 1], "prev_frame": clip[k], "state": state})
        rates.append(frames / (time.perf_counter() - start))
    return rates


def main() -> None:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    for path in args.models:
        rates = frames_per_second(path, args.frames, args.repeats, args.threads)
        print(f"{wheel_name():28s} {path:28s} {statistics.median(rates):7.1f} frames/s "
              f"(blocks: {', '.join(f'{r:.0f}' for r in rates)}; providers {ort.get_available_providers()})")


if __name__ == "__main__":
    main()
