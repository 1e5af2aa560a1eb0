#!/usr/bin/env python3
"""What following the speaker costs (issue 25, stop 31), side by side in one run: the plain crop, salcrop with
speakers=off, and speakers=auto (with the clip's sound as the filter's second input) of this build and, with --old,
of another build (e.g. main's). Rounds alternate the variants (A B C D A B C D ...) so that the shared machine's
load drifts hit all of them; medians of wall time, CPU time (user + system of the ffmpeg process and its threads)
and peak RSS (os.wait4). Output: libx264 veryfast with the audio copied, as BENCHMARKS.md's issue 25 section.

    python benchmarks/speakers_cost.py --old /work/main/build/bin/ffmpeg --repeats 3 \
        ../shared/data/speakers/msdwild-00115/00115.mp4 ../shared/data/speakers/unlabeled/interview.mp4
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from pathlib import Path


def probe(ffprobe: Path, clip: Path) -> tuple[int, int, int, float]:
    out = subprocess.run([str(ffprobe), "-v", "error", "-select_streams", "v:0", "-count_packets", "-show_entries",
                          "stream=width,height,nb_read_packets,avg_frame_rate", "-of", "csv=p=0", str(clip)],
                         capture_output=True, text=True, check=True).stdout.strip().split(",")
    num, den = out[2].split("/")
    return int(out[0]), int(out[1]), int(out[3]), float(num) / float(den)


def commands(ffmpeg: Path, clip: Path, height: int, out: Path, auto_only: bool = False) -> dict[str, list[str]]:
    head = [str(ffmpeg), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(clip)]
    tail = ["-c:v", "libx264", "-preset", "veryfast", "-c:a", "copy", "-f", "mp4", str(out)]
    crop = f"crop={int(round(height * 9 / 16 / 2)) * 2}:{height}"
    auto = head + ["-filter_complex", "[0:v][0:a]salcrop=ratio=9/16:audio=1:speakers=auto[v]", "-map", "[v]",
                   "-map", "0:a"] + tail
    if auto_only:
        return {"auto": auto}
    return {
        "crop": head + ["-vf", crop, "-map", "0:v", "-map", "0:a"] + tail,
        "off": head + ["-vf", "salcrop=ratio=9/16:speakers=off", "-map", "0:v", "-map", "0:a"] + tail,
        "auto": auto,
    }


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall s, CPU s, peak RSS MiB of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("clips", type=Path, nargs="+")
    ap.add_argument("--old", type=Path, help="ffmpeg of the build to compare against (its speakers=auto)")
    ap.add_argument("--new", type=Path, default=Path("build/bin/ffmpeg"))
    ap.add_argument("--sync", action="store_true", help="also this build with SALCROP_FACES_SYNC=1 (faces in push)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path("/tmp/salcrop_speakers_cost.mp4"))
    args = ap.parse_args()
    base_env = {k: v for k, v in os.environ.items() if k != "SALCROP_FACES_SYNC"}
    for clip in args.clips:
        w, h, frames, fps = probe(args.new.with_name("ffprobe"), clip)
        variants: dict[str, tuple[list[str], dict[str, str]]] = {}
        for name, cmd in commands(args.new, clip, h, args.out).items():
            variants[name if name != "auto" else "auto (this build)"] = (cmd, base_env)
        if args.sync:
            variants["auto, faces in push"] = (commands(args.new, clip, h, args.out, True)["auto"],
                                               dict(base_env, SALCROP_FACES_SYNC="1"))
        if args.old:
            variants["auto (old build)"] = (commands(args.old, clip, h, args.out, True)["auto"], base_env)
        load = os.getloadavg()
        res: dict[str, list[tuple[float, float, float]]] = {k: [] for k in variants}
        for _ in range(args.repeats):
            for name, (cmd, env) in variants.items():
                res[name].append(timed(cmd, env))
        med = {k: tuple(statistics.median(r[i] for r in v) for i in range(3)) for k, v in res.items()}
        print(f"\n{clip.name}: {w}x{h}, {frames} frames at {fps:.3g} fps, {args.repeats} rounds; load average "
              f"{' '.join(f'{x:.1f}' for x in load)} -> {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print("| variant | wall s (median; runs) | wall / crop | CPU s | CPU / crop | CPU ms per frame over off "
              "| peak RSS MiB |")
        print("|---|---|---:|---:|---:|---:|---:|")
        crop, off = med["crop"], med["off"]
        for name, (wall, cpu, rss) in med.items():
            runs = ", ".join(f"{r[0]:.2f}" for r in res[name])
            over = f"{(cpu - off[1]) / frames * 1000:.2f}" if name.startswith("auto") else ""
            print(f"| {name} | {wall:.2f} ({runs}) | {wall / crop[0]:.2f} | {cpu:.2f} | {cpu / crop[1]:.2f} | "
                  f"{over} | {rss:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
