"""360° evaluation on AVTrack360 (../shared/data/pano360/avtrack360): where the view points on each still, scored
by the share of 48 viewers' head samples inside it, against a fixed front view and the best fixed direction
chosen with the answers.

Two ways to get a saliency map of the sphere from the flat model (issues 22, 28):

- ``seam``: the equirect frame with its seam wrapped around on both sides (what the core runs, sphere.h), the
  padding cut off the map, cells weighted by cos latitude;
- ``tangent``: eight perspective views around the horizon (fov 90, 16:9, every 45°) and four looking up and down,
  each map projected back onto the same sphere grid and averaged where views overlap.

Each map is raised to a power (contrast) and blended with the front prior (front_weight, front_sigma; sphere.h);
the direction is what the core's planner picks for a still (``_core.plan_sphere`` on the map repeated). The
settings (method x weight x sigma x contrast) are chosen leave-one-scene-out: for each still, the setting with
the best mean share on the other nine is scored on it (issue 28; issue 22 tuned on five and reported on five).
A still has no motion, so the core's motion term (moving saliency counted again, sphere.h) is zero here: the
stills fit the prior; the synthetic clip (pano_synthetic) and the real clips (--clips) check the motion term.

    python -m salcrop_filter.evaluation.pano [--data DIR] [--json out.json] [--clips DIR]
"""
from __future__ import annotations

import argparse
import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

METHODS = ("seam", "tangent")
WEIGHTS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7)
SIGMAS = (30.0, 45.0, 60.0, 90.0)
CONTRASTS = (1.0, 1.5, 2.0, 3.0, 4.0)
RATIO, FOV = "16:9", 90.0
EQ_W, EQ_H = 960, 480  # the stills are resized to this before anything (the network sees ~170x112 anyway)


def _core() -> Any:
    from .. import _core as core

    return core


@dataclass
class Still:
    clip: int
    rgb: np.ndarray          # EQ_H x EQ_W x 3
    yaw: np.ndarray          # viewers' head samples, degrees, positive right
    pitch: np.ndarray        # positive up


def equirect_of_still(img: np.ndarray) -> np.ndarray:
    """The 2:1 equirect frame inside a still (3840x2160 with black bars above and below). The rows that are not
    black where that gives 2:1 (within 2%); else (a dark scene whose sky or ground is black too, or no bars found:
    stills 2, 4, 7, 13) the frame's height of rows centred. Until issue 28's round 2 the non-black rows were taken
    always, which stretched those four stills vertically (13: rows 666-1686 of 2160)."""
    h, w = img.shape[:2]
    rows = np.nonzero(img.mean(axis=(1, 2)) > 4)[0]
    if len(rows) and abs(w / (rows[-1] - rows[0] + 1) - 2.0) <= 0.04:
        return img[rows[0]:rows[-1] + 1]
    top = (h - w // 2) // 2
    return img[top:top + w // 2]


def load_stills(data: Path) -> list[Still]:
    heads: dict[int, list[tuple[float, float]]] = {}
    with open(data / "head.csv", newline="") as f:
        for row in csv.DictReader(f):
            # The dataset's pitch is negative when the head pitches up; ours is positive up.
            heads.setdefault(int(row["clip"]), []).append((float(row["yaw"]), -float(row["pitch"])))
    out = []
    for clip in sorted(heads):
        eq = equirect_of_still(np.asarray(Image.open(data / "images" / f"{clip}.jpg").convert("RGB")))
        eq = np.asarray(Image.fromarray(eq).resize((EQ_W, EQ_H), Image.BILINEAR))
        h = np.array(heads[clip], dtype=np.float32)
        out.append(Still(clip, eq, h[:, 0], h[:, 1]))
    return out


def raw_maps(still: Still, runner: Any) -> dict[str, tuple[np.ndarray, int]]:
    """Per method, the network's map and how many map columns of it are seam padding."""
    core = _core()
    _, in_w = runner.input_size  # (height, width)
    map_w = runner.map_size[1]
    map_pad, in_pad, core_map, core_in = core.seam_padding(in_w, map_w)
    pad_px = round(EQ_W * in_pad / core_in)
    padded = np.concatenate([still.rgb[:, -pad_px:], still.rgb, still.rgb[:, :pad_px]], axis=1)
    seam = runner.predict(np.ascontiguousarray(padded[None]), reset=True)[0]
    plain = runner.predict(np.ascontiguousarray(still.rgb[None]), reset=True)[0]
    return {"seam": (seam, map_pad), "plain": (plain, 0), "tangent": (tangent_map(still, runner, core_map), 0)}


def tangent_map(still: Still, runner: Any, core_map: int) -> np.ndarray:
    """Perspective views' maps merged back onto a map_h x core_map sphere grid (the seam method's grid)."""
    core = _core()
    map_h, map_w = runner.map_size
    vw, vh = 400, 224
    views = [(float(y), 0.0) for y in range(-180, 180, 45)] + [(0.0, 60.0), (0.0, -60.0), (180.0, 60.0),
                                                              (180.0, -60.0)]
    lat = 90.0 - (np.arange(map_h) + 0.5) * 180.0 / map_h
    lon = (np.arange(core_map) + 0.5) * 360.0 / core_map - 180.0
    LON, LAT = np.meshgrid(lon, lat)
    d = np.stack([np.cos(np.radians(LAT)) * np.sin(np.radians(LON)), np.sin(np.radians(LAT)),
                  np.cos(np.radians(LAT)) * np.cos(np.radians(LON))], axis=-1)
    acc = np.zeros((map_h, core_map))
    cnt = np.zeros((map_h, core_map))
    f = 1.0 / math.tan(math.radians(FOV / 2))  # normalised focal length (half-width 1)
    for yaw, pitch in views:
        view = core.render_equirect_view(still.rgb, yaw, pitch, FOV, vw, vh)
        m = runner.predict(view[None], reset=True)[0]
        # Into the view's camera frame (inverse rotation: yaw, then pitch).
        a, b = math.radians(-yaw), math.radians(-pitch)
        x1 = d[..., 0] * math.cos(a) + d[..., 2] * math.sin(a)
        z1 = -d[..., 0] * math.sin(a) + d[..., 2] * math.cos(a)
        y2 = d[..., 1] * math.cos(b) + z1 * math.sin(b)
        z2 = -d[..., 1] * math.sin(b) + z1 * math.cos(b)
        with np.errstate(divide="ignore", invalid="ignore"):
            px = x1 / z2 * f          # -1..1 across the view
            py = -y2 / z2 * f * 16 / 9  # -1..1 down the view
        ok = (z2 > 0) & (np.abs(px) <= 1) & (np.abs(py) <= 1)
        mx = np.clip((px + 1) / 2 * map_w - 0.5, 0, map_w - 1)
        my = np.clip((py + 1) / 2 * map_h - 0.5, 0, map_h - 1)
        x0, y0 = np.floor(mx).astype(int), np.floor(my).astype(int)
        x1i, y1i = np.minimum(x0 + 1, map_w - 1), np.minimum(y0 + 1, map_h - 1)
        fx, fy = mx - x0, my - y0
        v = ((1 - fy) * ((1 - fx) * m[y0, x0] + fx * m[y0, x1i]) + fy * ((1 - fx) * m[y1i, x0] + fx * m[y1i, x1i]))
        v = v / max(float(m.sum()), 1e-9)  # each view's map as a distribution: views are compared fairly
        acc[ok] += v[ok]
        cnt[ok] += 1
    return (acc / np.maximum(cnt, 1)).astype(np.float32)


def score(still: Still, yaw: float, pitch: float, geo: dict[str, float]) -> float:
    inside = _core().in_view(still.yaw, still.pitch, yaw, pitch, geo["fov"], geo["vfov"])
    return float(np.mean(inside))


def best_fixed(still: Still, geo: dict[str, float]) -> tuple[float, float, float]:
    best = (-1.0, 0.0, 0.0)
    lim = geo["pitch_limit"]
    for yaw in range(-180, 180, 5):
        for pitch in np.arange(-math.floor(lim / 5) * 5, lim + 1e-9, 5):
            s = score(still, float(yaw), float(pitch), geo)
            if s > best[0]:
                best = (s, float(yaw), float(pitch))
    return best


def planned_direction(raw: np.ndarray, map_pad: int, weight: float, sigma: float,
                      contrast: float = 1.0) -> tuple[float, float]:
    core = _core()
    sm = core.sphere_map(raw, map_pad, weight, sigma, contrast)
    maps = np.repeat(sm[None], 10, axis=0)
    yaw, pitch = core.plan_sphere(maps, 10.0, RATIO, FOV, "stationary", 0.5, EQ_W, EQ_H)
    return float(((yaw[0] + 180) % 360) - 180), float(pitch[0])


Setting = tuple[str, float, float, float]  # method, front weight, front sigma, contrast


def settings() -> list[Setting]:
    out = []
    for method in METHODS:
        for c in CONTRASTS:
            out.append((method, 0.0, SIGMAS[0], c))
            out += [(method, w, sg, c) for w in WEIGHTS if w > 0 for sg in SIGMAS]
    return out


def evaluate(data: Path) -> dict[str, Any]:
    """Every setting scored on every still once; then leave-one-scene-out: for each still the setting with the best
    mean share on the other nine (method and prior together; and per method, to compare the methods held out)."""
    core = _core()
    runner = core.SaliencyRunner()
    geo = core.view_geometry(EQ_W, EQ_H, RATIO, FOV)
    stills = load_stills(data)
    raws = {s.clip: raw_maps(s, runner) for s in stills}
    base = {}
    for s in stills:
        best = best_fixed(s, geo)
        base[s.clip] = {"front": score(s, 0.0, 0.0, geo), "best_fixed": best[0], "best_dir": best[1:]}
    table: dict[Setting, dict[int, tuple[float, float, float]]] = {}
    for st in settings():
        method, w, sg, c = st
        table[st] = {}
        for s in stills:
            y, p = planned_direction(*raws[s.clip][method], w, sg, c)
            table[st][s.clip] = (score(s, y, p, geo), y, p)
    clips = [s.clip for s in stills]

    def pick(candidates: list[Setting], train: list[int]) -> Setting:
        # Best mean share on the training scenes; ties to the earlier (smaller) setting in the grid's order.
        return max(candidates, key=lambda st: (round(float(np.mean([table[st][c][0] for c in train])), 9),
                                                -candidates.index(st)))

    every = list(table)
    per_method = {m: [st for st in every if st[0] == m] for m in METHODS}
    loso: dict[str, dict[int, Any]] = {"all": {}, **{m: {} for m in METHODS}}
    for held in clips:
        train = [c for c in clips if c != held]
        for name, cands in (("all", every), *per_method.items()):
            st = pick(cands, train)
            sc, y, p = table[st][held]
            loso[name][held] = {"setting": st, "share": sc, "dir": (round(y, 1), round(p, 1))}
    fit_all = pick(every, clips)
    no_prior = {m: {c: table[(m, 0.0, SIGMAS[0], 1.0)][c][0] for c in clips} for m in METHODS}
    return {"geometry": geo, "base": base, "loso": loso, "no_prior": no_prior,
            "fit_all": {"setting": fit_all, "mean": float(np.mean([table[fit_all][c][0] for c in clips]))},
            "default_now": {c: table[("seam", 0.5, 30.0, 1.0)][c][0] for c in clips}}


def front_ratio(sm: np.ndarray, hfov: float = FOV) -> float:
    """How much more of the map the best yaw's view column band holds than the front's (yaw steps of 5°)."""
    mh, mw = sm.shape
    cols = sm.sum(axis=0)
    lon = (np.arange(mw) + 0.5) * 360.0 / mw - 180.0
    mass = [cols[np.abs((lon - y + 180.0) % 360.0 - 180.0) <= hfov / 2].sum() for y in range(-180, 180, 5)]
    return float(max(mass) / max(mass[36], 1e-9))  # index 36: yaw 0


GATE_TAUS = (1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.5, 3.0, 99.0)


def evaluate_gate(data: Path) -> dict[str, Any]:
    """A gated prior (tried for issue 28, not adopted): a weak front weight when the best direction's view holds
    tau times the front view's share of the (contrast-raised) map, a strong one otherwise; leave-one-scene-out
    over method x tau x weak {0, .05, .1, .2, .3} x strong {.5, .7, .9} x sigma {30, 45} x contrast {1, 2}."""
    core = _core()
    runner = core.SaliencyRunner()
    geo = core.view_geometry(EQ_W, EQ_H, RATIO, FOV)
    stills = load_stills(data)
    raws = {s.clip: raw_maps(s, runner) for s in stills}
    grid = [(m, tau, lo, hi, sg, k) for m in METHODS for tau in GATE_TAUS for lo in (0.0, 0.05, 0.1, 0.2, 0.3)
            for hi in (0.5, 0.7, 0.9) for sg in (30.0, 45.0) for k in (1.0, 2.0)]
    ratios = {(m, s.clip, k): front_ratio(core.sphere_map(*raws[s.clip][m], 0.0, 30.0, k))
              for m in METHODS for s in stills for k in (1.0, 2.0)}
    table = {}
    for st in grid:
        m, tau, lo, hi, sg, k = st
        table[st] = {}
        for s in stills:
            w = lo if ratios[(m, s.clip, k)] >= tau else hi
            y, p = planned_direction(*raws[s.clip][m], w, sg, k)
            table[st][s.clip] = score(s, y, p, geo)
    clips = [s.clip for s in stills]
    out: dict[str, Any] = {"ratios": {f"{m} contrast={k:g} scene {c}": round(r, 2) for (m, c, k), r in ratios.items()}}
    for name in (*METHODS, "both"):
        cands = [st for st in grid if name == "both" or st[0] == name]
        held = {}
        for c in clips:
            train = [x for x in clips if x != c]
            st = max(cands, key=lambda st: (round(float(np.mean([table[st][x] for x in train])), 9),
                                            -cands.index(st)))
            held[c] = table[st][c]
        out[name] = {"mean": float(np.mean(list(held.values()))), "per_scene": held}
    return out


def gap_closed(view: float, front: float, best: float) -> float:
    return (view - front) / (best - front) if best - front > 1e-9 else float("nan")


def report(res: dict[str, Any]) -> str:
    base, loso = res["base"], res["loso"]
    clips = sorted(base)
    lines = ["| scene | front | best fixed (dir) | issue 22 default | LOSO view | gap closed | setting chosen on the other 9 "
             "| LOSO seam | LOSO tangent | seam, no prior | tangent, no prior |", "|---" * 11 + "|"]
    for c in clips:
        b, r = base[c], loso["all"][c]
        m, w, sg, k = r["setting"]
        lines.append(
            f"| {c} | {100 * b['front']:.1f} | {100 * b['best_fixed']:.1f} ({b['best_dir'][0]:.0f}, "
            f"{b['best_dir'][1]:.0f}) | {100 * res['default_now'][c]:.1f} | {100 * r['share']:.1f} {r['dir']} | "
            f"{100 * gap_closed(r['share'], b['front'], b['best_fixed']):.0f}% | {m} w={w} sigma={sg:g} contrast={k:g} | "
            f"{100 * loso['seam'][c]['share']:.1f} | {100 * loso['tangent'][c]['share']:.1f} | "
            f"{100 * res['no_prior']['seam'][c]:.1f} | {100 * res['no_prior']['tangent'][c]:.1f} |")
    mean = lambda xs: float(np.mean(list(xs)))  # noqa: E731
    f, bf = mean(base[c]["front"] for c in clips), mean(base[c]["best_fixed"] for c in clips)
    v = mean(loso["all"][c]["share"] for c in clips)
    lines.append(f"| mean | {100 * f:.1f} | {100 * bf:.1f} | {100 * mean(res['default_now'].values()):.1f} | "
                 f"{100 * v:.1f} | {100 * gap_closed(v, f, bf):.0f}% (of the mean gap) | | "
                 f"{100 * mean(loso['seam'][c]['share'] for c in clips):.1f} | "
                 f"{100 * mean(loso['tangent'][c]['share'] for c in clips):.1f} | "
                 f"{100 * mean(res['no_prior']['seam'].values()):.1f} | "
                 f"{100 * mean(res['no_prior']['tangent'].values()):.1f} |")
    per = [gap_closed(loso["all"][c]["share"], base[c]["front"], base[c]["best_fixed"]) for c in clips]
    worst = min(clips, key=lambda c: loso["all"][c]["share"] - base[c]["front"])
    lines.append("")
    lines.append(f"mean of the per-scene gap closed: {100 * float(np.nanmean(per)):.0f}%; worst scene against the front: "
                 f"{worst} ({100 * (loso['all'][worst]['share'] - base[worst]['front']):+.1f} points); "
                 f"fitted on all ten (the default): {res['fit_all']['setting']} mean {100 * res['fit_all']['mean']:.1f}")
    return "\n".join(lines)


def yaw_wobble(yaw: np.ndarray, fps: float) -> float:
    """Mean |yaw - its 1 s centred mean| in degrees: the path's high frequencies (a deliberate pan is not wobble)."""
    k = max(1, int(round(fps)) | 1)
    smooth = np.convolve(np.pad(yaw, k // 2, mode="edge"), np.ones(k) / k, mode="valid")
    return float(np.mean(np.abs(yaw - smooth)))


def clip_steadiness(videos: Path, out_dir: Path) -> list[dict[str, Any]]:
    """Each real equirect clip through reframe (16:9, fov 90, defaults): frame counts in and out, and the view's
    jitter: mean and 95th percentile of |change| per frame, and the share of frames that move at all."""
    import av

    from ..pipeline import reframe

    rows = []
    for clip in sorted(videos.glob("*.mp4")):
        out = out_dir / f"{clip.stem}.view.mp4"
        path = reframe(clip, out, "16:9", projection="equirect", fov=FOV)
        yaw = np.degrees(np.unwrap(np.radians([f.yaw for f in path.frames])))
        pitch = np.array([f.pitch for f in path.frames])
        dy, dp = np.abs(np.diff(yaw)), np.abs(np.diff(pitch))
        with av.open(str(clip)) as a, av.open(str(out)) as b:
            # Timestamps in seconds (the output's time base may differ from the input's).
            t_in = [float(f.pts * f.time_base) for f in a.decode(video=0)]
            t_out = [float(f.pts * f.time_base) for f in b.decode(video=0)]
        n_in, n_out = len(t_in), len(t_out)
        same_times = n_in == n_out and all(abs(x - y) < 1e-3 for x, y in zip(t_in, t_out))
        rows.append({"clip": clip.name, "frames_in": n_in, "frames_out": n_out, "timestamps_kept": same_times,
                     "sign_changes_of_yaw_velocity": int(np.count_nonzero(np.diff(np.sign(
                         np.diff(yaw)[np.abs(np.diff(yaw)) > 1e-6])))),
                     "yaw_jitter_mean": float(dy.mean()), "yaw_jitter_p95": float(np.percentile(dy, 95)),
                     "pitch_jitter_mean": float(dp.mean()), "pitch_jitter_p95": float(np.percentile(dp, 95)),
                     "moving_share": float(np.mean((dy > 1e-6) | (dp > 1e-6))),
                     "yaw_wobble": yaw_wobble(yaw, float(path.source["fps"])),
                     "yaw_range": (float(yaw.min()), float(yaw.max()))})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=Path, help="also run the real equirect clips in this folder (steadiness)")
    ap.add_argument("--data", type=Path, default=Path("../shared/data/pano360/avtrack360"),
                    help="the AVTrack360 folder (default: from the repository root)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--gate", action="store_true", help="also the gated prior tried and not adopted (issue 28)")
    a = ap.parse_args()
    if a.clips:
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            for row in clip_steadiness(a.clips, Path(d)):
                print(json.dumps(row))
    res = evaluate(a.data)
    print(report(res))
    if a.gate:
        gate = evaluate_gate(a.data)
        res["gate"] = gate
        print("gated prior, leave-one-scene-out mean:",
              ", ".join(f"{k} {100 * gate[k]['mean']:.1f}%" for k in (*METHODS, "both")))
        print("front ratios:", gate["ratios"])
    if a.json:
        a.json.write_text(json.dumps(res, indent=1, default=str))


if __name__ == "__main__":
    main()
