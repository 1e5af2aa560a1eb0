"""Faces on the sphere and a confidence rule, measured on the AVTrack360 stills (issue 28, stop 31, round 2).

Faces: the core's ``faces_on_sphere`` (sphere_faces.h: YuNet on six perspective views around the horizon of the
full-size still, box-averaged to the views' pixel density first as in the engine, detections mapped to
directions; until stop 35 16 views at two sizes each) and ``face_sphere_map``. The face map puts
a Gaussian (sigma: max(fsig, the face's angular width)) on each face, cells weighted by cos latitude, each face's mass 1 ("norm": the map then scaled
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
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from . import pano

FACE_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0)
FACE_SIGMAS = (10.0, 20.0)
FACE_MASS = ("norm", "score")  # each face the same mass (the core's face_sphere_map), or its score (tried)
FACE_MIN_WIDTHS = (0.0, 5.0, 8.0)  # degrees: a face at least this wide counts (5°: a person within ~2 m)
TAUS = (1.0, 1.1, 1.2, 1.3, 1.5, 1.75, 2.0, 2.5, None)  # None: no rule

CORE_DEFAULTS = "the core's defaults (fitted on all ten with stop 31's detector: not held out)"
Face = tuple[float, float, float, float]  # yaw, pitch, angular width (degrees), score


def direction(yaw: Any, pitch: Any) -> np.ndarray:
    """Unit vectors (x right, y up, z forward) of directions in degrees (sphere.h's convention)."""
    y, p = np.radians(yaw), np.radians(pitch)
    return np.stack([np.cos(p) * np.sin(y), np.sin(p), np.cos(p) * np.cos(y)], -1)


def face_map(faces: list[Face], map_h: int, map_w: int, fsig: float, mass: str) -> np.ndarray:
    """The faces as mass on the sphere grid of pano/sphere_map (map_h x map_w, row 0 at the top): "norm" is the
    core's face_sphere_map; "score" (each face its score's mass, not normalised) was tried and is computed here."""
    if mass == "norm":
        out = pano._core().face_sphere_map(faces, map_h, map_w, fsig, 0.0)
        return np.zeros((map_h, map_w), np.float32) if out is None else out
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
    defaults = core.SPHERE_DEFAULTS  # sphere.h's SphereSaliency: what the engine plans with
    face_max_width = defaults["face_max_width"]  # wider: the camera operator (not in the grid)
    runner, detector = core.SaliencyRunner(), core.FaceDetector()
    geo = core.view_geometry(pano.EQ_W, pano.EQ_H, pano.RATIO, pano.FOV)
    stills = pano.load_stills(data)
    _, in_w = runner.input_size
    map_pad, in_pad, _, core_in = core.seam_padding(in_w, runner.map_size[1])
    seam, faces = {}, {}
    for s in stills:
        img = pano.equirect_of_still(np.asarray(Image.open(data / "images" / f"{s.clip}.jpg").convert("RGB")))
        faces[s.clip] = core.faces_on_sphere(detector, np.ascontiguousarray(img))  # as the engine: full size
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
                                near = [f for f in faces[s.clip] if wmin <= f[2] <= face_max_width]
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
    core_default = (defaults["front_weight"], defaults["front_sigma"], defaults["face_weight"], defaults["face_sigma"],
                    "norm", defaults["face_min_width"])
    default_prior = ((defaults["front_weight"], defaults["front_sigma"]), (0.0, defaults["front_sigma"]))
    out[CORE_DEFAULTS] = {c: {"share": table[core_default][c][0], "dir": table[core_default][c][1:3],
                              "setting": (*core_default, None)} for c in clips}
    variants = (("prior (today)", (None,), lambda st: st[2] == 0),
                ("prior + faces, any size", (None,), lambda st: st[5] == 0),
                ("prior + faces, a min width in the grid", (None,), lambda st: True),
                ("prior + faces as the core has them (mass 1 per face)", (None,), lambda st: st[4] == "norm"),
                ("the default prior (0.5, 45) + faces as the core has them", (None,),
                 lambda st: st[4] == "norm" and st[:2] in default_prior),
                ("the default prior (0.5, 45) + faces, the min width held at the core's 5°", (None,),
                 lambda st: st[4] == "norm" and st[:2] in default_prior and st[5] in (defaults["face_min_width"], 0.0)),
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
        full = max(cands, key=lambda k: (round(float(np.mean([value(*k, x) for x in clips])), 9), -cands.index(k)))
        out[name + ": fitted on all ten"] = (full, float(np.mean([value(*full, x) for x in clips])))
    return out


def report(res: dict[str, Any]) -> str:
    front, best = res["front"], res["best"]
    clips = sorted(front)
    f, b = np.mean([front[c] for c in clips]), np.mean([best[c][0] for c in clips])
    lines = ["faces (yaw, pitch, width, score): " + "; ".join(
        f"{c}: " + ", ".join(f"({y:.0f}, {p:.0f}, {w:.1f}, {s:.2f})" for y, p, w, s in res["faces"][c]) for c in clips)]
    lines += [f"best fixed {c}: {100 * best[c][0]:.1f} at ({best[c][1]:.0f}, {best[c][2]:.0f})" for c in clips]
    for name in ("prior (today)", "prior + faces, any size", "prior + faces, a min width in the grid",
                 "prior + faces as the core has them (mass 1 per face)",
                 "the default prior (0.5, 45) + faces as the core has them",
                 "the default prior (0.5, 45) + faces, the min width held at the core's 5°", "prior + rule",
                 "prior + faces + rule",
                 CORE_DEFAULTS):
        held = res[name]
        v = np.mean([held[c]["share"] for c in clips])
        lines.append(f"{name}: held out {100 * v:.1f} (front {100 * f:.1f}, best fixed {100 * b:.1f}, "
                     f"{100 * (v - f) / (b - f):.0f}% of the gap); against the front: " +
                     " ".join(f"{c} {100 * (held[c]['share'] - front[c]):+.2f}" for c in clips))
        if name + ": fitted on all ten" in res:
            lines.append(f"    fitted on all ten: {res[name + ': fitted on all ten'][0]} "
                         f"({100 * res[name + ': fitted on all ten'][1]:.1f})")
        lines += [f"    {c}: {100 * held[c]['share']:.1f} at ({held[c]['dir'][0]:.0f}, {held[c]['dir'][1]:.0f}), "
                  f"chosen on the other 9 (w, sigma, k, fsig, mass, min width, tau): {held[c]['setting']}"
                  for c in clips]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data/pano360/avtrack360"))
    print(report(evaluate(ap.parse_args().data)))


if __name__ == "__main__":
    main()
