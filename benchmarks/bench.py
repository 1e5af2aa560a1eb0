#!/usr/bin/env python3
"""Side-by-side speed of salcrop, measured on a real clip (not a test: it reports, it does not judge).

1. FFmpeg end to end: ``-vf salcrop=ratio=9/16`` against ``-vf crop=W:H`` (the same output size) with the
   same decoder, encoder and settings, run alternately A B A B ... in one process so that machine load
   drifts hit both equally; the median wall-time ratio salcrop/crop is the headline number. Optionally the
   same at every stride of a sweep, to show which stride reaches a target ratio, and on the clip played
   several times over (``-stream_loop``, copied, not re-encoded): a longer video spreads the fixed costs, the
   model's loading and the lookahead's start and end, over more frames.
2. The core alone: frames pre-decoded to YUV 4:2:0 arrays with PyAV (decode excluded), then timed through
   ``_core.Engine`` push/pop at several strides.
3. The model alone: ``_core.SaliencyRunner`` on frames already at the model's input size, at 1 and 2 threads,
   for the model the filter loaded and, beside it, the other precision (the float ``salcrop.onnx`` and the 8-bit
   ``salcrop-int8.onnx`` that the core prefers on the CPU).

Peak RSS of every FFmpeg run comes from ``os.wait4`` (the child's own ``ru_maxrss``).

Usage::

    python benchmarks/bench.py [--clip ../shared/videos/testvideo.mp4] [--repeats 5] [--out BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from salcrop_filter.checksums import file_sha256
from salcrop_filter.evaluation.crop import machine_line

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CLIP = REPO.parent / "shared" / "videos" / "testvideo.mp4"
#: A second 720p clip whose picture keeps moving: the model then runs every `stride` frames throughout, where on
#: testvideo.mp4 (mostly still) it runs every 0.5 s for long stretches.
DEFAULT_MOTION_CLIP = REPO.parent / "shared" / "videos" / "bigbuckbunny.mp4"
DEFAULT_FFMPEG = REPO / "build" / "bin" / "ffmpeg"
TARGET_RATIO = 1.3


@dataclass
class RunResult:
    """One timed child process."""

    wall_s: float
    max_rss_kib: int
    cpu_s: float  # user + system time of the child and its threads


def load_line() -> str:
    """The 1/5/15-minute load averages: other work on the machine shows up here."""
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def run_timed(cmd: list[str]) -> RunResult:
    """Runs ``cmd`` to completion; wall time, CPU time and the child's peak resident set size.

    ``os.wait4`` reports the rusage of exactly this child, unlike ``RUSAGE_CHILDREN`` which
    accumulates the maximum over every child ever waited for.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"command failed ({proc.returncode}): {shlex.join(cmd)}\n"
                           f"{err.decode(errors='replace')[-2000:]}")
    return RunResult(wall, int(usage.ru_maxrss), usage.ru_utime + usage.ru_stime)


def ffmpeg_cmd(ffmpeg: Path, clip: Path, vf: str, out: Path) -> list[str]:
    """Identical decode/encode settings for every variant; only the filter differs."""
    return [str(ffmpeg), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(clip),
            "-vf", vf, "-c:v", "libx264", "-preset", "veryfast", "-an", "-f", "mp4", str(out)]


def probe_size(ffmpeg: Path, path: Path) -> tuple[int, int]:
    """Width and height of the first video stream, via the ffprobe beside ``ffmpeg``."""
    ffprobe = ffmpeg.with_name("ffprobe")
    out = subprocess.run([str(ffprobe), "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=width,height", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True).stdout.strip()
    w, h = out.split(",")[:2]
    return int(w), int(h)


def salcrop_filter_args(model: str) -> str:
    """The salcrop filter under test: ratio 9/16, the given model (default: the filter's own default)."""
    return "salcrop=ratio=9/16" + (f":model={model}" if model else "")


def salcrop_describe(ffmpeg: Path, clip: Path, tmp: Path, model: str) -> tuple[str, tuple[int, int]]:
    """The filter's own description line (provider, model, stride, ...) and its output size, from a 5-frame run."""
    out = tmp / "probe.mp4"
    cmd = [str(ffmpeg), "-nostdin", "-hide_banner", "-loglevel", "info", "-y", "-i", str(clip), "-frames:v", "5",
           "-vf", salcrop_filter_args(model), "-c:v", "libx264", "-preset", "veryfast", "-an", "-f", "mp4", str(out)]
    log = subprocess.run(cmd, capture_output=True, text=True, check=True).stderr
    line = next((ln for ln in log.splitlines() if "salcrop" in ln and " stride " in ln), "")
    if not line:
        raise RuntimeError("the salcrop filter did not log its description (stride) at info level")
    return line.split("] ", 1)[-1].strip(), probe_size(ffmpeg, out)


def ab_compare(ffmpeg: Path, clip: Path, vf_a: str, vf_b: str, repeats: int, tmp: Path,
               warmup: bool = True) -> tuple[list[RunResult], list[RunResult]]:
    """Runs A B A B ... ``repeats`` times each (after one untimed warm-up pair)."""
    out_a, out_b = tmp / "a.mp4", tmp / "b.mp4"
    cmd_a = ffmpeg_cmd(ffmpeg, clip, vf_a, out_a)
    cmd_b = ffmpeg_cmd(ffmpeg, clip, vf_b, out_b)
    if warmup:  # page cache, model file, dynamic loader: not what we measure
        run_timed(cmd_a)
        run_timed(cmd_b)
    a: list[RunResult] = []
    b: list[RunResult] = []
    for _ in range(repeats):
        a.append(run_timed(cmd_a))
        b.append(run_timed(cmd_b))
    return a, b


def ab_table(variants: tuple[tuple[str, list[RunResult]], ...]) -> list[str]:
    """Markdown rows: wall-time median, min and max, median CPU time and the peak RSS of each (name, runs)."""
    rows = ["| variant | median wall s | min s | max s | median CPU s | peak RSS MiB |", "|---|---:|---:|---:|---:|---:|"]
    for name, rs in variants:
        ws = [r.wall_s for r in rs]
        rows.append(f"| {name} | {statistics.median(ws):.2f} | {min(ws):.2f} | {max(ws):.2f} | "
                    f"{statistics.median(r.cpu_s for r in rs):.2f} | {max(r.max_rss_kib for r in rs) / 1024:.0f} |")
    return rows


def median_ratio(a: list[RunResult], b: list[RunResult]) -> float:
    """Median of the per-pair ratios A/B (pairs ran back to back, so they share machine conditions)."""
    return statistics.median(x.wall_s / y.wall_s for x, y in zip(a, b))


def cpu_ratio(a: list[RunResult], b: list[RunResult]) -> float:
    """Median of the per-pair CPU-time ratios A/B: what salcrop costs a busy machine, and less sensitive to
    other tenants' load than wall time (which also pays for every core another job takes)."""
    return statistics.median(x.cpu_s / y.cpu_s for x, y in zip(a, b))


def decode_yuv(clip: Path, max_frames: int) -> tuple[list[tuple[np.ndarray, np.ndarray, np.ndarray]], float, int, int]:
    """First ``max_frames`` frames of ``clip`` as yuv420p plane arrays (decode is not part of the timing)."""
    import av

    planes = []
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 25)
        width, height = stream.codec_context.width, stream.codec_context.height
        for frame in container.decode(stream):
            arr = frame.to_ndarray(format="yuv420p")  # (H * 3/2) x W, planes stacked
            h = frame.height
            y = np.ascontiguousarray(arr[:h])
            u = np.ascontiguousarray(arr[h:h + h // 4].reshape(h // 2, frame.width // 2))
            v = np.ascontiguousarray(arr[h + h // 4:].reshape(h // 2, frame.width // 2))
            planes.append((y, u, v))
            if len(planes) >= max_frames:
                break
    return planes, fps, width, height


def core_fps(planes, fps: float, width: int, height: int, stride: int, threads: int,
             model: str) -> tuple[float, float]:
    """Frames/s of ``_core.Engine`` push/pop over pre-decoded frames; also its creation time in s."""
    from salcrop_filter import _core

    t0 = time.perf_counter()
    engine = _core.Engine(width, height, fps, ratio="9:16", model=model, device="cpu", stride=stride,
                          threads=threads)
    created = time.perf_counter() - t0
    n_out = 0
    t0 = time.perf_counter()
    for i, (y, u, v) in enumerate(planes):
        engine.push_yuv420p(y, u, v, i / fps)
        n_out += len(engine.pop())
    n_out += len(engine.flush())
    elapsed = time.perf_counter() - t0
    if n_out != len(planes):
        raise RuntimeError(f"engine returned {n_out} decisions for {len(planes)} frames")
    return len(planes) / elapsed, created


def model_fps(frames_rgb: np.ndarray, threads: int, model: str, repeats: int) -> tuple[float, str, tuple[int, int]]:
    """Frames/s of ``_core.SaliencyRunner.predict`` on frames already at the model's input size (best of repeats)."""
    import cv2  # resize only, outside the timing

    from salcrop_filter import _core

    runner = _core.SaliencyRunner(model=model, device="cpu", threads=threads)
    ih, iw = runner.input_size
    small = np.stack([cv2.resize(f, (iw, ih), interpolation=cv2.INTER_AREA) for f in frames_rgb])
    runner.predict(small[:4], reset=True)  # warm-up: first run allocates
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        runner.predict(small, reset=True)
        best = min(best, time.perf_counter() - t0)
    return len(small) / best, runner.provider, (ih, iw)


def sibling_models(model_path: str) -> list[Path]:
    """The other bundled models next to ``model_path`` that are there: the other precision (float <-> 8-bit) and
    the large float model (CUDA's default; ``model=`` on the CPU for who accepts its cost)."""
    p = Path(model_path)
    others = {"salcrop.onnx": ["salcrop-int8.onnx", "salcrop-large.onnx"],
              "salcrop-int8.onnx": ["salcrop.onnx", "salcrop-large.onnx"]}.get(p.name, [])
    return [p.with_name(o) for o in others if p.with_name(o).is_file()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    ap.add_argument("--motion-clip", type=Path, default=DEFAULT_MOTION_CLIP,
                    help="second clip for the headline comparison, one that keeps moving ('' = skip)")
    ap.add_argument("--ffmpeg", type=Path, default=DEFAULT_FFMPEG)
    ap.add_argument("--model", default="", help="ONNX model; empty = the core's default (the 8-bit one on the CPU)")
    ap.add_argument("--repeats", type=int, default=5, help="A/B pairs for the headline comparison")
    ap.add_argument("--strides", default="1,2,3,4,6,12", help="strides for the core-alone and FFmpeg sweeps")
    ap.add_argument("--sweep-repeats", type=int, default=3, help="A/B pairs per stride in the FFmpeg sweep; 0 = skip")
    ap.add_argument("--loops", type=int, default=4,
                    help="the clip played this many times over for the long-video comparison; < 2 = skip")
    ap.add_argument("--loop-repeats", type=int, default=2, help="A/B pairs for the long-video comparison")
    ap.add_argument("--core-frames", type=int, default=300, help="pre-decoded frames for the core-alone timing")
    ap.add_argument("--out", type=Path, default=None, help="write the markdown report here (else stdout only)")
    args = ap.parse_args(argv)

    strides = [int(s) for s in args.strides.split(",") if s]
    command = "python " + shlex.join([os.path.relpath(__file__, Path.cwd())] + (argv if argv is not None else sys.argv[1:]))
    if not args.ffmpeg.exists():
        raise SystemExit(f"{args.ffmpeg} not found: run scripts/setup.sh first")
    if not args.clip.exists():
        raise SystemExit(f"clip {args.clip} not found")

    from salcrop_filter import _core

    lines: list[str] = []

    def say(s: str = "") -> None:
        print(s, flush=True)
        lines.append(s)

    src_w, src_h = probe_size(args.ffmpeg, args.clip)
    with tempfile.TemporaryDirectory(prefix="salcrop-probe-") as tmpdir:
        describe, (out_w, out_h) = salcrop_describe(args.ffmpeg, args.clip, Path(tmpdir), args.model)
    m = re.search(r"\bstride (\d+)", describe)
    if not m:
        raise RuntimeError(f"no stride in the filter's description: {describe}")
    default_stride = int(m.group(1))
    # Everything below measures the model the filter itself loaded (its description names it).
    m = re.search(r"\bmodel (\S+)", describe)
    model_path = args.model or (m.group(1) if m else _core.default_model_path())
    report_intro = [
        "# salcrop benchmarks",
        "",
        f"- Date: {_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {machine_line()}; no GPU",
        f"- Command: `{command}`",
        f"- Clip: `{os.path.relpath(args.clip, REPO)}` ({src_w}x{src_h}); core {_core.version()}; "
        f"model `{os.path.relpath(model_path, REPO) if os.path.isabs(model_path) else model_path}` "
        f"(sha256 {file_sha256(model_path)[:16]}...)",
        f"- At start: {load_line()}",
        f"- FFmpeg: `{os.path.relpath(args.ffmpeg, REPO)}`; the filter says: `{describe}`",
        "",
    ]
    for s in report_intro:
        say(s)

    with tempfile.TemporaryDirectory(prefix="salcrop-bench-") as tmpdir:
        tmp = Path(tmpdir)
        # The crop baseline produces exactly the picture size salcrop produces (out_w x out_h, probed above).
        vf_salcrop = salcrop_filter_args(args.model)
        vf_crop = f"crop={out_w}:{out_h}"
        cmd_a = ffmpeg_cmd(args.ffmpeg, args.clip, vf_salcrop, Path("out.mp4"))
        cmd_b = ffmpeg_cmd(args.ffmpeg, args.clip, vf_crop, Path("out.mp4"))

        say("## FFmpeg end to end (decode + filter + libx264 veryfast), alternating A B A B")
        say("")
        def shown(cmd: list[str]) -> str:  # paths as seen from the repository root
            return shlex.join(os.path.relpath(a, REPO) if os.path.isabs(a) else a for a in cmd)

        say(f"- A: `{shown(cmd_a)}`")
        say(f"- B: `{shown(cmd_b)}`")
        say(f"- {args.repeats} timed pairs after one untimed warm-up pair; output {out_w}x{out_h}")
        say("")
        a, b = ab_compare(args.ffmpeg, args.clip, vf_salcrop, vf_crop, args.repeats, tmp)
        ratio = median_ratio(a, b)
        for row in ab_table((("A salcrop (default stride %d)" % default_stride, a), ("B crop", b))):
            say(row)
        say("")
        verdict = "meets" if ratio <= TARGET_RATIO else "misses"
        say(f"**Median wall-time ratio salcrop/crop: {ratio:.2f}** (target <= {TARGET_RATIO}: {verdict} it "
            f"at the default stride {default_stride}); CPU-time ratio {cpu_ratio(a, b):.2f}.")
        say("")

        if str(args.motion_clip) not in ("", ".") and args.motion_clip.exists():
            _, (mw, mh) = salcrop_describe(args.ffmpeg, args.motion_clip, tmp, args.model)
            mw_src, mh_src = probe_size(args.ffmpeg, args.motion_clip)
            say(f"### The same on a clip that keeps moving: `{os.path.relpath(args.motion_clip, REPO)}` "
                f"({mw_src}x{mh_src}, {args.repeats} pairs)")
            say("")
            ma, mb = ab_compare(args.ffmpeg, args.motion_clip, vf_salcrop, f"crop={mw}:{mh}", args.repeats, tmp)
            for row in ab_table((("A salcrop (defaults)", ma), ("B crop", mb))):
                say(row)
            say("")
            say(f"**Median wall-time ratio salcrop/crop on the moving clip: {median_ratio(ma, mb):.2f}**; "
                f"CPU-time ratio {cpu_ratio(ma, mb):.2f}.")
            say("")

        if args.loops >= 2 and args.loop_repeats > 0:
            long_clip = tmp / "long.mp4"
            subprocess.run([str(args.ffmpeg), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                            "-stream_loop", str(args.loops - 1), "-i", str(args.clip), "-map", "0:v:0", "-c", "copy",
                            str(long_clip)], check=True)
            say(f"### The same on a longer video: the clip {args.loops} times over "
                f"(`ffmpeg -stream_loop {args.loops - 1} -i {os.path.relpath(args.clip, REPO)} -map 0:v:0 -c copy`, "
                f"{args.loop_repeats} pairs)")
            say("")
            la, lb = ab_compare(args.ffmpeg, long_clip, vf_salcrop, vf_crop, args.loop_repeats, tmp)
            for row in ab_table((("A salcrop (defaults)", la), ("B crop", lb))):
                say(row)
            say("")
            say(f"**Median wall-time ratio salcrop/crop over {args.loops}x the clip: {median_ratio(la, lb):.2f}**; "
                f"CPU-time ratio {cpu_ratio(la, lb):.2f}.")
            say("")

        sweep: list[tuple[int, float]] = []
        if args.sweep_repeats > 0:
            say(f"### Stride sweep ({args.sweep_repeats} A/B pairs per row, the same commands with `:stride=N`)")
            say("")
            say("| stride | salcrop s | crop s | ratio | CPU-time ratio |")
            say("|---:|---:|---:|---:|---:|")
            for s in strides:
                sa, sb = ab_compare(args.ffmpeg, args.clip, f"{vf_salcrop}:stride={s}", vf_crop,
                                    args.sweep_repeats, tmp, warmup=False)
                r = median_ratio(sa, sb)
                sweep.append((s, r))
                say(f"| {s}{' (default)' if s == default_stride else ''} | "
                    f"{statistics.median(x.wall_s for x in sa):.2f} | {statistics.median(x.wall_s for x in sb):.2f} | "
                    f"{r:.2f} | {cpu_ratio(sa, sb):.2f} |")
            say("")
            reaching = [s for s, r in sweep if r <= TARGET_RATIO]
            if reaching:
                say(f"- Smallest stride in the sweep reaching ratio <= {TARGET_RATIO}: **{min(reaching)}**.")
            else:
                best = min((r, s) for s, r in sweep)
                say(f"- No stride in the sweep reaches ratio <= {TARGET_RATIO}; best {best[0]:.2f} at stride {best[1]}.")
            say("")

    say(f"## Core alone: `_core.Engine` push_yuv420p/pop, decode excluded")
    say("")
    planes, fps, width, height = decode_yuv(args.clip, args.core_frames)
    say(f"{len(planes)} frames of {width}x{height} pre-decoded with PyAV to yuv420p arrays; ratio 9:16, "
        f"device cpu, default threads (one inference thread, on the engine's worker thread beside the caller's).")
    say("")
    say("| stride | frames/s | ms/frame |")
    say("|---:|---:|---:|")
    per_frame_ms = []
    for s in strides:
        f, _ = core_fps(planes, fps, width, height, s, 0, model_path)
        per_frame_ms.append(1000 / f)
        say(f"| {s}{' (default)' if s == default_stride else ''} | {f:.1f} | {1000 / f:.2f} |")
    say("")
    if len(strides) >= 2:
        # ms/frame = every-frame work (conversion, shot detection, planning) + one model run per stride frames;
        # with the model on its own thread the two overlap, so this is a description, not a cost split.
        design = np.stack([np.ones(len(strides)), 1.0 / np.array(strides, dtype=np.float64)], axis=1)
        (fixed, per_run), *_ = np.linalg.lstsq(design, np.array(per_frame_ms), rcond=None)
        say(f"Least-squares fit: ms/frame = {fixed:.2f} + {per_run:.2f} / stride.")
        say("")

    say("## Model alone: `_core.SaliencyRunner.predict`, frames already at the model's input size")
    say("")
    import cv2

    n_model = min(len(planes), 100)
    rgb = np.stack([cv2.cvtColor(np.concatenate([y, u.reshape(-1, width), v.reshape(-1, width)]),
                                 cv2.COLOR_YUV2RGB_I420) for y, u, v in planes[:n_model]])
    del planes
    say("| model | threads | frames/s | ms/frame | provider | input HxW |")
    say("|---|---:|---:|---:|---|---|")
    models = [model_path] + [str(p) for p in sibling_models(model_path)]
    for path in models:
        for threads in (1, 2):
            f, provider, (ih, iw) = model_fps(rgb, threads, path, repeats=3)
            say(f"| `{Path(path).name}` | {threads} | {f:.1f} | {1000 / f:.2f} | {provider} | {ih}x{iw} |")
    say("")
    say("GPU rows (CUDA execution provider): not measured; this machine has no GPU, and no session of this "
        "project has been lent one (the device tool's status: its tasks are not drawn for one).")
    say("")
    say(f"At the end: {load_line()} (the A/B alternation shares any background load between the variants).")

    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
