#!/usr/bin/env python3
"""Two salcrop builds side by side, end to end (decode + filter + libx264 veryfast), with a plain crop beside them:
A B C A B C ... alternating, so that load drifts hit all three; medians of wall and CPU time (os.wait4).

Made to compare a change against the build it replaces (a checkout of the earlier commit, set up beside this one)::

    python benchmarks/planner_ab.py --old ../other-checkout/build/bin/ffmpeg --new build/bin/ffmpeg \
        --clip ../shared/videos/testvideo.mp4 --repeats 6
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from pathlib import Path


def encode_cmd(ffmpeg: Path, clip: Path, vf: str, out: Path) -> list[str]:
    """The bench's command (benchmarks/bench.py): only the filter differs."""
    return [str(ffmpeg), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(clip), "-vf", vf,
            "-c:v", "libx264", "-preset", "veryfast", "-an", "-f", "mp4", str(out)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--old", type=Path, required=True, help="ffmpeg with the salcrop build to compare against")
    ap.add_argument("--new", type=Path, default=Path("build/bin/ffmpeg"))
    ap.add_argument("--clip", type=Path, default=Path("../shared/videos/testvideo.mp4"))
    ap.add_argument("--repeats", type=int, default=6)
    ap.add_argument("--out", type=Path, default=Path("/tmp/salcrop_planner_ab.mp4"))
    args = ap.parse_args()
    probe = subprocess.run([str(args.new.with_name("ffprobe")), "-v", "error", "-select_streams", "v:0",
                            "-show_entries", "stream=width,height,nb_frames", "-of", "csv=p=0", str(args.clip)],
                           capture_output=True, text=True, check=True).stdout.strip().split(",")
    height, frames = int(probe[1]), int(probe[2])
    window_w = int(round(height * 9 / 16 / 2)) * 2
    variants = {"old salcrop": encode_cmd(args.old, args.clip, "salcrop=ratio=9/16", args.out),
                "new salcrop": encode_cmd(args.new, args.clip, "salcrop=ratio=9/16", args.out),
                "crop": encode_cmd(args.new, args.clip, f"crop={window_w}:{height}", args.out)}
    wall: dict[str, list[float]] = {k: [] for k in variants}
    cpu: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(args.repeats):
        for name, cmd in variants.items():
            start = time.perf_counter()
            proc = subprocess.Popen(cmd)
            _, status, usage = os.wait4(proc.pid, 0)
            if status != 0:
                raise SystemExit(f"{name} failed: {' '.join(cmd)}")
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(usage.ru_utime + usage.ru_stime)
    crop = statistics.median(wall["crop"])
    print(f"{args.clip.name}, {frames} frames, {args.repeats} rounds; load average {os.getloadavg()}")
    for name in variants:
        m = statistics.median(wall[name])
        print(f"| {name} | {m:.2f} s | {frames / m:.1f} | {statistics.median(cpu[name]):.2f} s | {m / crop:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
