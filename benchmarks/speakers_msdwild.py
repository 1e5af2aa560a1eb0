"""Who speaks on msdwild-00115 (../shared/data/speakers, 20 s, two women at a table, RTTM labels), scored by the
engine itself: the clip's frames (RGB) and sound through _core.Engine with speakers=auto, its face tracks and
per-frame speaking scores read back from the decisions (the face tracks' ids tied to the RTTM's by side: id 1 is
the woman on the left, id 0 the one on the right; SOURCES.md).

Reported: on frames where exactly one of them speaks, how often the speaker's score is the higher one (what the
speaker policy compares), each side's mean score when speaking and when the other speaks alone, per second, and
where the engine's camera followed whom.

    python benchmarks/speakers_msdwild.py [--clip .../00115.mp4]
    python benchmarks/speakers_msdwild.py --clip 00001.mp4 --boxes 00001.csv

--boxes: the data set's own face labels (MSDWild's DarkLabel CSV, face ids = RTTM ids), for any number of people:
each engine face is tied to the labelled face it overlaps most (IoU >= 0.3) on that frame, and on frames where
exactly one person speaks and every labelled face is scored, the speaker's score is compared with the others'.
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


def by_labels(decisions: list, t: np.ndarray, labels: dict[int, list[tuple[float, float]]], csv: Path) -> None:
    from salcrop_filter.evaluation.speakers import labelled_faces
    from salcrop_filter.evaluation.subjects import iou

    boxes, col = labelled_faces(csv)
    ids = [int(i) for i in col]
    score = {i: np.full(len(t), -1.0) for i in ids}
    for k, d in enumerate(decisions):
        if k >= len(boxes):
            break
        for _, x, y, w, h, s in d.faces:
            best, best_iou = None, 0.3
            for i in ids:
                b = boxes[k, col[str(i)]]
                if np.isfinite(b).all() and iou((x, y, w, h), tuple(b)) >= best_iou:
                    best, best_iou = i, iou((x, y, w, h), tuple(b))
            if best is not None:
                score[best][k] = max(score[best][k], s)
    truth = {i: np.array([speaks(labels.get(i, []), x) for x in t]) for i in ids}
    count = sum(truth[i].astype(int) for i in ids)
    on_screen = {i: np.isfinite(boxes[:len(t), col[str(i)], 0]) for i in ids}
    scored = np.all([score[i] >= 0 for i in ids if on_screen[i].any()], axis=0)
    sel = (count == 1) & scored
    speaker = np.array([next((i for i in ids if truth[i][k]), -1) for k in range(len(t))])
    higher = np.array([all(score[speaker[k]][k] > score[j][k] for j in ids if j != speaker[k]) if sel[k] else False
                       for k in range(len(t))])
    print(f"{len(t)} frames; every labelled face scored on {scored.sum()}; exactly one speaker and scored: {sel.sum()}")
    print(f"the speaker scores higher than every other face on {higher[sel].mean():.3f} of them")
    def mean(values: np.ndarray) -> str:
        return f"{values.mean():.2f}" if values.size else "-"

    for i in ids:
        s = score[i]
        alone_other = scored & (count == 1) & ~truth[i]
        print(f"id {i}: frames speaking alone {int((sel & truth[i]).sum())}, mean score when speaking alone "
              f"{mean(s[sel & truth[i]])}, when another speaks alone {mean(s[alone_other])}; "
              f"higher than the others when speaking alone {mean(higher[sel & truth[i]])}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", type=Path,
                    default=Path(__file__).resolve().parents[2] / "shared/data/speakers/msdwild-00115/00115.mp4")
    ap.add_argument("--ratio", default="9:16")
    ap.add_argument("--boxes", type=Path, help="the face labels (DarkLabel CSV); default: tie ids to sides")
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
    if args.boxes:
        by_labels(decisions, t, labels, args.boxes)
        return
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
