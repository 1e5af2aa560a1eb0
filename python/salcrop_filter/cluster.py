"""Scale-out on Ray: a catalogue of videos, or one long video split at its cuts, across a cluster.

    results = reframe_many(["a.mp4", "b.mp4"], "out/", ratio="9:16", ray_address="auto")

A thin layer over the one-machine code: every task calls the same :func:`~salcrop_filter.reframe` the local
CLI calls (shot_segments.py's segments are ``reframe`` with a replayed schedule), so the cluster and one machine
cannot drift apart. Ray does the scheduling (``num_cpus``/``num_gpus`` per task), retries a task whose
worker died (``max_retries``) and reports the rest; this module adds what a batch needs around it:

- resume: an output is complete when its sidecar record (written after the rename: the input's size and
  mtime, the options, the model's sha256) matches this run; a rerun skips it, ``overwrite`` redoes it; any other
  existing output is refused unless ``overwrite``;
- no partial files: outputs are written under a temporary name and renamed (pipeline.VideoWriter), and a
  retried attempt first deletes what a killed one left (shot_segments.remove_stale_parts);
- one progress line for the whole batch (files done/total, frames/s over the cluster, ETA), fed by the tasks
  through a small actor, and a summary table (file, frames, wall s, node, status).

Inputs and outputs are paths every node sees (a shared file system). Ray is imported only here, on first use.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence, TextIO

from .checksums import file_sha256
from .croppath import CropPath
from .errors import OptionError
from .outputs import output_name

__all__ = ["reframe_many", "BatchResult", "ClusterError", "task_resources", "DEFAULT_GPU_FRACTION"]

DEFAULT_GPU_FRACTION = 0.25  # a GPU node runs four videos at once
_RECORD_VERSION = 1


class ClusterError(RuntimeError):
    """Ray could not be started or the cluster could not be joined; the message says where and why."""


@dataclass
class BatchResult:
    """What became of one input."""

    input: Path
    output: Path                  # the (first ratio's) output file
    status: str                   # "done", "skipped" (complete from an earlier run) or "failed"
    path: CropPath | None = None  # the (first ratio's) crop path (None when skipped or failed)
    frames: int = 0
    seconds: float = 0.0          # wall time of its task(s)
    node: str = ""                # the worker node (host name) that ran it
    error: str = ""               # why it failed
    option_error: bool = False    # it failed on an option value (the same for every input: a usage error)
    segments: int = 0             # --split-shots: how many segments
    outputs: dict[str, Path] = field(default_factory=dict)    # ratio -> output file (one entry for one ratio)
    paths: dict[str, CropPath] = field(default_factory=dict)  # ratio -> crop path, as ``path``

    @property
    def ok(self) -> bool:
        return self.status != "failed"


# --- resources ----------------------------------------------------------------------------------


def task_resources(options: dict[str, Any], encoder_threads: int = 1, task_cpus: float | None = None,
                   gpu_fraction: float = DEFAULT_GPU_FRACTION) -> dict[str, float]:
    """Ray resources of one video task: the inference threads (0 = one) plus the encoder's, and a fraction
    of a GPU with ``device=cuda``. ``task_cpus`` overrides the CPU count."""
    cpus = task_cpus if task_cpus is not None else max(1, int(options.get("threads") or 0)) + max(1, encoder_threads)
    res = {"num_cpus": float(cpus)}
    if options.get("device") == "cuda":
        if not 0 < gpu_fraction <= 1:
            raise ValueError(f"gpu_fraction={gpu_fraction} is not valid: must be in (0, 1]")
        res["num_gpus"] = float(gpu_fraction)
    return res


# --- sidecar records ----------------------------------------------------------------------------

_model_hashes: dict[str, str] = {}


def _model_file(options: dict[str, Any]) -> str:
    if options.get("model"):
        return str(options["model"])
    from . import _core

    return _core.default_model_path(gpu=options.get("device") == "cuda")


def _sha256(path: str) -> str:
    """The model's sha256, hashed once per driver (every input's record names it)."""
    if path not in _model_hashes:
        _model_hashes[path] = file_sha256(path)
    return _model_hashes[path]


def sidecar(dst: Path) -> Path:
    """The record beside an output that says it is complete and what made it."""
    return dst.with_name(f".{dst.name}.salcrop.json")


def _expected_record(src: Path, ratio: str, options: dict[str, Any], audio: bool) -> dict[str, Any]:
    st = src.stat()
    model = _model_file(options)
    return {
        "version": _RECORD_VERSION,
        "input": {"path": str(src.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns},
        "ratio": ratio,
        "options": {k: v for k, v in sorted(options.items()) if v is not None and k != "model"},
        "audio": audio,
        "model_sha256": _sha256(model),
    }


def _complete(dst: Path, expected: dict[str, Any]) -> dict[str, Any] | None:
    """The sidecar record when ``dst`` is complete for this run's input and options, else None."""
    try:
        record = json.loads(sidecar(dst).read_text())
        size = dst.stat().st_size
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("output_size") != size:
        return None
    return record if {k: record.get(k) for k in expected} == expected else None


def _write_record(dst: Path, expected: dict[str, Any], frames: int) -> None:
    record = dict(expected, output_size=dst.stat().st_size, frames=frames)
    tmp = sidecar(dst).with_name(sidecar(dst).name + ".tmp")
    tmp.write_text(json.dumps(record, indent=1) + "\n")
    os.replace(tmp, sidecar(dst))


# --- progress -----------------------------------------------------------------------------------


class _ProgressBoard:
    """Ray actor: frames done per task, reported by the tasks, read by the driver."""

    def __init__(self) -> None:
        self.done: dict[str, int] = {}
        self.total: dict[str, int] = {}

    def report(self, key: str, done: int, total: int | None) -> None:
        self.done[key] = done
        if total:
            self.total[key] = total

    def snapshot(self) -> tuple[int, int]:
        return sum(self.done.values()), sum(self.total.values())


class _Reporter:
    """A task's ``progress(done, total)`` callback: tells the board at most twice a second."""

    def __init__(self, board: Any, key: str) -> None:
        self.board, self.key, self.last = board, key, 0.0

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self.last >= 0.5 or (total and done >= total):
            self.last = now
            self.board.report.remote(self.key, done, total)


class BatchProgress:
    """One line for the whole batch: files done/total, frames/s over the cluster, ETA."""

    def __init__(self, files: int, stream: TextIO = sys.stderr) -> None:
        self.files, self.stream = files, stream
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.start = time.monotonic()
        self.last_line = 0.0

    def update(self, finished: int, frames: int, total_frames: int, force: bool = False) -> None:
        now = time.monotonic()
        # A terminal redraws one line; a log gets a line every 10 s.
        if not force and now - self.last_line < (0.2 if self.tty else 10.0):
            return
        self.last_line = now
        elapsed = max(now - self.start, 1e-9)
        rate = frames / elapsed
        eta = ""
        if total_frames and rate > 0 and frames < total_frames:
            s = int((total_frames - frames) / rate)
            eta = f" ETA {s // 60}:{s % 60:02d}"
        line = f"salcrop --ray: {finished}/{self.files} files, {frames} frames, {rate:.1f} fps{eta}"
        self.stream.write(("\r" + line + "\x1b[K") if self.tty else line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def summary_table(results: list[BatchResult]) -> str:
    """The batch as a table: file, frames, wall s, worker node, status (and the error of a failed one)."""
    rows = [("file", "frames", "wall s", "node", "status")]
    for r in results:
        status = r.status if r.ok else f"failed: {r.error}"
        if r.segments:
            status += f" ({r.segments} segments)"
        rows.append((r.input.name, str(r.frames), f"{r.seconds:.1f}", r.node or "-", status))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) if i != 1 and i != 2 else c.rjust(w) for i, (c, w) in
                               enumerate(zip(row[:4], widths))) + "  " + row[4] for row in rows)


# --- tasks (run on the workers) -----------------------------------------------------------------


def _node() -> str:
    return socket.gethostname()


def _run_reframe(src: str, outputs: dict[str, str], kwargs: dict[str, Any], board: Any, key: str) -> dict[str, Any]:
    """One video (or one segment of one) into one file per ratio: pipeline.reframe, as the local CLI runs it."""
    from . import shot_segments
    from .pipeline import reframe

    start = time.monotonic()
    for dst in outputs.values():
        shot_segments.remove_stale(Path(dst))  # what an earlier attempt, killed mid-write, left
    if len(outputs) == 1:
        [(ratio, dst)] = outputs.items()
        paths = {ratio: reframe(src, dst, ratio, progress=_Reporter(board, key), **kwargs)}
    else:
        paths = reframe(src, outputs, progress=_Reporter(board, key), **kwargs)
    return {"paths": paths, "seconds": time.monotonic() - start, "node": _node()}


def _run_first_pass(src: str, stride: int | None, scene_threshold: float | None) -> dict[str, Any]:
    from . import shot_segments

    start = time.monotonic()
    schedule = shot_segments.first_pass(src, stride, scene_threshold)
    return {"schedule": schedule, "seconds": time.monotonic() - start, "node": _node()}


def _run_join(parts: list[str], src: str, dst: str, audio: bool) -> dict[str, Any]:
    from . import shot_segments

    start = time.monotonic()
    shot_segments.remove_stale(Path(dst), parts=False)
    shot_segments.join_segments([Path(p) for p in parts], src, dst, audio)
    for p in parts:
        Path(p).unlink(missing_ok=True)
    return {"seconds": time.monotonic() - start, "node": _node()}


# --- the driver ---------------------------------------------------------------------------------


def _connect(ray: Any, ray_address: str | None) -> None:
    if ray.is_initialized():
        return
    # None: a local runtime with every core of this machine; "auto" / "host:port" / "ray://host:port": a cluster.
    try:
        ray.init(address=ray_address, log_to_driver=False, include_dashboard=False)
    except Exception as e:  # ConnectionError, an authentication error, a missing ray[client], ...
        cause = e.__cause__ or e
        where = f"join the Ray cluster at {ray_address}" if ray_address else "start a local Ray runtime"
        raise ClusterError(f"cannot {where}: {e}" + (f" ({str(cause).splitlines()[0]})" if cause is not e else "")) \
            from None


@dataclass
class _Job:
    result: BatchResult
    records: dict[str, dict[str, Any]]  # ratio -> the record its output gets when complete
    kwargs: dict[str, Any]
    key: str = ""
    started: float = 0.0
    parts: list[Path] = field(default_factory=list)
    part_paths: dict[int, CropPath] = field(default_factory=dict)


def _per_input(srcs: list[Path], where: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
               name: Callable[[Path], str], what: str) -> list[Path]:
    """One path per input: a folder's files named by ``name``, or the list given (as long as the inputs)."""
    if isinstance(where, (str, os.PathLike)):
        return [Path(where) / name(s) for s in srcs]
    files = [Path(w) for w in where]
    if len(files) != len(srcs):
        raise OptionError(f"{what}: {len(files)} file(s) for {len(srcs)} input(s); give one per input or a folder")
    return files


def reframe_many(inputs: list[str | os.PathLike[str]], out: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
                 ratio: str | Sequence[str] = "9:16", *,
                 ray_address: str | None = None, overwrite: bool = False, split_shots: bool = False,
                 segment_seconds: float | None = None, audio: bool = True, encoder_threads: int = 1,
                 task_cpus: float | None = None, gpu_fraction: float = DEFAULT_GPU_FRACTION, max_retries: int = 3,
                 preview_dir: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
                 progress: bool | TextIO = False,
                 **options: Any) -> list[BatchResult]:
    """Reframe every input on a Ray cluster into ``out``: a folder (each output named after its input, .mp4
    unless .mov/.mkv/.m4v), or a list of output files, one per input (what the CLI passes for ``-o one.mp4``).
    ``preview_dir`` likewise: a folder (``NAME.preview.mp4``) or a list of files.

    ``ratio``: one, or a list (``["9:16", "1:1", "4:5"]``): each input in one pass, one file per ratio named
    ``NAME.9x16.mp4`` ... in the folder ``out`` (``BatchResult.outputs``/``paths`` map each ratio to its file and
    path); not with ``split_shots`` or a preview.

    ``options`` are :func:`~salcrop_filter.reframe`'s (model, device, mode, stride, ...). ``ray_address``:
    None starts a local Ray runtime on this machine (or uses the one this process already started); "auto",
    "host:port" or "ray://host:port" joins a running cluster. ``split_shots``: each input is cut at its shots
    into segments of about ``segment_seconds`` (default 60) planned and encoded by different workers, then
    joined. ``encoder_threads`` (x264's threads) and the inference ``threads`` make a task's ``num_cpus``
    (``task_cpus`` overrides); with ``device="cuda"`` a task takes ``gpu_fraction`` of a GPU. ``progress``: a
    stream (or True: stderr) for the batch's progress line.

    Returns one :class:`BatchResult` per input, in order; an input that fails does not stop the others.
    Usage mistakes (bad options, colliding output names) raise before anything runs.
    """
    import ray

    from .pipeline import _engine_kwargs
    from .shot_segments import DEFAULT_SEGMENT_SECONDS, join_paths, plan_segments, remove_stale, segment_output

    _engine_kwargs(options)
    from . import _core

    # A list, or one string of several ("9:16,1:1"): each input in one pass, one file per ratio.
    given = ratio.replace("|", ",").split(",") if isinstance(ratio, str) else list(ratio)
    several = len(given) > 1
    try:
        if several:
            ratios = [f"{n}:{d}" for n, d in _core.parse_ratios(",".join(given))]
        else:
            _core.parse_ratios(",".join(given))  # also refuses an empty list
            ratios = given
    except ValueError as e:
        raise OptionError(str(e)) from None
    if several and (split_shots or preview_dir is not None):
        raise OptionError("several ratios in one pass cannot be combined with split_shots or a preview; "
                          "give one ratio")
    if several and not isinstance(out, (str, os.PathLike)):
        raise OptionError("several ratios are written into a folder (NAME.9x16.mp4, ...): give out as a folder")
    if split_shots and options.get("projection") == "equirect":
        raise OptionError("split_shots joins flat crop paths; a 360° input (projection=equirect) runs whole")
    if split_shots and preview_dir is not None:
        raise OptionError("split_shots cannot be combined with a preview (it needs one planner over the whole input)")
    segment_seconds = DEFAULT_SEGMENT_SECONDS if segment_seconds is None else float(segment_seconds)
    if not segment_seconds > 0:
        raise OptionError(f"segment_seconds={segment_seconds} is not valid: must be > 0")
    srcs = [Path(i) for i in inputs]
    if several:
        outputs = [{r: Path(out) / output_name(s, r) for r in ratios} for s in srcs]  # type: ignore[arg-type]
    else:
        outputs = [{ratios[0]: d} for d in _per_input(srcs, out, lambda s: output_name(s), "out")]
    previews = None if preview_dir is None else \
        _per_input(srcs, preview_dir, lambda s: f"{s.stem}.preview.mp4", "preview_dir")
    dsts = [d for o in outputs for d in o.values()]
    names = [str(d.resolve()) for d in dsts]
    dupes = sorted({str(d) for d, n in zip(dsts, names) if names.count(n) > 1})
    if dupes:
        raise OptionError(f"several inputs would be written to {', '.join(dupes)}")
    resources = task_resources(options, encoder_threads, task_cpus, gpu_fraction)
    codec_options = {"threads": str(max(1, encoder_threads))}
    for d in dsts + (previews or []):
        d.parent.mkdir(parents=True, exist_ok=True)

    jobs: list[_Job] = []
    for k, (src, outs) in enumerate(zip(srcs, outputs)):
        result = BatchResult(src, next(iter(outs.values())), "pending", outputs=outs)
        jobs.append(_Job(result, {}, {}))
        if not src.is_file():
            result.status, result.error = "failed", f"{src}: no such file"
            continue
        jobs[-1].records = {r: _expected_record(src, r, options, audio) for r in outs}
        done = None if overwrite else [_complete(outs[r], rec) for r, rec in jobs[-1].records.items()]
        if done is not None and all(d is not None for d in done):
            result.status, result.frames = "skipped", int(done[0].get("frames", 0))  # type: ignore[union-attr]
            continue
        foreign = [] if overwrite else [outs[r] for r, d in zip(outs, done or []) if d is None and outs[r].exists()]
        if foreign:  # not this run's complete output: another run's, or a file of the user's
            result.status = "failed"
            result.error = (f"{foreign[0]} exists and is not this input's output with these options; "
                            "overwrite (-y) replaces it")
            continue
        kwargs: dict[str, Any] = dict(options, audio=audio, codec_options=codec_options)
        if previews is not None:
            kwargs["preview"] = str(previews[k])
        jobs[-1].kwargs = kwargs
    todo = [j for j in jobs if j.result.status == "pending"]
    if not todo:
        return [j.result for j in jobs]

    _connect(ray, ray_address)
    board = ray.remote(num_cpus=0)(_ProgressBoard).remote()
    video_task = ray.remote(max_retries=max_retries, **resources)(_run_reframe)
    pass_task = ray.remote(max_retries=max_retries, num_cpus=1)(_run_first_pass)
    join_task = ray.remote(max_retries=max_retries, num_cpus=1)(_run_join)

    running: dict[Any, tuple[_Job, str, int]] = {}  # object ref -> (job, stage, segment index)
    for k, job in enumerate(todo):
        job.key, job.started = str(k), time.monotonic()
        if split_shots:
            ref = pass_task.remote(str(job.result.input), options.get("stride"), options.get("scene_threshold"))
            running[ref] = (job, "pass", 0)
        else:
            outs = {r: str(d) for r, d in job.result.outputs.items()}
            ref = video_task.remote(str(job.result.input), outs, job.kwargs, board, job.key)
            running[ref] = (job, "video", 0)

    bar = None
    if progress:
        bar = BatchProgress(len(jobs), sys.stderr if progress is True else progress)  # type: ignore[arg-type]
    finished = len(jobs) - len(todo)

    def advance(job: _Job, stage: str, index: int, value: dict[str, Any]) -> bool:
        """The next stage of a job whose task returned; True when the job is complete."""
        res = job.result
        if stage == "pass":  # the first pass of --split-shots: one task per segment
            segments = plan_segments(value["schedule"], segment_seconds)
            res.segments = len(segments)
            job.parts = [segment_output(res.output, s) for s in range(len(segments))]
            for s, (seg, part) in enumerate(zip(segments, job.parts)):
                kw = dict(job.kwargs, audio=False, segment=seg)
                running[video_task.remote(str(res.input), {ratios[0]: str(part)}, kw, board, f"{job.key}.{s}")] = \
                    (job, "segment", s)
            return False
        if stage == "segment":
            [job.part_paths[index]] = value["paths"].values()
            res.node = ",".join(sorted(set(filter(None, res.node.split(",") + [value["node"]]))))
            if len(job.part_paths) == len(job.parts):
                parts = [str(p) for p in job.parts]
                running[join_task.remote(parts, str(res.input), str(res.output), audio)] = (job, "join", 0)
            return False
        if stage == "join":
            res.paths = {ratios[0]: join_paths([job.part_paths[s] for s in range(len(job.parts))])}
            res.seconds = time.monotonic() - job.started
        else:  # "video"
            res.paths, res.seconds, res.node = value["paths"], value["seconds"], value["node"]
        res.path = next(iter(res.paths.values()))
        res.status, res.frames = "done", len(res.path.frames)
        for r, dst in res.outputs.items():
            _write_record(dst, job.records[r], res.frames)
        return True

    while running:
        ready, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
        for ref in ready:
            job, stage, index = running.pop(ref)
            if job.result.status == "failed":
                continue  # another segment of it failed already
            try:
                finished += advance(job, stage, index, ray.get(ref))
            except Exception as e:  # the task's exception (RayTaskError), a worker lost for good, a bad join
                cause = getattr(e, "cause", None) or e
                message = str(cause).strip()
                job.result.status = "failed"
                job.result.option_error = isinstance(cause, OptionError)
                job.result.error = message.splitlines()[-1] if message else type(cause).__name__
                job.result.seconds = time.monotonic() - job.started
                finished += 1
        if bar is not None:
            frames, total = ray.get(board.snapshot.remote())
            bar.update(finished, frames, total, force=not running)
    if bar is not None:
        bar.finish()
    for job in todo:  # every task has ended: what is left is from killed or failed attempts
        for dst in job.result.outputs.values():
            remove_stale(dst)
    ray.kill(board)
    return [j.result for j in jobs]
