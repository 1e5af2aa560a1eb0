#!/usr/bin/env python3
"""The 360° view's steadiness on the real 360° clips (issue 28): the real ffmpeg with the real filter, each clip
with `speakers=off` (the view without faces, the default until stop 35) and with the defaults, side by side.

Per run: frames in (ffprobe) and out (`-f framemd5`, whose lines also carry the pts: compared with the input's),
the yaw range, the yaw's speed (mean and 95th percentile of |yaw change| per frame: a deliberate move counts here
in full, its length spread over the clip), its shake (mean and 95th percentile of |second difference| per frame:
the accelerations; a steady pan and a held view give 0), the same shake for the pitch, reversals (sign changes of
the yaw's velocity), the share of frames whose view moves, and the CPU of the whole ffmpeg run (user + sys of the
child). Within a shot only (the path's `shot`), and not across the view's own cuts (segments of mode `cut`: a far
turn made as an editor's cut, since stop 36), which are counted apart. Angles in degrees; the planner's yaw moves
in steps of 0.1°.

    python benchmarks/pano_clips.py [--ffmpeg build/bin/ffmpeg] [--clips DIR] [--keep DIR]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from salcrop_filter.spherepath import SpherePath

REPO = Path(__file__).resolve().parents[1]
CLIPS = REPO.parent / "shared" / "data" / "pano360" / "videos"
VIEW = "projection=equirect:ratio=16/9:fov=90"


def input_times(ffprobe: Path, clip: Path) -> list[float]:
    """The decoded frames' timestamps in seconds, rounded to the microsecond."""
    out = subprocess.run([str(ffprobe), "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time",
                          "-of", "csv=p=0", str(clip)], capture_output=True, text=True, check=True).stdout
    return [round(float(v.strip(",")), 6) for v in out.split()]


def run_filter(ffmpeg: Path, clip: Path, options: str, path_json: Path) -> tuple[list[float], float]:
    """Runs the filter with its path written out; returns the output frames' timestamps (seconds, rounded to the
    microsecond, from framemd5's pts and time base) and the run's CPU seconds."""
    cmd = [str(ffmpeg), "-nostdin", "-v", "error", "-y", "-i", str(clip), "-vf",
           f"salcrop={VIEW}{options}:path={path_json}", "-an", "-fps_mode", "passthrough", "-f", "framemd5", "-"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"{clip.name}: ffmpeg failed: {proc.stderr.strip()}")
    out = proc.stdout
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    tb = next(line.split(":")[1].strip() for line in out.splitlines() if line.startswith("#tb 0:"))
    num, den = (int(v) for v in tb.split("/"))
    times = [round(int(line.split(",")[2]) * num / den, 6) for line in out.splitlines()
             if line and not line.startswith("#")]
    return times, cpu


def steadiness(path_json: Path) -> dict[str, float]:
    path = SpherePath.from_json(path_json.read_text())
    frames = path.frames
    yaw = np.degrees(np.unwrap(np.radians([f.yaw for f in frames])))
    pitch = np.array([f.pitch for f in frames], dtype=np.float64)
    # Runs without a cut: a shot, split again at the view's own cuts.
    cuts = path.view_cuts()
    run = np.array([f.shot for f in frames]) * (len(frames) + 1)
    for c in cuts:
        run[c:] += 1
    same1 = run[1:] == run[:-1]
    same2 = same1[1:] & same1[:-1]
    speed = np.abs(np.diff(yaw))[same1]
    shake = np.abs(np.diff(yaw, 2))[same2]
    pitch_shake = np.abs(np.diff(pitch, 2))[same2]
    v = np.diff(yaw)[same1]
    signs = np.sign(v[np.abs(v) > 1e-9])
    return dict(frames=len(frames), cuts=len(cuts), yaw_min=float(yaw.min()), yaw_max=float(yaw.max()),
                speed_mean=float(speed.mean()), speed_p95=float(np.percentile(speed, 95)),
                shake_mean=float(shake.mean()), shake_p95=float(np.percentile(shake, 95)),
                pitch_shake_mean=float(pitch_shake.mean()), reversals=int((signs[1:] != signs[:-1]).sum()),
                moving=float((np.abs(np.diff(yaw)) + np.abs(np.diff(pitch)) > 1e-9).mean()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ffmpeg", type=Path, default=REPO / "build" / "bin" / "ffmpeg")
    ap.add_argument("--clips", type=Path, default=CLIPS)
    ap.add_argument("--keep", type=Path, help="write the path JSONs here (default: a temporary folder)")
    args = ap.parse_args()
    ffprobe = args.ffmpeg.with_name("ffprobe")
    clips = sorted(args.clips.glob("*.mp4"))
    if not clips:
        raise SystemExit(f"no .mp4 in {args.clips}")
    with tempfile.TemporaryDirectory() as tmp:
        out_dir = args.keep or Path(tmp)
        out_dir.mkdir(parents=True, exist_ok=True)
        print("| clip | run | frames in / out, pts | yaw range | yaw speed mean / p95 | yaw shake mean / p95 | "
              "pitch shake mean | reversals | cuts | frames that move | CPU s |")
        print("|---|---|---|---|---|---|---|---:|---:|---:|---:|")
        for clip in clips:
            pts_in = input_times(ffprobe, clip)
            for run, options in (("off", ":speakers=off"), ("default", "")):
                path_json = out_dir / f"{clip.stem}.{run}.json"
                pts_out, cpu = run_filter(args.ffmpeg, clip, options, path_json)
                s = steadiness(path_json)
                same = "equal" if pts_out == pts_in else "DIFFER"
                print(f"| {clip.stem} | {run} | {len(pts_in)} / {len(pts_out)}, {same} | "
                      f"{s['yaw_min']:.1f} .. {s['yaw_max']:.1f} | {s['speed_mean']:.3f} / {s['speed_p95']:.2f} | "
                      f"{s['shake_mean']:.4f} / {s['shake_p95']:.2f} | {s['pitch_shake_mean']:.4f} | "
                      f"{s['reversals']} | {s['cuts']} | {100 * s['moving']:.1f}% | {cpu:.2f} |")


if __name__ == "__main__":
    main()
