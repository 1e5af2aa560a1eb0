#!/usr/bin/env python3
"""The planner alone: milliseconds per frame of path for `_core.plan_path` on the shipped model's maps of a real
clip (decode, model and shot detection done first, not timed), at the default lookahead (chunks as the streaming
engine plans) and with each shot planned at once; best of three.

    python benchmarks/plan_time.py ../shared/videos/testvideo.mp4
"""

from __future__ import annotations

import sys
import time

import av
import numpy as np

from salcrop_filter import _core


def main() -> int:
    clip = sys.argv[1]
    with av.open(clip) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate)
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    height, width = frames[0].shape[:2]
    runner = _core.SaliencyRunner()
    maps = np.concatenate([runner.predict(np.stack(frames[i:i + 60]), reset=i == 0)
                           for i in range(0, len(frames), 60)])
    detector = _core.ShotDetector(fps=fps)
    for frame in frames:
        detector.push_rgb(frame)
    cuts = detector.flush()
    for label, kwargs in (("default lookahead", {}), ("whole shots", {"lookahead": 0.0})):
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            _core.plan_path(maps, cuts, width, height, fps, **kwargs)
            best = min(best, time.perf_counter() - start)
        print(f"{clip}: {len(frames)} frames {width}x{height} at {fps:g} fps, {label}: "
              f"{1000 * best / len(frames):.3f} ms per frame of path")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
