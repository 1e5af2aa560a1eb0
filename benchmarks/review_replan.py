#!/usr/bin/env python3
"""How fast `salcrop review` answers an edit: the re-plan of a 1-minute clip from its cached analysis.

Makes a 60 s clip from a real one (``ffmpeg -stream_loop``, stream copy), analyses it once (timed: the network,
the only time it runs), then times, for one ratio:
- the first plan of the ratio (every shot, nothing remembered yet);
- a re-plan after a keyframe is dropped on a random frame (the edit's shot; ``Planner.plan``, in process);
- the same edit through HTTP on a running ``salcrop review`` (PUT .../edits: what the page waits for, JSON both
  ways included);
twice: with the shots the detector finds, and with shot detection off (``--scene-threshold 0``: the whole minute
one shot, the worst case, since an edit re-plans its whole shot).

    python benchmarks/review_replan.py [--clip ../shared/videos/testvideo.mp4] [--edits 15]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def make_minute(src: Path, dst: Path) -> None:
    ffmpeg = REPO / "build" / "bin" / "ffmpeg"
    subprocess.run([str(ffmpeg), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-stream_loop", "-1",
                    "-i", str(src), "-t", "60", "-map", "0:v:0", "-c", "copy", str(dst)], check=True)


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} (max {max(values) * 1000:.0f})"


def in_process(clip: Path, scene_threshold: float | None, ratio: str, edits: int, rng: random.Random) -> dict:
    from salcrop_filter.review.analysis import AnalysisOptions, AnalysisProgress, load_or_analyse
    from salcrop_filter.review.planning import Edits, Planner

    options = AnalysisOptions(scene_threshold=scene_threshold)
    t0 = time.perf_counter()
    a = load_or_analyse(clip, options, AnalysisProgress())
    analysis_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    load_or_analyse(clip, options, AnalysisProgress())
    cached_s = time.perf_counter() - t0
    planner = Planner(a)
    t0 = time.perf_counter()
    planner.plan(ratio)
    first_s = time.perf_counter() - t0
    times = []
    for _ in range(edits):
        f = rng.randrange(a.frames)
        keys = ((f, rng.uniform(0.2, 0.8) * a.width, a.height / 2),)
        t0 = time.perf_counter()
        planner.plan(ratio, Edits(keys))
        times.append(time.perf_counter() - t0)
    return {"frames": a.frames, "shots": len(a.shot_ranges()), "analysis_s": analysis_s, "cached_s": cached_s,
            "first_s": first_s, "edit": times}


def over_http(clip: Path, scene_threshold: float | None, ratio: str, edits: int, rng: random.Random,
              env: dict[str, str]) -> list[float]:
    args = [sys.executable, "-m", "salcrop_filter", "review", str(clip), "--ratio", ratio, "--no-browser"]
    if scene_threshold is not None:
        args += ["--scene-threshold", str(scene_threshold)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        url = re.search(r"http://\S+", proc.stdout.readline()).group(0)  # type: ignore[union-attr]

        def call(method: str, path: str, body: dict | None = None) -> dict:
            data = None if body is None else json.dumps(body).encode()
            req = urllib.request.Request(url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=120) as r:
                return json.loads(r.read())

        while call("GET", "api/videos/0/analysis")["state"] != "ready":
            time.sleep(0.2)
        info = call("GET", "api/videos/0/analysis")
        plan = call("GET", f"api/videos/0/plan?ratio={ratio}")
        times = []
        for _ in range(edits):
            f = rng.randrange(info["frames"])
            body = {"version": plan["version"], "keyframes": [{"frame": f, "x": rng.uniform(0.2, 0.8) * info["width"],
                                                               "y": info["height"] / 2}], "modes": {}}
            t0 = time.perf_counter()
            plan = call("PUT", f"api/videos/0/edits?ratio={ratio}", body)
            times.append(time.perf_counter() - t0)
        return times
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clip", default=str(REPO.parent / "shared" / "videos" / "testvideo.mp4"))
    p.add_argument("--ratio", default="9:16")
    p.add_argument("--edits", type=int, default=15)
    args = p.parse_args()
    rng = random.Random(19)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SALCROP_CACHE": str(Path(tmp) / "cache")}
        os.environ["SALCROP_CACHE"] = env["SALCROP_CACHE"]  # the in-process analysis caches there too
        clip = Path(tmp) / "minute.mp4"
        make_minute(Path(args.clip), clip)
        print(f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: {platform.processor() or platform.machine()}, "
              f"{os.cpu_count()} logical cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"- Command: `python benchmarks/review_replan.py --edits {args.edits}`; clip: `{args.clip}` looped to 60 s "
              f"(stream copy), ratio {args.ratio}; times are median (max) over {args.edits} edits on random frames\n")
        print("| shots | frames | analysis, once (s) | cached analysis loaded (s) | first plan of the ratio (ms) "
              "| re-plan after a keyframe, in process (ms) | the same edit over HTTP, PUT to answer (ms) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for label, threshold in (("as detected", None), ("detection off: one 60 s shot", 0.0)):
            r = in_process(clip, threshold, args.ratio, args.edits, rng)
            http = over_http(clip, threshold, args.ratio, args.edits, rng, env)
            print(f"| {label} ({r['shots']}) | {r['frames']} | {r['analysis_s']:.1f} | {r['cached_s']:.2f} | "
                  f"{r['first_s'] * 1000:.0f} | {ms(r['edit'])} | {ms(http)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
