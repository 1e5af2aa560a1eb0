#!/usr/bin/env python3
"""Where speakers=auto's CPU goes, in process (issue 25, stop 31): a clip's first frames decoded once (yuv420p, and
its sound), then pushed through `_core.Engine` as speakers=off, speakers=auto without sound (the face detector and
the tracks), and speakers=auto with sound (also each face's crop, the voice-activity model and the mouth measure),
each with the face jobs on their worker and inside push (SALCROP_FACES_SYNC=1); CPU time of the whole process
(every thread) per frame, median of --repeats, rounds alternating.

    python benchmarks/faces_in_process.py ../shared/data/speakers/msdwild-00115/00115.mp4 --frames 200
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import av
import numpy as np

from salcrop_filter import _core


def decode(path: Path, frames: int) -> tuple[float, int, int, list, list]:
    video, audio = [], []
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        fps = float(vs.average_rate or 25)
        for packet in c.demux():
            for f in packet.decode():
                if isinstance(f, av.VideoFrame):
                    if len(video) < frames:
                        p = f.reformat(format="yuv420p").to_ndarray()
                        h = f.height
                        video.append((p[:h].copy(), p[h:h + h // 4].reshape(h // 2, -1).copy(),
                                      p[h + h // 4:].reshape(h // 2, -1).copy(), float(f.time)))
                elif f.time is not None and f.time < frames / fps + 1:
                    audio.append((f.to_ndarray(), f.format.name, f.sample_rate, float(f.time),
                                  len(f.layout.channels)))
            if len(video) >= frames and (not audio or audio[-1][3] > frames / fps + 0.5):
                break
    h, w = video[0][0].shape
    return fps, w, h, video, audio


def run(fps: float, w: int, h: int, video: list, audio: list, speakers: str, sound: bool, sync: bool) -> float:
    if sync:
        os.environ["SALCROP_FACES_SYNC"] = "1"
    else:
        os.environ.pop("SALCROP_FACES_SYNC", None)
    eng = _core.Engine(w, h, fps, ratio="9:16", speakers=speakers)
    if not sound:
        eng.audio_end()
    start = time.process_time()
    a = 0
    for y, u, v, t in video:
        while sound and a < len(audio) and audio[a][3] <= t + 1 / fps:
            data, fmt, rate, at, ch = audio[a]
            eng.push_audio(data, fmt, rate, at, channels=ch)
            a += 1
        eng.push_yuv420p(y, u, v, t)
        eng.pop()
    if sound:
        eng.audio_end()
    eng.flush()
    return time.process_time() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("clip", type=Path)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    fps, w, h, video, audio = decode(args.clip, args.frames)
    variants = {
        "speakers=off": ("off", False, False),
        "auto, no sound, worker": ("auto", False, False),
        "auto, no sound, in push": ("auto", False, True),
        "auto, sound, worker": ("auto", True, False),
        "auto, sound, in push": ("auto", True, True),
    }
    times: dict[str, list[float]] = {k: [] for k in variants}
    load = os.getloadavg()
    for _ in range(args.repeats):
        for name, (speakers, sound, sync) in variants.items():
            times[name].append(run(fps, w, h, video, audio, speakers, sound, sync))
    n = len(video)
    off = statistics.median(times["speakers=off"])
    print(f"{args.clip.name}: {n} frames {w}x{h} at {fps:g} fps, {args.repeats} rounds, load average "
          f"{load[0]:.1f} -> {os.getloadavg()[0]:.1f}")
    print("| variant | CPU s (median) | ms a frame | ms a frame over off |")
    print("|---|---:|---:|---:|")
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"| {name} | {m:.2f} | {m / n * 1000:.2f} | {(m - off) / n * 1000:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
