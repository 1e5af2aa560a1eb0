"""Who speaks, clip by clip, on ../shared/data/speakers/face-crops (25 face tracks, speaking/ or silent/ throughout).

Each clip is a loose crop around one face (224x224). The crops are cut as the engine cuts them: the core's face
detector (_core.FaceDetector, YuNet with its landmarks) every 5th frame, its box and landmarks held while the face
moves less than 15% of its size, the crop by the core's face_crop() with the landmarks in crop pixels. The scorer
(csrc/src/speakers.cpp through _core.SpeakerScorer) gives per frame the probability that the face speaks; a clip
is called "speaking" when the mean of its voiced frames' (VAD > 0.5) mouth probability is above one half.

The mouth logistic (speakers.cpp: kRatioWeight, kOpeningWeight, kBias) was fitted on these very clips: this script
reports the shipped coefficients (fitted on all 25: optimistic) and leave-one-clip-out (each clip judged by the
logistic refitted on the other 24 clips' voiced frames, each clip weighted equally, on the same two measures that
the scorer reports as evidence: the honest figure). Also the cost: ms per face crop, the VAD's ms per second.

    python benchmarks/speakers_face_crops.py [--data ../shared/data/speakers/face-crops] [--json out.json]
    python benchmarks/speakers_face_crops.py --no-sound   # the mouth alone (speakers.h score_mouth), sound ignored

With --no-sound the sound is not read: the scorer's score_mouth() gives P(this mouth speaks) on every frame, a clip
is "speaking" when the mean over all its scored frames is above one half (no voice to pick the voiced frames),
and the logistic is refitted on all scored frames: on all 25 clips ("fitted") and leave-one-clip-out.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import av
import numpy as np

from salcrop_filter import _core

HOLD = 0.15  # the engine's kCropHold
EVERY = 5     # the detector's period on a 25 fps clip (kFaceSeconds)


def face_box_crops(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The clip's frames as 112x112 grey face crops (the largest face), their times and landmarks (N x 10)."""
    detector = _core.FaceDetector()
    crops, times, kps = [], [], []
    held = None  # (box, landmarks) of the detection the crops use
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            rgb = f.to_ndarray(format="rgb24")
            h, w = rgb.shape[:2]
            if i % EVERY == 0:
                faces = sorted(detector.detect(rgb, landmarks=True), key=lambda d: -d[2] * d[3])
                if faces:
                    box, lms = tuple(faces[0][:4]), faces[0][5]
                    if held is not None:
                        (px, py, pw, ph), size = held[0], max(1.0, max(held[0][2], held[0][3]))
                        moved = np.hypot(box[0] + box[2] / 2 - px - pw / 2, box[1] + box[3] / 2 - py - ph / 2)
                        if moved < HOLD * size and abs(max(box[2], box[3]) - size) < HOLD * size:
                            box, lms = held
                    held = (box, lms)
            box, lms = held if held is not None else ((w * 0.25, h * 0.2, w * 0.5, h * 0.5), None)
            if lms is None:
                crops.append(_core.face_crop(rgb, box))
                kps.append(np.full(10, np.nan, np.float32))
            else:
                crop, k = _core.face_crop(rgb, box, landmarks=lms)
                crops.append(crop)
                kps.append(np.array(k, np.float32))
            times.append(float(f.time))
    return np.stack(crops).astype(np.uint8), np.array(times), np.stack(kps)


def audio_track(path: Path) -> _core.AudioTrack:
    track = _core.AudioTrack()
    with av.open(str(path)) as c:
        for f in c.decode(audio=0):
            track.push(f.to_ndarray(), f.format.name, f.sample_rate, float(f.time), channels=len(f.layout.channels))
    track.end()
    return track


def fit_logistic(xs: list[np.ndarray], ys: list[bool], l2: float = 1.0) -> np.ndarray:
    """Logistic regression (Newton) of the label on the rows of xs (one array of features per clip, its frames
    weighted 1/len so that each clip counts once); returns weights, the bias last."""
    x = np.concatenate(xs)
    y = np.concatenate([np.full(len(a), float(t)) for a, t in zip(xs, ys)])
    wt = np.concatenate([np.full(len(a), 1.0 / len(a)) for a in xs])
    z = np.c_[x, np.ones(len(x))]
    w = np.zeros(z.shape[1])
    reg = l2 * np.diag(np.r_[np.ones(len(w) - 1), 0.0]) / len(xs)
    for _ in range(100):
        p = 1 / (1 + np.exp(-z @ w))
        g = z.T @ ((p - y) * wt) + reg @ w
        hess = (z * (p * (1 - p) * wt)[:, None]).T @ z + reg
        w -= np.linalg.solve(hess + 1e-9 * np.eye(len(w)), g)
    return w


def voiced(c: dict) -> np.ndarray:
    if c.get("no_sound"):
        return c["ratio"] >= 0  # every scored frame: no voice to choose them
    ok = c["voice"] > 0.5  # scored (voice -1 where not) and voiced
    return ok if ok.any() else c["voice"] >= 0


def features(c: dict) -> np.ndarray:
    """The scorer's two measures on the clip's voiced frames: log ratio and log(opening + 0.01)."""
    v = voiced(c)
    return np.c_[np.log(np.maximum(c["ratio"][v], 1e-3)), np.log(c["opening"][v] + 0.01)]


def clip_probability(c: dict, w: np.ndarray) -> float:
    x = features(c)
    return float((1 / (1 + np.exp(-(np.c_[x, np.ones(len(x))] @ w)))).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/speakers/face-crops")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--no-sound", action="store_true", help="the mouth alone, the sound ignored")
    args = ap.parse_args()
    if args.no_sound:
        no_sound(args)
        return
    clips = []
    for label in ("speaking", "silent"):
        for path in sorted((args.data / label).glob("*.mp4"), key=lambda p: int(p.stem)):
            crops, times, kps = face_box_crops(path)
            track = audio_track(path)
            speaking, mouth, voice, ratio, opening = _core.SpeakerScorer(threads=1).score(
                crops, times, track, 25.0, landmarks=kps, evidence=True)
            clips.append(dict(name=f"{label}/{path.name}", speaking=label == "speaking", frames=len(crops),
                              mouth=mouth, voice=voice, score=speaking, ratio=ratio, opening=opening,
                              landmarks=float(np.isfinite(kps).all(1).mean())))
    # Cost: one scorer, the longest clip's sound, every VAD chunk once, then again with the VAD cached.
    long = max(clips, key=lambda c: c["frames"])
    path = args.data / long["name"]
    track = audio_track(path)
    seconds = long["frames"] / 25.0
    crops, times, kps = face_box_crops(path)
    s1 = _core.SpeakerScorer(threads=1)
    t0 = time.perf_counter()
    s1.score(crops, times, track, 25.0, landmarks=kps)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    s1.score(crops, times, track, 25.0, landmarks=kps)
    again = time.perf_counter() - t0
    vad_ms_per_s = (first - again) * 1000 / seconds
    visual_ms_per_crop = again * 1000 / len(crops)

    ys = [c["speaking"] for c in clips]
    xs = [features(c) for c in clips]
    everything = fit_logistic(xs, ys)
    rows = []
    print(f"{'clip':22} {'truth':9} {'frames':>6} {'lmk':>4} {'voice':>6} {'z':>6} {'p(shipped)':>10} {'p(LOO)':>7} "
          f"{'frames right':>12}  right")
    right_shipped = right_loo = 0
    for i, c in enumerate(clips):
        w = fit_logistic(xs[:i] + xs[i + 1:], ys[:i] + ys[i + 1:])
        p_loo = clip_probability(c, w)
        v = voiced(c)
        p = float((1 / (1 + np.exp(-c["mouth"][v]))).mean())  # the shipped scorer's P(mouth)
        ok_s = (p > 0.5) == c["speaking"]
        ok_l = (p_loo > 0.5) == c["speaking"]
        right_shipped += ok_s
        right_loo += ok_l
        valid = c["voice"] >= 0
        vv = valid & (c["voice"] > 0.5)
        frames_right = float(np.mean((c["score"][vv] > 0.5) == c["speaking"])) if vv.any() else float("nan")
        row = dict(clip=c["name"], truth="speaking" if c["speaking"] else "silent", frames=c["frames"],
                   landmarks=c["landmarks"], voice=float(c["voice"][valid].mean()),
                   mouth=float(np.median(c["mouth"][valid])), p_shipped=p, p_loo=p_loo,
                   frames_right=frames_right, right_shipped=bool(ok_s), right_loo=bool(ok_l))
        rows.append(row)
        print(f"{row['clip']:22} {row['truth']:9} {row['frames']:6d} {row['landmarks']:4.2f} {row['voice']:6.2f} "
              f"{row['mouth']:6.2f} {p:10.2f} {p_loo:7.2f} {frames_right:12.2f}  {'yes' if ok_l else 'NO'}"
              f"{'' if ok_s else ' (shipped: NO)'}")
    print(f"voiced frames right (shipped scorer, speaking > 0.5 = speaks): mean over clips "
          f"{np.nanmean([r['frames_right'] for r in rows]):.3f}")
    print(f"right: leave-one-clip-out {right_loo}/{len(clips)}, shipped coefficients (fitted on all 25) "
          f"{right_shipped}/{len(clips)}; the logistic the 25 clips choose here: log ratio {everything[0]:.3f}, "
          f"log opening {everything[1]:.3f}, bias {everything[2]:.3f}")
    print(f"cost: visual {visual_ms_per_crop:.3f} ms per face crop, VAD {vad_ms_per_s:.1f} ms per second of audio "
          f"({long['name']}, {seconds:.1f} s)")
    if args.json:
        args.json.write_text(json.dumps(dict(rows=rows, right_loo=right_loo, right_shipped=right_shipped,
                                             logistic=everything.tolist(), visual_ms_per_crop=visual_ms_per_crop,
                                             vad_ms_per_s=vad_ms_per_s), indent=1))


def no_sound(args: argparse.Namespace) -> None:
    """The clips read by the mouth alone (score_mouth), the sound never opened."""
    clips = []
    for label in ("speaking", "silent"):
        for path in sorted((args.data / label).glob("*.mp4"), key=lambda p: int(p.stem)):
            crops, times, kps = face_box_crops(path)
            speaking, mouth, ratio, opening = _core.SpeakerScorer(threads=1).score_mouth(crops, times, landmarks=kps)
            clips.append(dict(name=f"{label}/{path.name}", speaking=label == "speaking", frames=len(crops),
                              mouth=mouth, score=speaking, ratio=ratio, opening=opening, no_sound=True))
    ys = [c["speaking"] for c in clips]
    xs = [features(c) for c in clips]
    everything = fit_logistic(xs, ys)
    rows = []
    print(f"{'clip':22} {'truth':9} {'frames':>6} {'scored':>6} {'p(shipped)':>10} {'p(fitted)':>9} {'p(LOO)':>7}  right")
    right = dict(shipped=0, fitted=0, loo=0)
    for i, c in enumerate(clips):
        w = fit_logistic(xs[:i] + xs[i + 1:], ys[:i] + ys[i + 1:])
        v = voiced(c)
        p = dict(shipped=float(c["score"][v].mean()), fitted=clip_probability(c, everything),
                 loo=clip_probability(c, w))
        ok = {k: (val > 0.5) == c["speaking"] for k, val in p.items()}
        for k in right:
            right[k] += ok[k]
        rows.append(dict(clip=c["name"], truth="speaking" if c["speaking"] else "silent", frames=c["frames"],
                         scored=int(v.sum()), **{f"p_{k}": val for k, val in p.items()},
                         **{f"right_{k}": bool(val) for k, val in ok.items()}))
        print(f"{c['name']:22} {rows[-1]['truth']:9} {c['frames']:6d} {int(v.sum()):6d} {p['shipped']:10.2f} "
              f"{p['fitted']:9.2f} {p['loo']:7.2f}  {'yes' if ok['loo'] else 'NO'}"
              f"{'' if ok['fitted'] else ' (fitted: NO)'}{'' if ok['shipped'] else ' (shipped: NO)'}")
    print(f"right, sound ignored: leave-one-clip-out {right['loo']}/{len(clips)}, fitted on all 25 "
          f"{right['fitted']}/{len(clips)}, the shipped (with-sound) coefficients {right['shipped']}/{len(clips)}; "
          f"the logistic all 25 choose: log ratio {everything[0]:.3f}, log opening {everything[1]:.3f}, "
          f"bias {everything[2]:.3f}")
    if args.json:
        args.json.write_text(json.dumps(dict(rows=rows, right=right, logistic=everything.tolist()), indent=1))


if __name__ == "__main__":
    main()
