"""Who speaks on msdwild-00115 (../shared/data/speakers, 20 s, two women at a table, RTTM labels), scored by the
engine itself: the clip's frames (RGB) and sound through _core.Engine with speakers=auto, its face tracks and
per-frame speaking scores read back from the decisions (the face tracks' ids tied to the RTTM's by side: id 1 is
the woman on the left, id 0 the one on the right; SOURCES.md).

Reported: on frames where exactly one of them speaks, how often the speaker's score is the higher one (what the
speaker policy compares), each side's mean score when speaking and when the other speaks alone, per second, and
where the engine's camera followed whom.

    python benchmarks/speakers_msdwild.py [--clip .../00115.mp4]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import av
import numpy as np

from salcrop_filter import _core


def rttm(path: Path) -> dict[int, list[tuple[float, float]]]:
    spans: dict[int, list[tuple[float, float]]] = {}
    for line in path.read_text().splitlines():
        f = line.split()
        if f and f[0] == "SPEAKER":
            spans.setdefault(int(f[7]), []).append((float(f[3]), float(f[3]) + float(f[4])))
    return spans


def speaks(spans: list[tuple[float, float]], t: float) -> bool:
    return any(a <= t < b for a, b in spans)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", type=Path,
                    default=Path(__file__).resolve().parents[2] / "shared/data/speakers/msdwild-00115/00115.mp4")
    ap.add_argument("--ratio", default="9:16")
    args = ap.parse_args()
    labels = rttm(args.clip.with_suffix(".rttm"))
    decisions = []
    with av.open(str(args.clip)) as c:
        v = c.streams.video[0]
        engine = _core.Engine(v.codec_context.width, v.codec_context.height, float(v.average_rate),
                              ratio=args.ratio, device="cpu", speakers="auto")
        for f in c.decode(v, c.streams.audio[0]):
            if isinstance(f, av.AudioFrame):
                engine.push_audio(f.to_ndarray(), f.format.name, f.sample_rate, float(f.time),
                                  channels=len(f.layout.channels))
            else:
                engine.push_rgb(f.to_ndarray(format="rgb24"), float(f.time))
                decisions.extend(engine.pop())
        width = v.codec_context.width
    engine.audio_end()
    decisions.extend(engine.flush())
    t = np.array([d.t for d in decisions])
    # Per side: the largest face track on that half of the picture on each frame.
    score = {"left": np.full(len(t), -1.0), "right": np.full(len(t), -1.0)}
    track = {"left": np.full(len(t), -1), "right": np.full(len(t), -1)}
    for k, d in enumerate(decisions):
        best: dict[str, tuple] = {}
        for fid, x, y, w, h, s in d.faces:
            side = "left" if x + w / 2 < width / 2 else "right"
            if side not in best or w * h > best[side][1]:
                best[side] = (fid, w * h, s)
        for side, (fid, _, s) in best.items():
            score[side][k], track[side][k] = s, fid
    truth = {"left": np.array([speaks(labels.get(1, []), x) for x in t]),
             "right": np.array([speaks(labels.get(0, []), x) for x in t])}
    one = truth["left"] ^ truth["right"]
    scored = (score["left"] >= 0) & (score["right"] >= 0)
    sel = one & scored
    higher = np.where(truth["left"], score["left"] > score["right"], score["right"] > score["left"])
    print(f"{args.clip.name}: {len(t)} frames; scored on both faces {scored.sum()}")
    print(f"frames with exactly one speaker (scored): {sel.sum()}; the speaker scores higher on {higher[sel].mean():.3f}")
    for side, other in (("left", "right"), ("right", "left")):
        s = score[side]
        print(f"{side}: mean score when speaking {s[scored & truth[side]].mean():.2f}, "
              f"when the other speaks alone {s[scored & truth[other] & ~truth[side]].mean():.2f}")
    for a in range(0, int(t[-1]) + 1, 2):
        m = scored & (t >= a) & (t < a + 2)
        print(f"  {a:2d}-{a + 2:2d} s: left {score['left'][m].mean():.2f} (speaks {truth['left'][m].mean():.2f}), "
              f"right {score['right'][m].mean():.2f} (speaks {truth['right'][m].mean():.2f})")
    side_of = {}
    for side in track:
        for fid in set(track[side][track[side] >= 0].tolist()):
            side_of[fid] = side
    turns, prev = [], None
    for d in decisions:
        if d.speaker != prev:
            turns.append(f"{d.t:.2f} s -> {side_of.get(d.speaker, 'none') if d.speaker is not None else 'none'}")
            prev = d.speaker
    print("followed: " + ", ".join(turns))


if __name__ == "__main__":
    main()
