"""The model sizes alone on the CPU: ms/frame of the small 8-bit model (the CPU default), the small float model
and the large float model (CUDA's default; ``model=`` on the CPU), and the video teacher (``model=teacher``), at 1
thread, rounds alternating between them.

``python benchmarks/model_sizes.py [--rounds 3] [--frames 100] [--out FILE]``: frames of a real clip, resized
outside the timing to each model's own input size (from its metadata), through ``_core.SaliencyRunner.predict``
(the core's own inference path, as in bench.py's "Model alone"). Each round times every model once (best of
``--repeats`` passes); the table gives the fastest and the median round, since on a shared machine only the
fastest says what the model costs and the median says how much the load moved it.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import REPO, decode_yuv, load_line, machine_line, model_fps  # noqa: E402

MODELS = ("salcrop-int8.onnx", "salcrop.onnx", "salcrop-large.onnx", "salcrop-teacher.onnx")


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models-dir", type=Path, default=REPO / "models")
    ap.add_argument("--clip", type=Path, default=REPO.parent / "shared" / "videos" / "testvideo.mp4")
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=2, help="timed passes per model per round (best kept)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="write the markdown table here too")
    args = ap.parse_args(argv)
    import cv2

    planes, _, width, _ = decode_yuv(args.clip, args.frames)
    rgb = np.stack([cv2.cvtColor(np.concatenate([y, u.reshape(-1, width), v.reshape(-1, width)]),
                                 cv2.COLOR_YUV2RGB_I420) for y, u, v in planes])
    paths = [args.models_dir / m for m in MODELS if (args.models_dir / m).is_file()]
    lines = [f"- Date: {_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
             f"- Machine: {machine_line()}; no GPU",
             f"- Command: `python benchmarks/model_sizes.py {' '.join(argv if argv is not None else sys.argv[1:])}`",
             f"- {len(rgb)} frames of `{args.clip.name}`, {args.threads} thread(s), {args.rounds} alternating rounds",
             f"- At start: {load_line()}"]
    ms: dict[Path, list[float]] = {p: [] for p in paths}
    sizes: dict[Path, tuple[int, int]] = {}
    for _ in range(args.rounds):
        for p in paths:
            fps, provider, hw = model_fps(rgb, args.threads, str(p), args.repeats)
            ms[p].append(1000 / fps)
            sizes[p] = hw
    lines.append(f"- At the end: {load_line()}")
    lines += ["", "| model | input HxW | ms/frame, fastest round | median round | vs the 8-bit default |",
              "|---|---|---:|---:|---:|"]
    base = min(ms[paths[0]]) if paths else 1.0
    for p in paths:
        h, w = sizes[p]
        lines.append(f"| `{p.name}` | {h}x{w} | {min(ms[p]):.2f} | {statistics.median(ms[p]):.2f} | "
                     f"{min(ms[p]) / base:.1f}x |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
