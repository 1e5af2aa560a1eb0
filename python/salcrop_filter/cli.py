"""The ``salcrop`` command: reframe video files from a shell.

    salcrop in.mp4 -o out.mp4 --ratio 9:16
    salcrop a.mp4 b.mov -o vertical/            # several inputs into a folder
    salcrop in.mp4 -o out.mp4 --path p.json --preview debug.mp4 --plot path.png
    salcrop in.mp4 -o out.mp4 --path-in edited.json
    salcrop --ray auto a.mp4 b.mp4 ... -o out/  # a batch on a Ray cluster (cluster.py)
    salcrop review in.mp4 --ratio 9:16,1:1      # the local web editor (review/)

Exit status: 0 done, 1 a file could not be processed, 2 usage error (bad option, missing input).
User errors print one line (``salcrop: error: ...``), never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, TextIO

from .croppath import CropPath, CropPathError

__all__ = ["main", "ProgressBar", "output_name"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_KEEP_SUFFIXES = {".mp4", ".mov", ".mkv", ".m4v"}


class ProgressBar:
    """A plain-text progress line on a stream: frames, frames/s, ETA.

    On a terminal it redraws one line (at most 10 times a second); otherwise (logs, CI) it prints a line
    at every tenth of the work, so a log shows progress without carriage-return noise.
    """

    def __init__(self, label: str, stream: TextIO = sys.stderr, width: int = 28) -> None:
        self.label, self.stream, self.width = label, stream, width
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.start = time.monotonic()
        self.last_draw = 0.0
        self.last_tenth = -1
        self.done = 0

    def __call__(self, done: int, total: int | None) -> None:
        self.done = done
        now = time.monotonic()
        if self.tty:
            if now - self.last_draw >= 0.1 or (total and done >= total):
                self.last_draw = now
                self.stream.write("\r" + self.line(done, total, now) + "\x1b[K")
                self.stream.flush()
        elif total:
            tenth = min(10, done * 10 // total)
            if tenth > self.last_tenth and tenth < 10:
                self.last_tenth = tenth
                self.stream.write(self.line(done, total, now) + "\n")
                self.stream.flush()

    def line(self, done: int, total: int | None, now: float) -> str:
        elapsed = max(now - self.start, 1e-9)
        rate = done / elapsed
        if total:
            frac = min(done / total, 1.0)
            bar = "#" * round(frac * self.width)
            eta = (total - done) / rate if rate > 0 and done < total else 0.0
            return (f"{self.label} [{bar:<{self.width}}] {frac * 100:3.0f}% {done}/{total} frames "
                    f"{rate:5.1f} fps ETA {_clock(eta)}")
        return f"{self.label} {done} frames {rate:5.1f} fps"

    def finish(self, ok: bool = True) -> None:
        elapsed = time.monotonic() - self.start
        end = "\r" if self.tty else ""
        state = "done" if ok else "failed"
        self.stream.write(f"{end}{self.label}: {state}, {self.done} frames in {elapsed:.1f} s "
                          f"({self.done / max(elapsed, 1e-9):.1f} fps)" + ("\x1b[K" if self.tty else "") + "\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="salcrop",
        description="Reframe videos to another aspect ratio, keeping what people look at, with a steady camera.",
        epilog="Options left out use the core's defaults, the same as the FFmpeg filter's (ffmpeg -h filter=salcrop). "
               "salcrop review IN [--ratio 9:16,1:1]: review and correct the path in a browser (salcrop review -h).",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="video file(s) to reframe")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output file; with several inputs (or a path ending in /) a folder, files named after the inputs")
    p.add_argument("--ratio", default="9:16", help="target aspect W:H, W/H or a number (default 9:16)")
    g = p.add_argument_group("planner options (the FFmpeg filter's)")
    g.add_argument("--model", help="ONNX saliency model (default: the bundled one)")
    g.add_argument("--device", choices=("auto", "cpu", "cuda"), help="inference device")
    g.add_argument("--mode", choices=("auto", "stationary", "pan", "track"), help="camera mode for every shot")
    g.add_argument("--stride", type=int, help="run the network every N-th frame while the picture changes "
                   "(every 0.5 s while it is still), interpolate between (1..30)")
    g.add_argument("--lookahead", type=float, help="seconds of future the planner may see (0.1..60)")
    g.add_argument("--scene-threshold", type=float, help="shot-cut sensitivity; higher = fewer cuts, 0 = none")
    g.add_argument("--smoothing", type=float, help="camera smoothing 0..1; higher = calmer")
    g.add_argument("--pad", choices=("none", "blur", "black"), help="fallback when the subject cannot fit")
    g.add_argument("--threads", type=int, help="CPU inference threads (0 = automatic: one non-spinning thread)")
    g.add_argument("--keyframes", metavar="JSON", help='pin the window\'s centre: [{"t": s or "frame": n, "x": px, '
                   '"y": px}, ...]; the planner fills in the rest')
    o = p.add_argument_group("extra outputs")
    o.add_argument("--path", metavar="JSON", help="write the crop path (JSON; a folder with several inputs)")
    o.add_argument("--path-in", metavar="JSON", help="render this (edited) crop path instead of planning")
    o.add_argument("--preview", metavar="MP4", help="side-by-side debug video: source with heatmap | result")
    o.add_argument("--plot", metavar="PNG", help="plot of the window over time with shots and modes")
    p.add_argument("--no-audio", action="store_true", help="drop the audio")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    r = p.add_argument_group("scale-out on Ray (pip install salcrop_filter[ray]; inputs and -o on a file system "
                             "every node sees)")
    r.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                   help="run the inputs as Ray tasks, outputs into the folder -o; no ADDRESS: a local Ray runtime "
                   "(all cores), 'auto' or host:port or ray://host:port: a running cluster (a word after --ray "
                   "that is none of these is an input)")
    r.add_argument("--overwrite", action="store_true",
                   help="redo outputs that are complete (default: skip them, by their .NAME.salcrop.json record)")
    r.add_argument("--split-shots", action="store_true",
                   help="cut each input at its shots into segments planned and encoded by different workers, "
                   "then joined (the same crop path as one run)")
    r.add_argument("--segment-seconds", type=float, metavar="S", help="segment length for --split-shots (default 60)")
    r.add_argument("--encoder-threads", type=int, default=1, metavar="N", help="x264 threads per task (default 1)")
    r.add_argument("--task-cpus", type=float, metavar="N",
                   help="CPUs Ray reserves per task (default: inference threads + encoder threads)")
    r.add_argument("--gpu-fraction", type=float, default=0.25, metavar="F",
                   help="share of a GPU per task with --device cuda (default 0.25: four videos per GPU)")
    return p


def output_name(src: Path) -> str:
    """The output's file name for an input written into a folder: its name, .mp4 unless a container we keep."""
    suffix = src.suffix.lower() if src.suffix.lower() in _KEEP_SUFFIXES else ".mp4"
    return src.stem + suffix


def _is_ray_address(arg: str) -> bool:
    return arg == "auto" or ":" in arg  # auto, host:port, ray://host:port


def _ray_address_or_input(argv: list[str]) -> list[str]:
    """``--ray in.mp4 ...``: the word after --ray is its ADDRESS only when it looks like one; else it is the
    first input (argparse would take it as the address and leave the inputs short)."""
    out = list(argv)
    for k, arg in enumerate(out[:-1]):
        if arg == "--":
            break
        if arg == "--ray" and not out[k + 1].startswith("-") and not _is_ray_address(out[k + 1]):
            out[k] = "--ray="
    return out


def _is_dir_arg(arg: str) -> bool:
    return arg.endswith(("/", os.sep)) or Path(arg).is_dir()


def _plan_jobs(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[dict[str, Any]]:
    """Every (input -> outputs) job, or a usage error before anything is written."""
    inputs = [Path(i) for i in args.inputs]
    for i in inputs:
        if not i.is_file():
            parser.error(f"{i}: no such file")
    several = len(inputs) > 1
    out_dir = several or _is_dir_arg(args.output)
    if several and Path(args.output).exists() and not Path(args.output).is_dir():
        parser.error(f"-o {args.output}: with several inputs the output must be a folder")
    stems = [i.stem for i in inputs]
    dupes = sorted({s for s in stems if stems.count(s) > 1})
    if out_dir and dupes:
        parser.error(f"several inputs are named {', '.join(dupes)}: their outputs would collide")
    if args.path_in and several:
        parser.error("--path-in renders one path: give one input")
    if args.path_in and args.preview:
        parser.error("--preview shows the planner's view; it cannot be combined with --path-in")

    def extra(arg: str | None, name: str, suffix: str) -> Path | None:
        if arg is None:
            return None
        if several or _is_dir_arg(arg):
            return Path(arg) / (name + suffix)
        return Path(arg)

    jobs = []
    for src in inputs:
        if out_dir:
            dst = Path(args.output) / output_name(src)
        else:
            dst = Path(args.output)
        if dst.resolve() == src.resolve():
            parser.error(f"{dst}: output would overwrite the input")
        jobs.append({
            "src": src, "dst": dst,
            "path": extra(args.path, src.stem, ".json"),
            "preview": extra(args.preview, src.stem + ".preview", ".mp4"),
            "plot": extra(args.plot, src.stem, ".png"),
        })
    return jobs


def _warn_one_line(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                   file: TextIO | None = None, line: str | None = None) -> None:
    print(f"salcrop: warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    warnings.showwarning = _warn_one_line  # a user sees "salcrop: warning: ...", not a source location
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["review"]:  # the local web editor (review/command.py); an input named "review" is ./review
        from .review.command import main as review_main

        return review_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(_ray_address_or_input(argv))  # exits 2 on bad syntax
    if args.ray is not None:
        return _main_ray(args, parser)
    for flag in ("overwrite", "split_shots", "segment_seconds", "task_cpus"):
        if getattr(args, flag) not in (None, False):
            parser.error(f"--{flag.replace('_', '-')} needs --ray")
    jobs = _plan_jobs(args, parser)

    # Import the engine only now, so --help and usage errors work even without the compiled core.
    try:
        from .pipeline import ENGINE_OPTIONS, OptionError, ReframeError, reframe
    except ImportError as e:
        print(f"salcrop: error: the salcrop core is not importable ({e}); reinstall salcrop_filter", file=sys.stderr)
        return EXIT_FAILED

    options = {k: getattr(args, k) for k in ENGINE_OPTIONS}
    path_in = None
    if args.path_in:
        try:
            path_in = CropPath.load(args.path_in)
        except CropPathError as e:
            print(f"salcrop: error: --path-in {e}", file=sys.stderr)
            return EXIT_USAGE

    failed = 0
    for job in jobs:
        for key in ("dst", "path", "preview", "plot"):
            if job[key] is not None and job[key].parent and not job[key].parent.exists():
                job[key].parent.mkdir(parents=True, exist_ok=True)
        bar = None if args.quiet else ProgressBar(job["src"].name)
        try:
            path = reframe(job["src"], job["dst"], args.ratio, path_in=path_in, preview=job["preview"],
                           audio=not args.no_audio, progress=bar, **options)
            if job["path"] is not None:
                path.save(job["path"])
            if job["plot"] is not None:
                from .plot import plot_path

                plot_path(path, job["plot"], title=f"{job['src'].name} -> {args.ratio}")
        except OptionError as e:
            if bar:
                bar.finish(ok=False)
            print(f"salcrop: error: {e}", file=sys.stderr)
            return EXIT_USAGE  # the same options would fail for every input
        except (ReframeError, CropPathError, RuntimeError, OSError) as e:
            if bar:
                bar.finish(ok=False)
            print(f"salcrop: error: {e}", file=sys.stderr)
            failed += 1
            continue
        except KeyboardInterrupt:
            print("\nsalcrop: interrupted", file=sys.stderr)
            return 130
        if bar:
            bar.finish()
        if not args.quiet:
            print(f"{job['src']} -> {job['dst']}", file=sys.stderr)
    if failed:
        print(f"salcrop: {failed} of {len(jobs)} input(s) failed", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _main_ray(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """salcrop --ray: the inputs as one batch of Ray tasks (cluster.reframe_many), a summary table at the end."""
    if args.path_in:
        parser.error("--path-in renders one path; it cannot be combined with --ray")
    if args.split_shots and args.preview:
        parser.error("--preview cannot be combined with --split-shots")
    if Path(args.output).exists() and not Path(args.output).is_dir():
        parser.error(f"-o {args.output}: with --ray the output must be a folder")
    for i in args.inputs:
        if not Path(i).is_file():
            parser.error(f"{i}: no such file")
    try:
        from .cluster import ClusterError, reframe_many, summary_table
        from .pipeline import ENGINE_OPTIONS, OptionError
    except ImportError as e:
        print(f"salcrop: error: --ray needs Ray (pip install 'salcrop_filter[ray]'): {e}", file=sys.stderr)
        return EXIT_FAILED
    try:
        import ray  # noqa: F401
    except ImportError as e:
        print(f"salcrop: error: --ray needs Ray (pip install 'salcrop_filter[ray]'): {e}", file=sys.stderr)
        return EXIT_FAILED
    options = {k: getattr(args, k) for k in ENGINE_OPTIONS}
    try:
        results = reframe_many(args.inputs, args.output, args.ratio, ray_address=args.ray or None,
                               overwrite=args.overwrite, split_shots=args.split_shots,
                               segment_seconds=args.segment_seconds, audio=not args.no_audio,
                               encoder_threads=args.encoder_threads, task_cpus=args.task_cpus,
                               gpu_fraction=args.gpu_fraction, preview_dir=args.preview,
                               progress=not args.quiet, **options)
    except (OptionError, ValueError) as e:
        print(f"salcrop: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except ClusterError as e:
        print(f"salcrop: error: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("\nsalcrop: interrupted", file=sys.stderr)
        return 130
    for r in results:
        if r.path is None:
            continue
        if args.path:
            Path(args.path).mkdir(parents=True, exist_ok=True)
            r.path.save(Path(args.path) / (r.input.stem + ".json"))
        if args.plot:
            from .plot import plot_path

            Path(args.plot).mkdir(parents=True, exist_ok=True)
            plot_path(r.path, Path(args.plot) / (r.input.stem + ".png"), title=f"{r.input.name} -> {args.ratio}")
    if not args.quiet:
        print(summary_table(results), file=sys.stderr)
    failed = [r for r in results if not r.ok]
    for r in failed:
        print(f"salcrop: error: {r.error}", file=sys.stderr)
    if failed:
        print(f"salcrop: {len(failed)} of {len(results)} input(s) failed", file=sys.stderr)
        # An option value the core refuses fails every input alike: a usage error, as without --ray.
        return EXIT_USAGE if any(r.option_error for r in failed) else EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
