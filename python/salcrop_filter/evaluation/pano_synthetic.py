"""A synthetic but exact 360° check: a real flat clip projected onto the sphere at a known, moving direction
(crossing the seam at yaw ±180°), over a darkened real 360° frame; the view should follow it.

    python -m salcrop_filter.evaluation.pano_synthetic --flat ../shared/videos/bikes.mp4 --out /tmp/synth.mp4

writes the equirect clip and its truth (per frame yaw/pitch of the subject's centre, JSON beside it); then
:func:`angular_errors` compares a view path (version 3) with the truth, and :func:`wrong_way` says whether
the view ever turned the long way round.
"""
from __future__ import annotations

import argparse
import json
import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

SUBJECT_FOV = 50.0  # degrees across the projected flat picture


def trajectory(n: int, start: float = 110.0, turn: float = 140.0, pitch_amp: float = 10.0
               ) -> tuple[np.ndarray, np.ndarray]:
    """Per frame the subject's centre: yaw from `start` through +180 (the seam) by `turn` degrees, wrapped to
    (-180, 180]; pitch a slow sine."""
    s = np.arange(n) / max(1, n - 1)
    yaw = start + turn * s
    yaw = (yaw + 180.0) % 360.0 - 180.0
    return yaw, pitch_amp * np.sin(2 * math.pi * s)


def _directions(w: int, h: int) -> np.ndarray:
    lon = ((np.arange(w) + 0.5) / w - 0.5) * 2 * math.pi
    lat = (0.5 - (np.arange(h) + 0.5) / h) * math.pi
    LON, LAT = np.meshgrid(lon, lat)
    return np.stack([np.cos(LAT) * np.sin(LON), np.sin(LAT), np.cos(LAT) * np.cos(LON)], axis=-1)


def project(background: np.ndarray, flat: np.ndarray, yaw: float, pitch: float, dirs: np.ndarray) -> np.ndarray:
    """The flat picture as a perspective patch SUBJECT_FOV wide centred on (yaw, pitch), over `background`."""
    h, w = flat.shape[:2]
    a, b = math.radians(-yaw), math.radians(-pitch)
    x1 = dirs[..., 0] * math.cos(a) + dirs[..., 2] * math.sin(a)
    z1 = -dirs[..., 0] * math.sin(a) + dirs[..., 2] * math.cos(a)
    y2 = dirs[..., 1] * math.cos(b) + z1 * math.sin(b)
    z2 = -dirs[..., 1] * math.sin(b) + z1 * math.cos(b)
    f = (w / 2) / math.tan(math.radians(SUBJECT_FOV / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        px = x1 / z2 * f + w / 2
        py = -y2 / z2 * f + h / 2
    ok = (z2 > 0) & (px >= 0) & (px < w - 1) & (py >= 0) & (py < h - 1)
    out = background.copy()
    xi, yi = px[ok].astype(int), py[ok].astype(int)
    out[ok] = flat[yi, xi]
    return out


def make_clip(flat_src: Path, background_src: Path, out: Path, seconds: float = 8.0, fps: int = 25,
              size: tuple[int, int] = (640, 320)) -> dict:
    w, h = size
    with av.open(str(background_src)) as c:
        bg = next(c.decode(video=0)).to_ndarray(format="rgb24")
    bg = np.asarray(av.VideoFrame.from_ndarray(bg, format="rgb24").reformat(width=w, height=h).to_ndarray(
        format="rgb24"), dtype=np.float32)
    bg = (bg * 0.35).astype(np.uint8)  # darkened: the subject is what stands out, the scene is still real
    n = int(seconds * fps)
    yaw, pitch = trajectory(n)
    dirs = _directions(w, h)
    with av.open(str(flat_src)) as fin, av.open(str(out), "w") as fout:
        st = fout.add_stream("libx264", rate=fps)
        st.width, st.height, st.pix_fmt = w, h, "yuv420p"
        st.time_base = Fraction(1, fps)
        frames = fin.decode(video=0)
        for i in range(n):
            fr = next(frames).reformat(width=320, height=180).to_ndarray(format="rgb24")
            eq = project(bg, fr, float(yaw[i]), float(pitch[i]), dirs)
            vf = av.VideoFrame.from_ndarray(eq, format="rgb24")
            vf.pts = i
            for p in st.encode(vf):
                fout.mux(p)
        for p in st.encode():
            fout.mux(p)
    truth = {"fps": fps, "yaw": yaw.tolist(), "pitch": pitch.tolist()}
    out.with_suffix(".truth.json").write_text(json.dumps(truth))
    return truth


def angular_errors(path_frames: list[dict], truth: dict) -> np.ndarray:
    """Great-circle distance, degrees, between each frame's view centre and the subject's centre."""
    vy = np.radians([f["yaw"] for f in path_frames])
    vp = np.radians([f["pitch"] for f in path_frames])
    ty, tp = np.radians(truth["yaw"][: len(vy)]), np.radians(truth["pitch"][: len(vy)])
    c = np.sin(vp) * np.sin(tp) + np.cos(vp) * np.cos(tp) * np.cos(vy - ty)
    return np.degrees(np.arccos(np.clip(c, -1, 1)))


def wrong_way(path_frames: list[dict], truth: dict) -> bool:
    """Whether the view turned the long way round: its unwrapped yaw ends on the other side of the turn than
    the subject's (or jumps by more than 90° between frames)."""
    vy = np.unwrap(np.radians([f["yaw"] for f in path_frames]))
    ty = np.unwrap(np.radians(truth["yaw"][: len(vy)]))
    if np.any(np.abs(np.diff(np.degrees(vy))) > 90):
        return True
    return bool(np.sign(vy[-1] - vy[0]) != np.sign(ty[-1] - ty[0]) and abs(np.degrees(vy[-1] - vy[0])) > 20)


def subject_mass(clip: Path, truth: dict, radius: float = 30.0) -> dict[str, tuple[float, float]]:
    """Seam padding against the bare frame on this clip: per method (no prior), the median share of the sphere
    map's mass within `radius` degrees of the subject, on frames with the subject within 30° of the seam and
    on the others. The network runs over the clip in order (its temporal input), once per method."""
    from .. import _core

    frames = [f.to_ndarray(format="rgb24") for f in av.open(str(clip)).decode(video=0)]
    h, w = frames[0].shape[:2]
    out = {}
    for method in ("seam", "plain"):
        runner = _core.SaliencyRunner()
        map_pad, in_pad, _, core_in = _core.seam_padding(runner.input_size[1], runner.map_size[1])
        pad = round(w * in_pad / core_in) if method == "seam" else 0
        near, far = [], []
        for k, f in enumerate(frames):
            pic = np.concatenate([f[:, -pad:], f, f[:, :pad]], axis=1) if pad else f
            m = runner.predict(np.ascontiguousarray(pic[None]), reset=k == 0)[0]
            sm = _core.sphere_map(m, map_pad if pad else 0, 0.0, 30.0)
            mh, mw = sm.shape
            lat = np.radians(90 - (np.arange(mh) + 0.5) * 180 / mh)
            lon = np.radians((np.arange(mw) + 0.5) * 360 / mw - 180)
            LON, LAT = np.meshgrid(lon, lat)
            y, p = math.radians(truth["yaw"][k]), math.radians(truth["pitch"][k])
            d = np.degrees(np.arccos(np.clip(np.sin(LAT) * math.sin(p) + np.cos(LAT) * math.cos(p) * np.cos(LON - y),
                                             -1, 1)))
            share = float(sm[d < radius].sum() / sm.sum())
            (near if abs(abs(truth["yaw"][k]) - 180) < 30 else far).append(share)
        out[method] = (float(np.median(near)), float(np.median(far)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--flat", type=Path, default=Path("../shared/videos/bikes.mp4"))
    ap.add_argument("--background", type=Path, default=Path("../shared/data/pano360/videos/battle1941_640x320.mp4"))
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--path", type=Path, help="a view path of the clip to score against the truth")
    ap.add_argument("--compare-methods", action="store_true",
                    help="the subject's share of the map with seam padding and without, near the seam and away")
    a = ap.parse_args()
    if a.compare_methods:
        truth = json.loads(a.out.with_suffix(".truth.json").read_text())
        for m, (near, far) in subject_mass(a.out, truth).items():
            print(f"{m}: subject's share of the map, near the seam {near:.3f}, away {far:.3f}")
    elif a.path:
        truth = json.loads(a.out.with_suffix(".truth.json").read_text())
        frames = json.loads(a.path.read_text())["frames"]
        e = angular_errors(frames, truth)
        print(f"median angular error {np.median(e):.1f} deg, p90 {np.percentile(e, 90):.1f}, "
              f"wrong way: {wrong_way(frames, truth)}")
    else:
        make_clip(a.flat, a.background, a.out)


if __name__ == "__main__":
    main()
