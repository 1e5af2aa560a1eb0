"""Benchmarks of the Ray scale-out (cluster.py): prints a Markdown section for BENCHMARKS.md.

    RAY_worker_niceness=0 .venv/bin/python benchmarks/bench_ray.py --out /tmp/bench_ray.md [--long-seconds 600]

(Ray starts its workers at nice 15; on a machine shared with other work that makes them yield to it, and the
comparison with the local CLI, which runs at nice 0, unfair. RAY_worker_niceness=0 keeps them level.)

1. A batch of 8 real clips: the local CLI one after another (`salcrop a b ... -o dir`) vs `reframe_many` on a
   local Ray runtime with 1 and 2 CPUs (one CPU per task: 1 and 2 workers).
2. Ray's overhead per task: 50 short clips (10 frames each), Ray with 2 workers vs the tasks' own time.
3. --split-shots on a long input (testvideo.mp4 looped to --long-seconds): one run on this machine vs split
   with 1 and 2 workers, and the first pass alone; the crop paths are checked equal.

Each Ray configuration runs in a fresh process (its own `ray.init(num_cpus=N)`), timed without Ray's start,
which is reported on its own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VIDEOS = REPO.parent / "shared" / "videos"
CLIPS = ["basketball.mp4", "bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4", "chaplin.mp4",
         "issue-134-rotate.mp4", "testvideo.mp4", "Megamind.avi"]
FFMPEG = REPO / "build" / "bin" / "ffmpeg"


def child(args: argparse.Namespace) -> None:
    """One Ray configuration in this process; prints a JSON line."""
    import ray

    from salcrop_filter import reframe_many

    t0 = time.monotonic()
    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
    init_s = time.monotonic() - t0
    t0 = time.monotonic()
    results = reframe_many(args.inputs, args.outdir, "9:16", task_cpus=1, split_shots=args.split,
                           segment_seconds=args.segment_seconds)
    wall = time.monotonic() - t0
    bad = [r.error for r in results if r.status != "done"]
    if bad:
        raise SystemExit(f"failed: {bad}")
    if args.paths:
        Path(args.paths).mkdir(parents=True, exist_ok=True)
        for r in results:
            r.path.save(Path(args.paths) / (r.input.stem + ".json"))
    print(json.dumps({"init_s": init_s, "wall_s": wall, "task_s": sum(r.seconds for r in results),
                      "frames": sum(r.frames for r in results), "segments": sum(r.segments for r in results),
                      "nodes": sorted({r.node for r in results})}))
    ray.shutdown()


def run_child(workers: int, inputs: list[Path], outdir: Path, split: bool = False, segment_seconds: float = 60,
              paths: Path | None = None) -> dict:
    shutil.rmtree(outdir, ignore_errors=True)
    cmd = [sys.executable, __file__, "--child", "--workers", str(workers), "--outdir", str(outdir),
           "--segment-seconds", str(segment_seconds)] + (["--split"] if split else []) + \
        (["--paths", str(paths)] if paths else []) + ["--inputs"] + [str(i) for i in inputs]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_local(inputs: list[Path], outdir: Path, paths: Path | None = None) -> float:
    shutil.rmtree(outdir, ignore_errors=True)
    cmd = [str(REPO / ".venv" / "bin" / "salcrop"), "-q"] + [str(i) for i in inputs] + ["-o", str(outdir) + "/"]
    if paths:
        cmd += ["--path", str(paths) + "/"]
    t0 = time.monotonic()
    subprocess.run(cmd, check=True)
    return time.monotonic() - t0


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--child", action="store_true")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--outdir")
    p.add_argument("--split", action="store_true")
    p.add_argument("--segment-seconds", type=float, default=60)
    p.add_argument("--paths")
    p.add_argument("--inputs", nargs="*")
    p.add_argument("--out", default="/dev/stdout")
    p.add_argument("--long-seconds", type=float, default=600)
    p.add_argument("--short-clips", type=int, default=50)
    args = p.parse_args()
    if args.child:
        child(args)
        return

    work = Path(tempfile.mkdtemp(prefix="bench_ray_"))
    lines = ["## Ray scale-out (`salcrop --ray`, `reframe_many`): benchmarks/bench_ray.py", ""]
    load = os.getloadavg()
    lines += [f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
              f"- Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical cores, "
              f"Linux {platform.release()}, Python {platform.python_version()}; no GPU; Ray "
              f"{__import__('ray').__version__}; load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
              f"- Command: `RAY_worker_niceness={os.environ.get('RAY_worker_niceness', '(15)')} "
              f".venv/bin/python benchmarks/bench_ray.py --long-seconds {args.long_seconds:g} "
              f"--short-clips {args.short_clips}`",
              "- Every task reserves 1 CPU (`task_cpus=1`, x264 with 1 thread); 'Ray N workers' is a local Ray "
              "runtime with `num_cpus=N`. Ray's start (`ray.init`) is not in the wall times; it is listed apart.",
              ""]

    # 1. batch of 8 clips
    clips = [VIDEOS / c for c in CLIPS]
    local_s = run_local(clips, work / "local")
    r1 = run_child(1, clips, work / "ray1")
    r2 = run_child(2, clips, work / "ray2")
    frames = r1["frames"]
    lines += [f"### A batch of 8 clips ({', '.join(CLIPS)}; {frames} frames)", "",
              "| run | wall s | frames/s | vs local | Ray start s |", "|---|---:|---:|---:|---:|",
              f"| local CLI, one after another | {local_s:.1f} | {frames / local_s:.0f} | 1.00 | - |",
              f"| Ray, 1 worker | {r1['wall_s']:.1f} | {frames / r1['wall_s']:.0f} | {local_s / r1['wall_s']:.2f} | "
              f"{r1['init_s']:.1f} |",
              f"| Ray, 2 workers | {r2['wall_s']:.1f} | {frames / r2['wall_s']:.0f} | {local_s / r2['wall_s']:.2f} | "
              f"{r2['init_s']:.1f} |", ""]
    print("\n".join(lines), file=sys.stderr)

    # 2. overhead per task: 50 clips of 10 frames
    short = work / "short"
    short.mkdir()
    subprocess.run([str(FFMPEG), "-v", "error", "-i", str(VIDEOS / "carphone_pristine.mp4"), "-frames:v", "10",
                    "-c:v", "libx264", "-preset", "veryfast", str(short / "clip00.mp4")], check=True)
    for k in range(1, args.short_clips):
        shutil.copy(short / "clip00.mp4", short / f"clip{k:02d}.mp4")
    inputs = sorted(short.glob("clip*.mp4"))
    local_short = run_local(inputs, work / "local_short")
    rs = run_child(2, inputs, work / "ray_short")
    n = len(inputs)
    per_task = rs["task_s"] / n
    overhead = (rs["wall_s"] * 2 - rs["task_s"]) / n
    lines += [f"### Overhead per task: {n} clips of 10 frames (176x144)", "",
              "| run | wall s | per clip s |", "|---|---:|---:|",
              f"| local CLI, one after another | {local_short:.1f} | {local_short / n:.3f} |",
              f"| Ray, 2 workers | {rs['wall_s']:.1f} | {rs['wall_s'] / n:.3f} |",
              f"| a task's own time (reframe inside the worker) | {rs['task_s']:.1f} (sum) | {per_task:.3f} |", "",
              f"**Ray's overhead per task: {overhead:.3f} s of a worker** (2 x wall - the tasks' own time, over "
              f"{n} tasks: start, scheduling, arguments and result, the progress reports, the sidecar record).", ""]
    print("\n".join(lines), file=sys.stderr)

    # 3. split-shots on a long input
    src = VIDEOS / "testvideo.mp4"
    loops = max(1, round(args.long_seconds / 24.0))
    long_in = work / "long.mp4"
    subprocess.run([str(FFMPEG), "-v", "error", "-stream_loop", str(loops - 1), "-i", str(src), "-map", "0:v:0",
                    "-c", "copy", str(long_in)], check=True)
    from salcrop_filter.shot_segments import first_pass

    t0 = time.monotonic()
    schedule = first_pass(long_in)
    pass_s = time.monotonic() - t0
    nframes = len(schedule.frames)
    local_long = run_local([long_in], work / "local_long", paths=work / "p_local")
    s1 = run_child(1, [long_in], work / "split1", split=True, paths=work / "p1")
    s2 = run_child(2, [long_in], work / "split2", split=True, paths=work / "p2")
    ref = json.loads((work / "p_local" / "long.json").read_text())
    same = all(json.loads((work / d / "long.json").read_text()) == ref for d in ("p1", "p2"))
    minutes = nframes / schedule.fps / 60
    lines += [f"### `--split-shots` on a {minutes:.1f}-minute input (testvideo.mp4 x {loops}, 1280x720, {nframes} "
              f"frames, {len(schedule.cuts)} shots -> {s1['segments']} segments of >= 60 s)", "",
              "| run | wall s | frames/s | vs one run |", "|---|---:|---:|---:|",
              f"| one run on this machine (`salcrop long.mp4 -o dir/`) | {local_long:.1f} | {nframes / local_long:.0f} "
              f"| 1.00 |",
              f"| split, Ray 1 worker | {s1['wall_s']:.1f} | {nframes / s1['wall_s']:.0f} | "
              f"{local_long / s1['wall_s']:.2f} |",
              f"| split, Ray 2 workers | {s2['wall_s']:.1f} | {nframes / s2['wall_s']:.0f} | "
              f"{local_long / s2['wall_s']:.2f} |",
              f"| the first pass alone (decode + shot detector + sampling rule) | {pass_s:.1f} | "
              f"{nframes / pass_s:.0f} | - |", "",
              f"Crop paths of both split runs equal the one run's: **{same}**.", ""]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines), file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
