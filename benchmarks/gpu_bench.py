"""The saliency model alone on the GPU: frames/s by batch size, input size and precision (run by gpu_bench.sh).

    python3 benchmarks/gpu_bench.py --models DIR [--batches 1,16,64] [--seconds 3] [--json OUT.json]

DIR holds ``salcrop-<H>x<W>.onnx`` (float) and ``salcrop-<H>x<W>-fp16.onnx`` per input size (gpu_bench.sh exports
them from models/salcrop.pt). Each model runs on ONNX Runtime's CUDA provider with IO binding: inputs and state
are uploaded once and stay on the GPU, outputs stay there (what the core's batched path does with its features and
state), so this is the model's own speed. Batch N is N independent frames in one call (the contract's batch axis;
the core's batching runs the state-free encoder that way). Also: the FP16 maps' CC against FP32 on the same inputs
(random frames; the real-frame check is tests/test_gpu_path.py). Prints one line per case and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import time

import numpy as np
import onnxruntime as ort


#: --cpu: a smoke run of this script with the CPU provider (to check it before spending device time).
DEVICE = "cuda"


def session(path: pathlib.Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if DEVICE == "cpu":
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    sess = ort.InferenceSession(str(path), opts, providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
    if sess.get_providers()[0] != "CUDAExecutionProvider":
        raise RuntimeError(f"{path}: CUDAExecutionProvider did not start (providers: {sess.get_providers()})")
    return sess


def shapes(sess: ort.InferenceSession) -> tuple[int, int, int, int, int]:
    m = sess.get_modelmeta().custom_metadata_map
    return (int(m["input_height"]), int(m["input_width"]), int(m["state_channels"]), int(m["map_height"]),
            int(m["map_width"]))


def rate(sess: ort.InferenceSession, batch: int, seconds: float) -> tuple[float, float]:
    """frames/s and ms per call at this batch, inputs and outputs bound on the GPU."""
    h, w, c, mh, mw = shapes(sess)
    rng = np.random.default_rng(0)
    feeds = {"frame": rng.random((batch, 3, h, w), dtype=np.float32),
             "prev_frame": rng.random((batch, 3, h, w), dtype=np.float32),
             "state": np.zeros((batch, c, mh, mw), np.float32)}
    binding = sess.io_binding()
    for name, value in feeds.items():
        binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(value, DEVICE, 0))
    for name in ("saliency", "state_out"):
        binding.bind_output(name, DEVICE)
    for _ in range(10):  # warm-up: cuDNN algorithm search, allocations
        sess.run_with_iobinding(binding)
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        sess.run_with_iobinding(binding)
        binding.synchronize_outputs()
        calls += 1
    elapsed = time.perf_counter() - start
    return calls * batch / elapsed, elapsed / calls * 1000


def fp16_cc(fp32: ort.InferenceSession, fp16: ort.InferenceSession, frames: int = 16) -> float:
    h, w, c, mh, mw = shapes(fp32)
    rng = np.random.default_rng(1)
    x = rng.random((frames, 3, h, w), dtype=np.float32)
    feeds = {"frame": x, "prev_frame": x, "state": np.zeros((frames, c, mh, mw), np.float32)}
    a = fp32.run(["saliency"], feeds)[0].reshape(frames, -1)
    b = fp16.run(["saliency"], feeds)[0].reshape(frames, -1)
    return float(min(np.corrcoef(a[k], b[k])[0, 1] for k in range(frames)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", type=pathlib.Path, required=True)
    ap.add_argument("--batches", default="1,16,64")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--json", type=pathlib.Path, default=None)
    ap.add_argument("--cpu", action="store_true", help="smoke run with the CPU provider (no GPU figures)")
    args = ap.parse_args()
    global DEVICE
    DEVICE = "cpu" if args.cpu else "cuda"
    batches = [int(b) for b in args.batches.split(",")]
    results = {"onnxruntime": ort.__version__, "device": DEVICE, "cases": [], "fp16_cc": {}}
    for path in sorted(args.models.glob("salcrop-*x*.onnx")):
        whole = re.fullmatch(r"salcrop-(\d+x\d+)(-fp16)?\.onnx", path.name)  # not the .encoder/.head splits
        if not whole:
            continue
        size, precision = whole.group(1), "fp16" if whole.group(2) else "fp32"
        sess = session(path)
        for batch in batches:
            fps, ms = rate(sess, batch, args.seconds)
            results["cases"].append({"input": size, "precision": precision, "batch": batch, "frames_per_s": fps,
                                     "ms_per_call": ms})
            print(f"{size:>8} {precision} batch {batch:3d}: {fps:10.0f} frames/s ({ms:.3f} ms per call)", flush=True)
        if precision == "fp16":
            cc = fp16_cc(session(path.with_name(f"salcrop-{size}.onnx")), sess)
            results["fp16_cc"][size] = cc
            print(f"{size:>8} fp16 vs fp32: min CC {cc:.4f}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
