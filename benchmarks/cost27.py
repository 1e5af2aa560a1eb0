#!/usr/bin/env python3
"""salcrop's own cost against a plain crop (issue 27), builds side by side in one run: each round runs every
variant once (A B C A B C ...), so that the shared machine's load drifts hit all of them; medians of wall time,
CPU time and peak RSS (os.wait4 of the ffmpeg process).

    python benchmarks/cost27.py --old /tmp/perf-old/build/bin/ffmpeg --clip ../shared/videos/testvideo.mp4 \
        --output x264 --repeats 5

--output x264: libx264 veryfast into an MP4 (the issue's wall-time ratio); null: `-f null` (the CPU salcrop adds per
frame over decode + crop). --loop N: the clip N times over, one file (stream copy), so that start-up and the
lookahead's first and last seconds weigh less (issue 27's "looped 4x"). Without ../shared, --clip out/sample.mp4
(the demo's clip) or any other. --first-frame: the time from the start of ffmpeg to the first output frame (framecrc to
a pipe, flushed per frame), instead.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path


def command(ffmpeg: Path, clip: Path, vf: str, output: str, out: Path) -> list[str]:
    cmd = [str(ffmpeg), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(clip), "-vf", vf, "-an"]
    if output == "x264":
        return cmd + ["-c:v", "libx264", "-preset", "veryfast", "-f", "mp4", str(out)]
    if output == "first":
        return cmd + ["-flush_packets", "1", "-f", "framecrc", "pipe:1"]
    return cmd + ["-f", "null", "-"]


def timed(cmd: list[str]) -> tuple[float, float, float]:
    """Wall s, CPU s, peak RSS MiB of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def first_frame(cmd: list[str]) -> float:
    """Seconds from the start to the first frame's line of framecrc."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    for line in proc.stdout:
        if not line.startswith(b"#"):
            break
    t = time.perf_counter() - start
    proc.kill()
    proc.wait()
    return t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--old", type=Path, help="ffmpeg of the build to compare against (e.g. the commit before)")
    ap.add_argument("--new", type=Path, default=Path("build/bin/ffmpeg"))
    ap.add_argument("--clip", type=Path, default=Path("../shared/videos/testvideo.mp4"))
    ap.add_argument("--output", choices=("x264", "null"), default="x264")
    ap.add_argument("--first-frame", action="store_true")
    ap.add_argument("--salcrop", default="salcrop=ratio=9/16", help="the filter as given to -vf")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path("/tmp/salcrop_cost27.mp4"))
    ap.add_argument("--loop", type=int, default=1, help="the clip this many times over, one file")
    args = ap.parse_args()
    if args.loop > 1:
        with tempfile.TemporaryDirectory() as d:
            looped = Path(d) / f"{args.clip.stem}_x{args.loop}.mp4"
            subprocess.run([str(args.new), "-nostdin", "-v", "error", "-y", "-stream_loop", str(args.loop - 1), "-i",
                            str(args.clip), "-an", "-c", "copy", str(looped)], check=True)
            args.clip = looped
            return run(args)
    return run(args)


def run(args: argparse.Namespace) -> int:
    probe = subprocess.run([str(args.new.with_name("ffprobe")), "-v", "error", "-select_streams", "v:0",
                            "-count_packets", "-show_entries", "stream=width,height,nb_read_packets", "-of", "csv=p=0",
                            str(args.clip)], capture_output=True, text=True, check=True).stdout.strip().split(",")
    height, frames = int(probe[1]), int(probe[2])
    crop = f"crop={int(round(height * 9 / 16 / 2)) * 2}:{height}"
    output = "first" if args.first_frame else args.output
    variants = {}
    if args.old:
        variants["old salcrop"] = command(args.old, args.clip, args.salcrop, output, args.out)
    variants["new salcrop"] = command(args.new, args.clip, args.salcrop, output, args.out)
    variants["crop"] = command(args.new, args.clip, crop, output, args.out)
    load = os.getloadavg()
    if args.first_frame:
        ttf: dict[str, list[float]] = {k: [] for k in variants}
        for _ in range(args.repeats):
            for name, cmd in variants.items():
                ttf[name].append(first_frame(cmd))
        print(f"{args.clip.name}: time to the first output frame, {args.repeats} rounds; load average {load} -> "
              f"{os.getloadavg()}")
        for name, t in ttf.items():
            print(f"| {name} | {statistics.median(t):.2f} s | {min(t):.2f} - {max(t):.2f} |")
        print("runs in order:", {k: [round(x, 2) for x in v] for k, v in ttf.items()})
        return 0
    res: dict[str, list[tuple[float, float, float]]] = {k: [] for k in variants}
    for _ in range(args.repeats):
        for name, cmd in variants.items():
            res[name].append(timed(cmd))
    med = {k: tuple(statistics.median(r[i] for r in v) for i in range(3)) for k, v in res.items()}
    print(f"{args.clip.name}, {frames} frames, output {args.output}, {args.repeats} rounds; load average {load} -> "
          f"{os.getloadavg()}")
    # Ratios per round (each against the crop of its own round: the load drifts between rounds), their median
    # and minimum; CPU added per frame likewise from each round's pair.
    print("| variant | wall s median (min-max) | wall / crop median (min-max) | CPU s median (min-max) "
          "| CPU ms added per frame median (min) | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    crop = res["crop"]
    for name, runs in res.items():
        walls = [r[0] for r in runs]
        cpus = [r[1] for r in runs]
        ratios = [r[0] / c[0] for r, c in zip(runs, crop)]
        added = [(r[1] - c[1]) / frames * 1000 for r, c in zip(runs, crop)]
        print(f"| {name} | {med[name][0]:.2f} ({min(walls):.2f}-{max(walls):.2f}) | {statistics.median(ratios):.2f} "
              f"({min(ratios):.2f}-{max(ratios):.2f}) | {med[name][1]:.2f} ({min(cpus):.2f}-{max(cpus):.2f}) | "
              f"{statistics.median(added):.2f} ({min(added):.2f}) | {med[name][2]:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
