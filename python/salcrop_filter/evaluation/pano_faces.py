"""Faces on the sphere and a confidence rule, measured on the AVTrack360 stills (issue 28, stop 31, round 2).

Faces: the core's YuNet detector (``_core.FaceDetector``) on perspective views of the full-resolution equirect still
(16 views: 8 around the horizon every 45°, 4 at pitch +45 and 4 at -45, fov 75, 640x480, each at long sides 640 and
320: YuNet misses some faces at one scale and finds them at the other); a detection counts in the view whose axis
is nearest to it (overlaps are not counted twice) and is mapped to its direction on the sphere; duplicates closer
than their angular size are suppressed (best score first). The face map puts a Gaussian (sigma: max(fsig, the
face's angular width)) on each face, cells weighted by cos latitude, each face's mass 1 ("norm": the map then scaled
to sum 1) or its score ("score"), and is added to the core's sphere map: ``(map + k F) / (1 + k F.sum())``.

Confidence rule: the view keeps the planned direction only where the blended map's best view band holds ``tau``
times the front view's (``pano.front_ratio``), else it stays at the front.

Faces count only from a minimum angular width (0, 5 or 8°, in the grid): a face 5° wide is a person within about
2 m of the camera; the many small faces of a crowd or a band (scene 7) pull the view nowhere useful.

Both are fitted leave-one-scene-out with the front prior (weight x sigma, pano.WEIGHTS x pano.SIGMAS, seam map,
contrast 1): for each still the setting with the best mean share on the other nine is scored on it.

    python -m salcrop_filter.evaluation.pano_faces [--data DIR]
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from . import pano

FACE_VIEWS = ([(float(y), 0.0) for y in range(-180, 180, 45)] + [(float(y), 45.0) for y in range(-180, 180, 90)]
              + [(float(y), -45.0) for y in range(-180, 180, 90)])
VIEW_W, VIEW_H, VIEW_FOV = 640, 480, 75.0
LONG_SIDES = (640, 320)
FACE_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0)
FACE_SIGMAS = (10.0, 20.0)
FACE_MASS = ("norm", "score")
FACE_MIN_WIDTHS = (0.0, 5.0, 8.0)  # degrees: a face at least this wide counts (5°: a person within ~2 m)
TAUS = (1.0, 1.1, 1.2, 1.3, 1.5, 1.75, 2.0, 2.5, None)  # None: no rule

Face = tuple[float, float, float, float]  # yaw, pitch, angular width (degrees), score


def direction(yaw: Any, pitch: Any) -> np.ndarray:
    """Unit vectors (x right, y up, z forward) of directions in degrees (sphere.h's convention)."""
    y, p = np.radians(yaw), np.radians(pitch)
    return np.stack([np.cos(p) * np.sin(y), np.sin(p), np.cos(p) * np.cos(y)], -1)


def view_pixel_direction(px: float, py: float, width: int, height: int, fov: float, yaw: float,
                         pitch: float) -> tuple[float, float]:
    """The sphere direction (yaw, pitch) of pixel (px, py) of the rectilinear view render_equirect_view makes."""
    t = math.tan(math.radians(fov / 2))
    x, y, z = (2 * px / width - 1) * t, -(2 * py / height - 1) * t * height / width, 1.0
    p, w = math.radians(pitch), math.radians(yaw)
    y1, z1 = y * math.cos(p) + z * math.sin(p), -y * math.sin(p) + z * math.cos(p)  # pitch up, then yaw right
    x2, z2 = x * math.cos(w) + z1 * math.sin(w), -x * math.sin(w) + z1 * math.cos(w)
    return math.degrees(math.atan2(x2, z2)), math.degrees(math.asin(y1 / math.sqrt(x2 * x2 + y1 * y1 + z2 * z2)))


def faces_on_sphere(equirect: np.ndarray, detector: Any) -> list[Face]:
    """Faces of an equirect RGB picture as sphere directions, best score first."""
    core = pano._core()
    axes = direction(np.array([v[0] for v in FACE_VIEWS]), np.array([v[1] for v in FACE_VIEWS]))
    found: list[Face] = []
    for i, (yaw, pitch) in enumerate(FACE_VIEWS):
        view = core.render_equirect_view(np.ascontiguousarray(equirect), yaw, pitch, VIEW_FOV, VIEW_W, VIEW_H)
        for side in LONG_SIDES:
            for x, y, w, h, score in detector.detect(view, side):
                fy, fp = view_pixel_direction(x + w / 2, y + h / 2, VIEW_W, VIEW_H, VIEW_FOV, yaw, pitch)
                if int(np.argmax(axes @ direction(fy, fp))) == i:  # the view nearest to it counts it
                    found.append((fy, fp, w / VIEW_W * VIEW_FOV, float(score)))
    found.sort(key=lambda f: -f[3])
    kept: list[Face] = []
    for f in found:
        if all(math.degrees(math.acos(min(1.0, float(direction(f[0], f[1]) @ direction(k[0], k[1]))))) >
               max(f[2], k[2]) for k in kept):
            kept.append(f)
    return kept


def face_map(faces: list[Face], map_h: int, map_w: int, fsig: float, mass: str) -> np.ndarray:
    """The faces as mass on the sphere grid of pano/sphere_map (map_h x map_w, row 0 at the top)."""
    lat = 90.0 - (np.arange(map_h) + 0.5) * 180.0 / map_h
    lon = (np.arange(map_w) + 0.5) * 360.0 / map_w - 180.0
    lon_g, lat_g = np.meshgrid(lon, lat)
    cells = direction(lon_g, lat_g)
    out = np.zeros((map_h, map_w))
    for fy, fp, size, score in faces:
        ang = np.degrees(np.arccos(np.clip(cells @ direction(fy, fp), -1.0, 1.0)))
        g = np.exp(-0.5 * (ang / max(fsig, size)) ** 2) * np.cos(np.radians(lat_g))
        out += (score if mass == "score" else 1.0) * g / g.sum()
    if mass == "norm" and out.sum() > 0:
        out /= out.sum()
    return out.astype(np.float32)


def planned(sm: np.ndarray) -> tuple[float, float]:
    """What the core's planner picks for a still with this sphere map (pano.planned_direction's planning)."""
    core = pano._core()
    maps = np.repeat(sm[None].astype(np.float32), 10, axis=0)
    yaw, pitch = core.plan_sphere(maps, 10.0, pano.RATIO, pano.FOV, "stationary", 0.5, pano.EQ_W, pano.EQ_H)
    return float(((yaw[0] + 180) % 360) - 180), float(pitch[0])


def evaluate(data: Path) -> dict[str, Any]:
    core = pano._core()
    runner, detector = core.SaliencyRunner(), core.FaceDetector()
    geo = core.view_geometry(pano.EQ_W, pano.EQ_H, pano.RATIO, pano.FOV)
    stills = pano.load_stills(data)
    _, in_w = runner.input_size
    map_pad, in_pad, _, core_in = core.seam_padding(in_w, runner.map_size[1])
    seam, faces = {}, {}
    for s in stills:
        img = np.asarray(Image.open(data / "images" / f"{s.clip}.jpg").convert("RGB"))
        rows = np.nonzero(img.mean(axis=(1, 2)) > 4)[0]
        faces[s.clip] = faces_on_sphere(img[rows[0]:rows[-1] + 1], detector)  # full resolution: small faces
        pad_px = round(pano.EQ_W * in_pad / core_in)
        padded = np.concatenate([s.rgb[:, -pad_px:], s.rgb, s.rgb[:, :pad_px]], axis=1)
        seam[s.clip] = runner.predict(np.ascontiguousarray(padded[None]), reset=True)[0]
    clips = [s.clip for s in stills]
    front = {s.clip: pano.score(s, 0.0, 0.0, geo) for s in stills}
    best = {s.clip: pano.best_fixed(s, geo) for s in stills}
    table: dict[tuple, dict[int, tuple[float, float, float, float]]] = {}
    for w in (0.0, *[x for x in pano.WEIGHTS if x > 0]):
        for sg in ((45.0,) if w == 0 else pano.SIGMAS):
            base = {c: core.sphere_map(seam[c], map_pad, w, sg, 1.0) for c in clips}
            for k in FACE_WEIGHTS:
                for fsig in (FACE_SIGMAS[:1] if k == 0 else FACE_SIGMAS):
                    for mass in (FACE_MASS[:1] if k == 0 else FACE_MASS):
                        for wmin in (FACE_MIN_WIDTHS[:1] if k == 0 else FACE_MIN_WIDTHS):
                            row = {}
                            for s in stills:
                                sm = base[s.clip]
                                near = [f for f in faces[s.clip] if f[2] >= wmin]
                                if k > 0 and near:
                                    f = face_map(near, *sm.shape, fsig, mass)
                                    sm = (sm + k * f) / (sm.sum() + k * f.sum())
                                y, p = planned(sm)
                                row[s.clip] = (pano.score(s, y, p, geo), y, p, pano.front_ratio(sm))
                            table[(w, sg, k, fsig, mass, wmin)] = row

    def value(st: tuple, tau: float | None, c: int) -> float:
        share, _, _, ratio = table[st][c]
        return share if tau is None or ratio >= tau else front[c]

    out: dict[str, Any] = {"faces": faces, "front": front, "best": best, "table": table}
    variants = (("prior (today)", (None,), lambda st: st[2] == 0),
                ("prior + faces, any size", (None,), lambda st: st[5] == 0),
                ("prior + faces, a min width in the grid", (None,), lambda st: True),
                ("prior + rule", TAUS, lambda st: st[2] == 0),
                ("prior + faces + rule", TAUS, lambda st: True))
    for name, taus, keep in variants:
        cands = [(st, t) for st in table for t in taus if keep(st)]
        held = {}
        for c in clips:
            train = [x for x in clips if x != c]
            st, t = max(cands, key=lambda k: (round(float(np.mean([value(*k, x) for x in train])), 9),
                                              -cands.index(k)))
            held[c] = {"share": value(st, t, c), "dir": table[st][c][1:3], "setting": (*st, t)}
        out[name] = held
    return out


def report(res: dict[str, Any]) -> str:
    front, best = res["front"], res["best"]
    clips = sorted(front)
    f, b = np.mean([front[c] for c in clips]), np.mean([best[c][0] for c in clips])
    lines = ["faces (yaw, pitch, width, score): " + "; ".join(
        f"{c}: " + ", ".join(f"({y:.0f}, {p:.0f}, {w:.1f}, {s:.2f})" for y, p, w, s in res["faces"][c]) for c in clips)]
    lines += [f"best fixed {c}: {100 * best[c][0]:.1f} at ({best[c][1]:.0f}, {best[c][2]:.0f})" for c in clips]
    for name in ("prior (today)", "prior + faces, any size", "prior + faces, a min width in the grid", "prior + rule",
                 "prior + faces + rule"):
        held = res[name]
        v = np.mean([held[c]["share"] for c in clips])
        lines.append(f"{name}: held out {100 * v:.1f} (front {100 * f:.1f}, best fixed {100 * b:.1f}, "
                     f"{100 * (v - f) / (b - f):.0f}% of the gap); against the front: " +
                     " ".join(f"{c} {100 * (held[c]['share'] - front[c]):+.1f}" for c in clips))
        lines += [f"    {c}: {100 * held[c]['share']:.1f} at ({held[c]['dir'][0]:.0f}, {held[c]['dir'][1]:.0f}), "
                  f"chosen on the other 9 (w, sigma, k, fsig, mass, min width, tau): {held[c]['setting']}" for c in clips]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data/pano360/avtrack360"))
    print(report(evaluate(ap.parse_args().data)))


if __name__ == "__main__":
    main()
