#!/usr/bin/env python3
"""How fast `salcrop review --speakers auto` answers a pin or an ignore of a face (issue 25 item 5).

On a real two-person conversation with sound (``../shared/data/speakers/msdwild-00115/00115.mp4``: 20 s, 500
frames, one shot), analysed once with faces and the input's audio, this times, for each face track and each of
pin / ignore / back to auto (every request a new edit, so nothing comes from the memo):
- the re-plan in process (``Planner.plan``: the core's ``plan_path`` with the shot's face tracks);
- the same edit over HTTP on a running ``salcrop review --speakers auto`` (PUT .../edits: what the page waits for
  after a click on *pin*, JSON both ways included);
and says whom the re-planned path follows.

    python benchmarks/review_people.py [--clip PATH] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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
CLIP = REPO.parent / "shared" / "data" / "speakers" / "msdwild-00115" / "00115.mp4"


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} (max {max(values) * 1000:.0f})"


def edits_for(face: int, how: str) -> dict:
    return {"keyframes": [], "modes": {}, "subjects": [], "pinned": [face] if how == "pin" else [],
            "ignored": [face] if how == "ignore" else []}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clip", type=Path, default=CLIP)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ratio", default="9:16")
    args = ap.parse_args()
    from salcrop_filter.review.analysis import AnalysisOptions, AnalysisProgress, load_or_analyse
    from salcrop_filter.review.planning import Edits, Planner

    cache = tempfile.mkdtemp(prefix="salcrop-people-")
    os.environ["SALCROP_CACHE"] = cache
    print(f"# {platform.processor() or platform.machine()}, load {os.getloadavg()[0]:.1f}", flush=True)
    options = AnalysisOptions(speakers="auto")
    t0 = time.perf_counter()
    a = load_or_analyse(args.clip, options, AnalysisProgress())
    print(f"analysis with faces and sound: {time.perf_counter() - t0:.1f} s, {a.frames} frames", flush=True)
    t0 = time.perf_counter()
    load_or_analyse(args.clip, options, AnalysisProgress())
    print(f"cached analysis loaded: {time.perf_counter() - t0:.2f} s")
    planner = Planner(a)
    t0 = time.perf_counter()
    auto = planner.plan(args.ratio)
    print(f"first plan: {(time.perf_counter() - t0) * 1000:.0f} ms; followed {followed(auto.speaker)}")
    faces = [t.id for t in planner.faces or []]
    local: dict[str, list[float]] = {"pin": [], "ignore": []}
    for r in range(args.rounds):
        for face in faces:
            for how in ("pin", "ignore"):
                planner._memo.clear()  # every edit planned afresh, as a new one would be
                e = Edits.from_dict(edits_for(face, how), a)
                t0 = time.perf_counter()
                plan = planner.plan(args.ratio, e)
                local[how].append(time.perf_counter() - t0)
                if r == 0:
                    print(f"  {how} face {face}: followed {followed(plan.speaker)}")
    for how, v in local.items():
        print(f"in process, {how}: {ms(v)} ms over {len(v)}")
    # The baseline in the same run: the clip analysed without faces, a keyframe dropped on a frame (issue 19/26's
    # edit: re-planned from the chunk it touches).
    plain = load_or_analyse(args.clip, AnalysisOptions(), AnalysisProgress())
    base_planner = Planner(plain)
    base_planner.plan(args.ratio)
    keyed = []
    for r in range(args.rounds):
        for frame in (60, 250, 440):
            e = Edits.checked([(frame + r, 640.0, 360.0)], [], plain)
            t0 = time.perf_counter()
            base_planner.plan(args.ratio, e)
            keyed.append(time.perf_counter() - t0)
    print(f"baseline, no faces, a keyframe at frames 60/250/440: {ms(keyed)} ms over {len(keyed)}")

    # Over HTTP: a real server, the page's PUT.
    proc = subprocess.Popen([sys.executable, "-m", "salcrop_filter", "review", str(args.clip), "--speakers", "auto",
                             "--ratio", args.ratio, "--no-browser", "-o", cache],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert proc.stdout is not None
        url = re.search(r"(http://\S+/)", proc.stdout.readline()).group(1)  # type: ignore[union-attr]

        def call(method: str, path: str, body: dict | None = None) -> dict:
            data = json.dumps(body).encode() if body is not None else None
            req = urllib.request.Request(url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"} if data else {})
            with urllib.request.urlopen(req, timeout=120) as resp:
                return json.loads(resp.read())

        while call("GET", "api/videos/0/analysis")["state"] != "ready":
            time.sleep(0.2)
        version = call("GET", f"api/videos/0/plan?ratio={args.ratio}")["version"]
        # Each (face, pin|ignore) once: the server remembers the plans it made (a second time is a memo hit).
        # auto: back to the automatic plan, which the memo answers.
        http: dict[str, list[float]] = {"pin": [], "ignore": [], "auto (memo)": []}
        core: dict[str, list[float]] = {"pin": [], "ignore": []}
        for face in faces:
            for how in ("pin", "ignore", "auto"):
                t0 = time.perf_counter()
                plan = call("PUT", f"api/videos/0/edits?ratio={args.ratio}",
                            {"version": version, **edits_for(face, how)})
                http["auto (memo)" if how == "auto" else how].append(time.perf_counter() - t0)
                if how != "auto":
                    core[how].append(plan["planned_ms"] / 1000)
                version = plan["version"]
        for how, v in http.items():
            print(f"over HTTP, {how}: {ms(v)} ms over {len(v)}"
                  + (f"; of which the core {ms(core[how])} ms" if how in core else ""))
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    print(f"# load {os.getloadavg()[0]:.1f}")
    return 0


def followed(speaker) -> str:
    ids, counts = __import__("numpy").unique(speaker, return_counts=True)
    return ", ".join(f"{'nobody' if i < 0 else f'face {i}'} {c}" for i, c in zip(ids, counts))


if __name__ == "__main__":
    sys.exit(main())
