#!/usr/bin/env python3
"""Several ratios from one pass against one pass per ratio, end to end through FFmpeg, side by side in one run.

Variants, run in rounds (A B C D E, A B C D E, ...) so that machine load drifts hit all of them alike:

- A: one pass, three ratios: ``salcrop=ratios=9/16|1|4/5[a][b][c]``, three libx264 outputs;
- B: three separate runs, ``-vf salcrop=ratio=R`` each (the time is the sum of the three);
- C: one single-ratio run, ``-vf salcrop=ratio=9/16``;
- D: what A costs without salcrop: ``split=3`` and three ``crop=W:H`` of the same sizes, three libx264 outputs
  (decode + encode of the three outputs: the encoding share of A);
- E: what C costs without salcrop: one ``crop=W:H`` (decode + encode of one output);
- with ``--cli``, the same through the Python command (PyAV, libx264 at its default preset): F ``salcrop IN
  --ratio 9:16,1:1,4:5 -o DIR/`` against G ``salcrop IN --ratio 9:16 -o OUT.mp4``.

The headline is median(A) / median(C) (target <= 1.4) and median(A) / median(B). Not a test: it reports.

Usage::

    python benchmarks/bench_ratios.py [--clip ../shared/videos/testvideo.mp4] [--repeats 3]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench import RunResult, load_line, probe_size, run_timed  # benchmarks/bench.py, beside this file
from salcrop_filter.evaluation.crop import machine_line

REPO = Path(__file__).resolve().parent.parent
RATIOS = ("9/16", "1", "4/5")
ENCODE = ["-c:v", "libx264", "-preset", "veryfast", "-an"]


def base(ffmpeg: Path, clip: Path) -> list[str]:
    return [str(ffmpeg), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(clip)]


def one_pass(ffmpeg: Path, clip: Path, tmp: Path) -> list[str]:
    pads = "".join(f"[o{k}]" for k in range(len(RATIOS)))
    cmd = base(ffmpeg, clip) + ["-filter_complex", f"[0:v]salcrop=ratios={'|'.join(RATIOS)}{pads}"]
    for k in range(len(RATIOS)):
        cmd += ["-map", f"[o{k}]", *ENCODE, "-f", "mp4", str(tmp / f"a{k}.mp4")]
    return cmd


def single(ffmpeg: Path, clip: Path, tmp: Path, ratio: str, k: int) -> list[str]:
    return base(ffmpeg, clip) + ["-vf", f"salcrop=ratio={ratio}", *ENCODE, "-f", "mp4", str(tmp / f"b{k}.mp4")]


def crops(ffmpeg: Path, clip: Path, tmp: Path, sizes: list[tuple[int, int]], tag: str) -> list[str]:
    if len(sizes) == 1:
        w, h = sizes[0]
        return base(ffmpeg, clip) + ["-vf", f"crop={w}:{h}", *ENCODE, "-f", "mp4", str(tmp / f"{tag}0.mp4")]
    graph = f"[0:v]split={len(sizes)}" + "".join(f"[s{k}]" for k in range(len(sizes)))
    graph += "".join(f";[s{k}]crop={w}:{h}[o{k}]" for k, (w, h) in enumerate(sizes))
    cmd = base(ffmpeg, clip) + ["-filter_complex", graph]
    for k in range(len(sizes)):
        cmd += ["-map", f"[o{k}]", *ENCODE, "-f", "mp4", str(tmp / f"{tag}{k}.mp4")]
    return cmd


def row(name: str, walls: list[float], cpus: list[float], rss: list[int]) -> str:
    return (f"| {name} | {statistics.median(walls):.2f} | {min(walls):.2f} | {max(walls):.2f} | "
            f"{statistics.median(cpus):.2f} | {max(rss) / 1024:.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", type=Path, default=REPO.parent / "shared" / "videos" / "testvideo.mp4")
    ap.add_argument("--ffmpeg", type=Path, default=REPO / "build" / "bin" / "ffmpeg")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cli", action="store_true", help="also the Python command (F, G)")
    args = ap.parse_args()

    start_load = load_line()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        run_timed(one_pass(args.ffmpeg, args.clip, tmp))  # warm-up: page cache, model file, loader
        sizes = [probe_size(args.ffmpeg, tmp / f"a{k}.mp4") for k in range(len(RATIOS))]
        cmds = {
            "A": [one_pass(args.ffmpeg, args.clip, tmp)],
            "B": [single(args.ffmpeg, args.clip, tmp, r, k) for k, r in enumerate(RATIOS)],
            "C": [single(args.ffmpeg, args.clip, tmp, RATIOS[0], 0)],
            "D": [crops(args.ffmpeg, args.clip, tmp, sizes, "d")],
            "E": [crops(args.ffmpeg, args.clip, tmp, sizes[:1], "e")],
        }
        if args.cli:
            cli = [sys.executable, "-m", "salcrop_filter", str(args.clip), "-q", "--no-audio"]
            cmds["F"] = [cli + ["--ratio", "9:16,1:1,4:5", "-o", f"{tmp}/f/"]]
            cmds["G"] = [cli + ["--ratio", "9:16", "-o", str(tmp / "g.mp4")]]
        runs: dict[str, list[list[RunResult]]] = {k: [] for k in cmds}
        for _ in range(args.repeats):
            for key, cs in cmds.items():
                runs[key].append([run_timed(c) for c in cs])
    end_load = load_line()

    def walls(key: str) -> list[float]:
        return [sum(r.wall_s for r in rs) for rs in runs[key]]

    def cpus(key: str) -> list[float]:
        return [sum(r.cpu_s for r in rs) for rs in runs[key]]

    def rss(key: str) -> list[int]:
        return [max(r.max_rss_kib for r in rs) for rs in runs[key]]

    med = {k: statistics.median(walls(k)) for k in cmds}
    names = {
        "A": f"A one pass, ratios={'&#124;'.join(RATIOS)} (3 outputs)",  # a bare | would split the table cell
        "B": "B three separate runs, ratio=" + ", ".join(RATIOS) + " (sum)",
        "C": "C one single-ratio run, ratio=9/16",
        "D": "D no salcrop: split=3 + crop to the same 3 sizes (decode + 3 encodes)",
        "E": "E no salcrop: one crop to 9:16 (decode + 1 encode)",
        "F": "F Python CLI, --ratio 9:16,1:1,4:5 (one pass, 3 outputs)",
        "G": "G Python CLI, --ratio 9:16",
    }
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"- Date: {now}; {machine_line()}")
    print(f"- Command: `python benchmarks/bench_ratios.py --clip {os.path.relpath(args.clip, REPO)} "
          f"--repeats {args.repeats}{' --cli' if args.cli else ''}`")
    print(f"- Clip: `{os.path.relpath(args.clip, REPO)}`; outputs {', '.join(f'{w}x{h}' for w, h in sizes)}; "
          f"libx264 veryfast (F, G: default preset), no audio; {args.repeats} rounds {' '.join(cmds)} after one "
          f"untimed A")
    print(f"- Load: at start {start_load}, at end {end_load}")
    print()
    print("| variant | median wall s | min s | max s | median CPU s | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for key in cmds:
        print(row(names[key], walls(key), cpus(key), rss(key)))
    print()
    print(f"**One pass of three ratios / one single-ratio run: {med['A'] / med['C']:.2f}x** (target <= 1.4); "
          f"against three separate runs: {med['A'] / med['B']:.2f}x ({med['B'] / med['A']:.2f}x faster).")
    print(f"Encoding share: without salcrop, decoding and encoding the three outputs takes {med['D']:.2f} s "
          f"({med['D'] / med['A'] * 100:.0f}% of A), one output {med['E']:.2f} s; salcrop's own cost "
          f"(A - D) is {med['A'] - med['D']:.2f} s for three ratios against (C - E) {med['C'] - med['E']:.2f} s "
          f"for one. The floor for A is D / E = {med['D'] / med['E']:.2f}x one crop run.")
    if args.cli:
        print(f"Python command: one pass of three ratios / one ratio: {med['F'] / med['G']:.2f}x.")


if __name__ == "__main__":
    main()
