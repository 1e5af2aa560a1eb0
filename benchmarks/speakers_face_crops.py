"""Who speaks, clip by clip, on ../shared/data/speakers/face-crops (25 face tracks, speaking/ or silent/ throughout).

Each clip is a loose crop around one face (224x224). The engine hands the scorer the detector's face box instead, so
this script stands in for the box with a fixed square: centre (0.5, 0.45) of the picture, side 0.5 (where the faces
of these crops sit), resampled to 112x112 grey. The scorer (csrc/src/speakers.cpp through _core.SpeakerScorer) gives
per frame the probability that the face speaks; a clip is called "speaking" when the mean of its frames' mouth
probability, over the frames with voice (VAD > 0.5), is above one half.

The mouth threshold (kMouthThreshold) was tuned on these very clips: this script reports both the shipped threshold
(tuned on all 25: optimistic) and a leave-one-out protocol (each clip judged with the threshold chosen on the other
24: the honest figure). Also the cost: ms per face crop for the scorer, and the VAD's ms per second of audio.

    python benchmarks/speakers_face_crops.py [--data ../shared/data/speakers/face-crops] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import av
import numpy as np

from salcrop_filter import _core

SCALE = 0.15  # kMouthScale in speakers.cpp
SHIPPED = 1.19  # kMouthThreshold in speakers.cpp


def face_box_crops(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The clip's frames as 112x112 grey face boxes, and their times."""
    crops, times = [], []
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            g = f.to_ndarray(format="gray")
            h, w = g.shape
            side = int(round(0.5 * min(h, w)))
            y0, x0 = int(round(0.45 * h - side / 2)), int(round(0.5 * w - side / 2))
            box = g[y0:y0 + side, x0:x0 + side]
            ys = (np.arange(112) * side / 112).astype(int)
            crops.append(box[ys][:, ys])
            times.append(float(f.time))
    return np.stack(crops).astype(np.uint8), np.array(times)


def audio_track(path: Path) -> _core.AudioTrack:
    track = _core.AudioTrack()
    with av.open(str(path)) as c:
        for f in c.decode(audio=0):
            track.push(f.to_ndarray(), f.format.name, f.sample_rate, float(f.time), channels=len(f.layout.channels))
    track.end()
    return track


def clip_probability(mouth: np.ndarray, voice: np.ndarray, threshold: float) -> float:
    ok = (voice > 0.5) & (mouth >= 0)
    if not ok.any():
        ok = mouth >= 0
    p = 1 / (1 + np.exp(-(mouth[ok] - threshold) / SCALE))
    return float(p.mean())


def best_threshold(clips: list[dict]) -> float:
    """The threshold with the most clips right (the middle of the best interval of candidates)."""
    cands = np.arange(0.5, 2.5, 0.01)
    right = [sum((clip_probability(c["mouth"], c["voice"], t) > 0.5) == c["speaking"] for c in clips) for t in cands]
    best = max(right)
    idx = np.flatnonzero(np.array(right) == best)
    return float(cands[idx[len(idx) // 2]])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/speakers/face-crops")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    clips = []
    crop_seconds = 0.0
    n_crops = 0
    for label in ("speaking", "silent"):
        for path in sorted((args.data / label).glob("*.mp4"), key=lambda p: int(p.stem)):
            crops, times = face_box_crops(path)
            track = audio_track(path)
            t0 = time.perf_counter()
            speaking, mouth, voice = _core.SpeakerScorer(threads=1).score(crops, times, track, 25.0)
            crop_seconds += time.perf_counter() - t0
            n_crops += len(crops)
            clips.append(dict(name=f"{label}/{path.name}", speaking=label == "speaking", frames=len(crops),
                              mouth=mouth, voice=voice, score=speaking))
    # VAD cost: one scorer, one 10 s clip's sound, every chunk once.
    long = max(clips, key=lambda c: c["frames"])
    path = args.data / long["name"]
    track = audio_track(path)
    seconds = long["frames"] / 25.0
    crops, times = face_box_crops(path)
    s1 = _core.SpeakerScorer(threads=1)
    t0 = time.perf_counter()
    s1.score(crops, times, track, 25.0)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    s1.score(crops, times, track, 25.0)  # VAD cached: the visual part only
    again = time.perf_counter() - t0
    vad_ms_per_s = (first - again) * 1000 / seconds
    visual_ms_per_crop = again * 1000 / len(crops)

    loo = []
    for i, c in enumerate(clips):
        thr = best_threshold(clips[:i] + clips[i + 1:])
        loo.append((thr, clip_probability(c["mouth"], c["voice"], thr)))
    tuned = best_threshold(clips)
    rows = []
    print(f"{'clip':22} {'truth':9} {'frames':>6} {'voice':>6} {'mouth':>6} {'p(shipped)':>10} {'LOO thr':>8} {'p(LOO)':>7}  right")
    right_shipped = right_loo = 0
    for c, (thr, p_loo) in zip(clips, loo):
        p = clip_probability(c["mouth"], c["voice"], SHIPPED)
        ok_s = (p > 0.5) == c["speaking"]
        ok_l = (p_loo > 0.5) == c["speaking"]
        right_shipped += ok_s
        right_loo += ok_l
        valid = c["mouth"] >= 0
        row = dict(clip=c["name"], truth="speaking" if c["speaking"] else "silent", frames=c["frames"],
                   voice=float(c["voice"][valid].mean()), mouth=float(np.median(c["mouth"][valid])),
                   p_shipped=p, loo_threshold=thr, p_loo=p_loo, right_shipped=bool(ok_s), right_loo=bool(ok_l))
        rows.append(row)
        print(f"{row['clip']:22} {row['truth']:9} {row['frames']:6d} {row['voice']:6.2f} {row['mouth']:6.2f} "
              f"{p:10.2f} {thr:8.2f} {p_loo:7.2f}  {'yes' if ok_l else 'NO'}{'' if ok_s else ' (shipped: NO)'}")
    print(f"right: leave-one-out {right_loo}/{len(clips)}, shipped threshold {SHIPPED} (tuned on all 25) "
          f"{right_shipped}/{len(clips)}; threshold the 25 clips choose: {tuned:.2f}")
    print(f"cost: visual {visual_ms_per_crop:.3f} ms per face crop, VAD {vad_ms_per_s:.1f} ms per second of audio "
          f"({long['name']}, {seconds:.1f} s)")
    if args.json:
        args.json.write_text(json.dumps(dict(rows=rows, right_loo=right_loo, right_shipped=right_shipped,
                                             tuned=tuned, visual_ms_per_crop=visual_ms_per_crop,
                                             vad_ms_per_s=vad_ms_per_s), indent=1))


if __name__ == "__main__":
    main()
