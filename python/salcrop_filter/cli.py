"""The ``salcrop`` command: reframe video files from a shell.

    salcrop in.mp4 -o out.mp4 --ratio 9:16
    salcrop in.mp4 -o outdir/ --ratio 9:16,1:1,4:5   # one pass: outdir/in.9x16.mp4, in.1x1.mp4, in.4x5.mp4
    salcrop a.mp4 b.mov -o vertical/            # several inputs into a folder
    salcrop in.mp4 -o out.mp4 --path p.json --preview debug.mp4 --plot path.png
    salcrop in.mp4 -o out.mp4 --path-in edited.json
    salcrop --ray auto a.mp4 b.mp4 ... -o out/  # a batch on a Ray cluster (cluster.py)
    salcrop review in.mp4 --ratio 9:16,1:1      # the local web editor (review/)
    salcrop train|eval|crop-eval|export|quantize|split ...   # the other subcommands (commands.py)

An existing output is never overwritten without -y/--overwrite (as ffmpeg's -y), the same with and without --ray.
Exit status: 0 done, 1 a file could not be processed, 2 usage error (bad option, missing input, existing output).
User errors print one line (``salcrop: error: ...``), never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from pathlib import Path
from typing import Any, TextIO

from .commands import SUBCOMMANDS, run, summary
from .croppath import CropPath, CropPathError
from .outputs import is_dir_arg, output_name, ratio_tag

__all__ = ["main", "ProgressBar", "output_name"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


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
        usage="salcrop [reframe] INPUT... -o OUT [options]\n       salcrop COMMAND [-h] ...",
        description="Reframe videos to another aspect ratio, keeping what people look at, with a steady camera.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  salcrop in.mp4 -o out.mp4                       # 9:16, the default ratio\n"
               "  salcrop in.mp4 -o out/ --ratio 9:16,1:1,4:5     # three ratios in one pass\n"
               "  salcrop in.mp4 -o out.mp4 -y --path path.json   # overwrite out.mp4, keep the crop path\n\n"
               "commands (salcrop COMMAND -h for each):\n" + summary() + "\n\n"
               "Options left out use the core's defaults, the same as the FFmpeg filter's (ffmpeg -h filter=salcrop).",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="video file(s) to reframe")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output file; with several inputs (or a path ending in /) a folder, files named after the inputs")
    p.add_argument("--ratio", default="9:16",
                   help="target aspect W:H, W/H or a number (default 9:16); several, comma-separated (9:16,1:1,4:5): "
                   "one pass, one output per ratio into the folder -o (IN.9x16.mp4, ...)")
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
    g.add_argument("--max-memory", type=float, metavar="MB", help="memory for the frames awaiting their decision "
                   "(default 448); past it a file is decoded twice (decide, then crop), with the same path; < 0: "
                   "no budget")
    g.add_argument("--speakers", choices=("auto", "off"), help="auto: faces count, and the camera follows who speaks "
                   "(docs/speakers.md; on a 360° view, faces pull it); off: saliency alone (default: auto when the "
                   "input has sound or is a 360° view, else off)")
    g.add_argument("--keyframes", metavar="JSON", help='pin the window\'s centre: [{"t": s or "frame": n, "x": px, '
                   '"y": px}, ...]; the planner fills in the rest')
    g.add_argument("--subject", action="append", metavar="T,X,Y,W,H", dest="subject_picks",
                   help="keep this subject in the window: its box (source pixels) at T seconds; tracked through its "
                   "shot (repeatable: several subjects); or face:ID, the face track of that id (the path JSON's "
                   "\"tracks\" of a run with the same input and options; with --speakers auto) followed wherever "
                   "it is on screen")
    g.add_argument("--subjects", metavar="JSON", help='subjects to keep: [{"t": s or "frame": n, "box": [x, y, w, h]}, '
                   '...] (docs/subjects.md)')
    s = p.add_argument_group("360° input (equirectangular)")
    s.add_argument("--projection", choices=("flat", "equirect"),
                   help="equirect: render a perspective view of the sphere that follows the saliency (default flat)")
    s.add_argument("--fov", type=float, help="the view's horizontal field of view, 30..120 degrees (default 90)")
    s.add_argument("--size", metavar="WxH", help="output size (default: the source's angular resolution at the "
                   "view's centre)")
    s.add_argument("--stereo", choices=("mono", "tb", "sbs"), help="stereo layout: the top / left eye is used")
    s.add_argument("--front", type=float, help="weight of the front prior 0..1 (default 0.5: viewers mostly face "
                   "the front; 0: saliency alone)")
    p.set_defaults(view_width=None, view_height=None)
    o = p.add_argument_group("extra outputs")
    o.add_argument("--path", metavar="JSON", help="write the crop path (JSON; a folder with several inputs)")
    o.add_argument("--path-in", metavar="JSON", help="render this (edited) crop path instead of planning")
    o.add_argument("--preview", metavar="MP4", help="side-by-side debug video: source with heatmap | result")
    o.add_argument("--plot", metavar="PNG", help="plot of the window over time with shots and modes")
    p.add_argument("--codec", metavar="NAME", help="video encoder: libx264, libx265, libvpx-vp9, libsvtav1, ... "
                   "(default: libx264 for .mp4/.mov/.mkv/.m4v, else the container's own, e.g. VP9 for .webm)")
    p.add_argument("--no-audio", action="store_true", help="drop the audio")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.add_argument("-y", "--overwrite", action="store_true",
                   help="overwrite existing outputs (default: refuse them; with --ray, skip the outputs a previous "
                   "run with the same input and options completed and refuse the others)")
    r = p.add_argument_group("scale-out on Ray (pip install salcrop_filter[ray]; inputs and -o on a file system "
                             "every node sees)")
    r.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                   help="run the inputs as Ray tasks, outputs into the folder -o; no ADDRESS: a local Ray runtime "
                   "(all cores), 'auto' or host:port or ray://host:port: a running cluster (a word after --ray "
                   "that is none of these is an input)")
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


def _ratios(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[str]:
    """--ratio as a list: one ratio as given (the core checks it with the other options), several as the core
    reads them ("W:H" each), refused here when one is bad or repeated, before anything is written."""
    if "," not in args.ratio and "|" not in args.ratio:
        return [args.ratio]
    try:
        from .pipeline import OptionError, parse_ratios
    except ImportError as e:
        parser.error(f"several ratios need the salcrop core, which is not importable ({e})")
    try:
        return parse_ratios(args.ratio)
    except OptionError as e:
        parser.error(str(e))


def _plan_jobs(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[dict[str, Any]]:
    """Every (input -> outputs) job, or a usage error before anything is written.

    A job's "dst", "path" and "plot" map each ratio to its file. One input and one ratio: -o, --path, --preview
    and --plot name files (or folders, when they end with a separator or are one). Several inputs or several
    ratios: they are folders, the files named after the input (and the ratio: in.9x16.mp4, in.9x16.json).
    """
    inputs = [Path(i) for i in args.inputs]
    for i in inputs:
        if not i.is_file():
            parser.error(f"{i}: no such file")
    ratios = _ratios(args, parser)
    several = len(inputs) > 1 or len(ratios) > 1
    what = "several inputs" if len(inputs) > 1 else "several ratios"
    out_dir = several or is_dir_arg(args.output)
    for arg in (args.output, args.path, args.plot):
        if several and arg is not None and Path(arg).exists() and not Path(arg).is_dir():
            parser.error(f"{arg}: with {what} this must be a folder")
    stems = [i.stem for i in inputs]
    dupes = sorted({s for s in stems if stems.count(s) > 1})
    if out_dir and dupes:
        parser.error(f"several inputs are named {', '.join(dupes)}: their outputs would collide")
    if args.path_in and several:
        parser.error("--path-in renders one path: give one input and one ratio")
    if args.path_in and args.preview:
        parser.error("--preview shows the planner's view; it cannot be combined with --path-in")
    if args.preview and len(ratios) > 1:
        parser.error("--preview shows one ratio's planner view: give one --ratio")
    tags = {r: ("" if len(ratios) == 1 else "." + ratio_tag(r)) for r in ratios}

    def extra(arg: str | None, name: str, suffix: str) -> dict[str, Path] | None:
        if arg is None:
            return None
        if several or is_dir_arg(arg):
            return {r: Path(arg) / (name + tags[r] + suffix) for r in ratios}
        return {r: Path(arg) for r in ratios}

    jobs = []
    for src in inputs:
        if out_dir:
            dst = {r: Path(args.output) / output_name(src, None if len(ratios) == 1 else r) for r in ratios}
        else:
            dst = {r: Path(args.output) for r in ratios}
        for d in dst.values():
            if d.resolve() == src.resolve():
                parser.error(f"{d}: output would overwrite the input")
        preview = extra(args.preview, src.stem + ".preview", ".mp4")
        jobs.append({
            "src": src, "dst": dst, "ratios": ratios,
            "path": extra(args.path, src.stem, ".json"),
            "preview": None if preview is None else preview[ratios[0]],
            "plot": extra(args.plot, src.stem, ".png"),
        })
    return jobs


def _job_files(job: dict[str, Any]) -> list[Path]:
    """Every file a job writes: the videos, the preview, the path JSONs and plots."""
    files = list(job["dst"].values()) + ([job["preview"]] if job["preview"] is not None else [])
    for extra in (job["path"], job["plot"]):
        files += list(extra.values()) if extra is not None else []
    return files


def _save_extras(job: dict[str, Any], paths: dict[str, CropPath]) -> None:
    """--path and --plot of a finished job, one file per ratio."""
    for ratio, path in paths.items():
        if job["path"] is not None:
            job["path"][ratio].parent.mkdir(parents=True, exist_ok=True)
            path.save(job["path"][ratio])
        if job["plot"] is not None:
            from .plot import plot_path

            job["plot"][ratio].parent.mkdir(parents=True, exist_ok=True)
            plot_path(path, job["plot"][ratio], title=f"{job['src'].name} -> {ratio}")


def _warn_one_line(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                   file: TextIO | None = None, line: str | None = None) -> None:
    print(f"salcrop: warning: {message}", file=sys.stderr)


def _subject_pick(text: str, parser: argparse.ArgumentParser) -> dict[str, object]:
    """--subject T,X,Y,W,H or face:ID as the core's subjects entry (the core checks the box against the frame, and
    that the face track exists in the run)."""
    if text.startswith("face:"):
        ident = text[len("face:"):]
        if not ident.isdigit():
            parser.error(f"--subject {text}: want face:ID, a face track id of the path JSON (a whole number), e.g. face:2")
        return {"t": 0.0, "face": int(ident)}
    try:
        t, x, y, w, h = (float(v) for v in text.split(","))
    except ValueError:
        parser.error(f"--subject {text}: want T,X,Y,W,H (seconds, then the box in source pixels), e.g. 2.5,100,80,60,120")
    return {"t": t, "box": [x, y, w, h]}


def main(argv: list[str] | None = None) -> int:
    warnings.showwarning = _warn_one_line  # a user sees "salcrop: warning: ...", not a source location
    argv = sys.argv[1:] if argv is None else list(argv)
    # A subcommand (commands.py); an input file named like one is ./train, or follows "salcrop reframe".
    if argv[:1] == ["reframe"]:
        argv = argv[1:]
    elif argv[:1] and argv[0] in SUBCOMMANDS:
        return run(argv[0], argv[1:])
    parser = build_parser()
    args = parser.parse_args(_ray_address_or_input(argv))  # exits 2 on bad syntax
    notes = logging.getLogger("salcrop")  # the pipeline's notes (what the memory budget did)
    notes.setLevel(logging.WARNING if args.quiet else logging.INFO)
    if not notes.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("salcrop: %(message)s"))
        notes.addHandler(handler)
    if args.size:
        try:
            args.view_width, args.view_height = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            parser.error(f"--size {args.size}: want WxH, e.g. 1920x1080")
    if args.subject_picks:
        if args.subjects:
            parser.error("give --subject (repeatable) or --subjects FILE, not both")
        args.subjects = [_subject_pick(text, parser) for text in args.subject_picks]
    if args.plot and args.projection == "equirect":
        parser.error("--plot draws a flat crop path; a 360° run's path is the JSON of --path")
    if args.ray is not None:
        return _main_ray(args, parser)
    for flag in ("split_shots", "segment_seconds", "task_cpus"):
        if getattr(args, flag) not in (None, False):
            parser.error(f"--{flag.replace('_', '-')} needs --ray")
    jobs = _plan_jobs(args, parser)
    if not args.overwrite:
        existing = [f for job in jobs for f in _job_files(job) if f.exists()]
        if existing:
            more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
            parser.error(f"{existing[0]} exists{more}; -y (--overwrite) replaces it")

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
            from .spherepath import load_path

            path_in = load_path(args.path_in)
        except CropPathError as e:
            print(f"salcrop: error: --path-in {e}", file=sys.stderr)
            return EXIT_USAGE

    failed = 0
    for job in jobs:
        for d in list(job["dst"].values()) + ([job["preview"]] if job["preview"] is not None else []):
            d.parent.mkdir(parents=True, exist_ok=True)
        bar = None if args.quiet else ProgressBar(job["src"].name)
        try:
            if len(job["ratios"]) == 1:
                [ratio] = job["ratios"]
                paths = {ratio: reframe(job["src"], job["dst"][ratio], ratio, path_in=path_in,
                                        preview=job["preview"], audio=not args.no_audio, codec=args.codec,
                                        progress=bar, **options)}
            else:  # one pass: shots and the network once, a path and a file per ratio
                paths = reframe(job["src"], job["dst"], audio=not args.no_audio, codec=args.codec, progress=bar,
                                **options)
            _save_extras(job, paths)
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
            print(f"{job['src']} -> {', '.join(map(str, job['dst'].values()))}", file=sys.stderr)
    if failed:
        print(f"salcrop: {failed} of {len(jobs)} input(s) failed", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _main_ray(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """salcrop --ray: the inputs as one batch of Ray tasks (cluster.reframe_many), a summary table at the end.

    Outputs are named as without --ray (_plan_jobs): with one input, -o, --path, --preview and --plot name files.
    """
    if args.path_in:
        parser.error("--path-in renders one path; it cannot be combined with --ray")
    if args.split_shots and args.preview:
        parser.error("--preview cannot be combined with --split-shots")
    if args.codec:
        parser.error("--codec is not passed to Ray tasks yet; run without --ray")
    jobs = _plan_jobs(args, parser)
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
        ratios = jobs[0]["ratios"]
        # Several ratios: -o is a folder (names say the ratio); one: the files _plan_jobs named.
        out = args.output if len(ratios) > 1 else [j["dst"][ratios[0]] for j in jobs]
        results = reframe_many([j["src"] for j in jobs], out, ratios if len(ratios) > 1 else ratios[0],
                               ray_address=args.ray or None,
                               overwrite=args.overwrite, split_shots=args.split_shots,
                               segment_seconds=args.segment_seconds, audio=not args.no_audio,
                               encoder_threads=args.encoder_threads, task_cpus=args.task_cpus,
                               gpu_fraction=args.gpu_fraction,
                               preview_dir=None if args.preview is None else [j["preview"] for j in jobs],
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
    for r, job in zip(results, jobs):
        if r.paths:
            _save_extras(job, r.paths)
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
