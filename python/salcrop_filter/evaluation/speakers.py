"""Following the speaker (issue 25): a crop path against a clip's who-speaks-when labels (RTTM).

On every frame where exactly one person speaks (by the labels), is that person's face fully inside the window?
And how often does the camera move or cut (runs of pan / ease / cut segments in the path JSON)?

The faces are found by the core's detector (``_core.FaceDetector``) on every ``every``-th frame, independently of
the run being judged, and interpolated in between; the labels' ids are tied to faces by their position in the
frame (``sides``: e.g. msdwild-00115's id 1 is the woman on the left, id 0 the one on the right, SOURCES.md).
Where the data set labels the faces itself (MSDWild's DarkLabel CSV: ``frame,face,id,x1,y1,x2,y2,...``, the face
id being the RTTM's speaker id), ``--boxes`` reads them instead, for any number of people. ``--centre`` adds the
centre crop of the first path's window size as a row.

    python -m salcrop_filter.evaluation.speakers VIDEO RTTM PATH.json [PATH.json ...] [--sides 1=left,0=right]
    python -m salcrop_filter.evaluation.speakers VIDEO RTTM PATH.json [...] --boxes 00001.csv --centre
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Turn", "read_rttm", "face_sides", "labelled_faces", "centre_path", "SpeakerScore", "score_path", "main"]


@dataclass
class Turn:
    start: float
    end: float
    speaker: str


def read_rttm(path: str | Path) -> list[Turn]:
    turns = []
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[0] == "SPEAKER":
            start, dur = float(parts[3]), float(parts[4])
            turns.append(Turn(start, start + dur, parts[7]))
    return turns


def face_sides(video: str | Path, count: int, every: int = 5) -> tuple[np.ndarray, float, int, int]:
    """Per frame the boxes (x, y, w, h) of the leftmost and rightmost of the two largest faces, shape (T, 2, 4)
    (NaN where not found), interpolated between detected frames; and the clip's fps, width, height."""
    import av

    from salcrop_filter import _core

    det = _core.FaceDetector()
    found: dict[int, np.ndarray] = {}
    with av.open(str(video)) as c:
        s = c.streams.video[0]
        fps = float(s.average_rate)
        frames = 0
        w = h = 0
        for i, f in enumerate(c.decode(video=0)):
            frames += 1
            if i % every:
                continue
            rgb = f.to_ndarray(format="rgb24")
            h, w = rgb.shape[:2]
            faces = sorted(det.detect(rgb), key=lambda b: -b[2] * b[3])[:2]
            if len(faces) == 2:
                faces.sort(key=lambda b: b[0] + b[2] / 2)
                found[i] = np.array([b[:4] for b in faces], np.float64)
    out = np.full((frames, 2, 4), np.nan)
    keys = sorted(found)
    for a, b in zip(keys, keys[1:] + [None]):
        if b is None:
            out[a: min(frames, a + every)] = found[a]
            continue
        for k in range(a, b):
            u = (k - a) / (b - a)
            out[k] = (1 - u) * found[a] + u * found[b]
    return out, fps, w, h


def labelled_faces(csv: str | Path) -> tuple[np.ndarray, dict[str, int]]:
    """A DarkLabel CSV's face boxes: per frame and face id (x, y, w, h), shape (T, ids, 4), NaN where the face is not
    labelled; and each id's column."""
    rows = [line.split(",") for line in Path(csv).read_text().splitlines() if line.strip()]
    ids = sorted({r[2] for r in rows}, key=lambda i: (len(i), i))
    col = {i: k for k, i in enumerate(ids)}
    out = np.full((1 + max(int(r[0]) for r in rows), len(ids), 4), np.nan)
    for r in rows:
        x1, y1, x2, y2 = (float(v) for v in r[3:7])
        out[int(r[0]), col[r[2]]] = (x1, y1, x2 - x1, y2 - y1)
    return out, col


def centre_path(path: dict) -> dict:
    """The centre crop of ``path``'s window size on the same frames, as a path (one stationary shot)."""
    src = path["source"]
    frames = [dict(f, x=(src["width"] - f["w"]) / 2, y=(src["height"] - f["h"]) / 2, speaker=None)
              for f in path["frames"]]
    return {"source": src, "frames": frames, "shots": [{"segments": []}]}


@dataclass
class SpeakerScore:
    one_speaker_frames: int
    inside: float            # share of those frames with the speaker's face fully inside the window
    moves: int               # runs of pan / ease / cut segments
    cuts: int
    seconds: float
    min_gap: float           # shortest time between the starts of two moves or cuts, s (inf: fewer than two)
    followed: float          # share of one-speaker frames whose path "speaker" is a face (any), or nan

    def row(self, name: str) -> str:
        gap = "-" if not np.isfinite(self.min_gap) else f"{self.min_gap:.1f} s"
        per2 = self.moves / (self.seconds / 2) if self.seconds else 0.0
        return (f"| {name} | {self.one_speaker_frames} | {100 * self.inside:.1f}% | {self.moves} ({self.cuts} cuts) | "
                f"{per2:.2f} | {gap} |")


def score_path(path: dict, turns: list[Turn], faces: np.ndarray, sides: dict[str, int]) -> SpeakerScore:
    frames = path["frames"]
    fps = path["source"]["fps"]
    n = min(len(frames), len(faces))
    ones = inside = followed = 0
    for k in range(n):
        t = frames[k]["t"]
        talking = {tr.speaker for tr in turns if tr.start <= t < tr.end}
        if len(talking) != 1:
            continue
        (spk,) = talking
        box = faces[k, sides[spk]]
        if not np.isfinite(box).all():
            continue
        ones += 1
        f = frames[k]
        x, y, w, h = box
        if x >= f["x"] - 0.5 and y >= f["y"] - 0.5 and x + w <= f["x"] + f["w"] + 0.5 and y + h <= f["y"] + f["h"] + 0.5:
            inside += 1
        if f.get("speaker") is not None:
            followed += 1
    starts, cuts = [], 0
    for shot in path["shots"]:
        for seg in shot.get("segments", []):
            if seg["mode"] != "stationary":
                starts.append(seg["start"])
                cuts += seg["mode"] == "cut"
    # A move is a run of consecutive non-stationary segments (ease, pan, ease is one move).
    runs = []
    ends = {seg["end"] for shot in path["shots"] for seg in shot.get("segments", []) if seg["mode"] != "stationary"}
    for s in sorted(starts):
        if not (s in ends and runs):
            runs.append(s)
    gaps = np.diff(sorted(runs)) / fps if len(runs) > 1 else np.array([np.inf])
    return SpeakerScore(ones, inside / max(1, ones), len(runs), cuts, len(frames) / fps, float(gaps.min()),
                        followed / max(1, ones))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m salcrop_filter.evaluation.speakers", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("video")
    p.add_argument("rttm")
    p.add_argument("paths", nargs="+", help="crop path JSON files (name=file to label a row)")
    p.add_argument("--sides", default="1=left,0=right", help="label id = left|right (default: msdwild-00115's)")
    p.add_argument("--boxes", help="the faces' own labels (DarkLabel CSV, ids as in the RTTM) instead of --sides")
    p.add_argument("--centre", action="store_true", help="add the centre crop of the first path's window as a row")
    a = p.parse_args(argv)
    turns = read_rttm(a.rttm)
    if a.boxes:
        faces, sides = labelled_faces(a.boxes)
    else:
        sides = {k: {"left": 0, "right": 1}[v] for k, v in (s.split("=") for s in a.sides.split(","))}
        faces, _, _, _ = face_sides(a.video, 10**9)
    print("| run | frames with one speaker | speaker's face fully inside | moves | moves per 2 s | shortest gap |")
    print("|---|---|---|---|---|---|")
    for i, spec in enumerate(a.paths):
        name, _, file = spec.rpartition("=")
        path = json.loads(Path(file).read_text())
        if i == 0 and a.centre:
            print(score_path(centre_path(path), turns, faces, sides).row("centre crop"))
        print(score_path(path, turns, faces, sides).row(name or Path(file).stem))


if __name__ == "__main__":
    main()
