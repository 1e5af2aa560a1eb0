"""One long video split at its cuts, planned and encoded in parts, joined into one file (``--split-shots``).

Exact by construction: the planner never looks across a cut, and what the core's shot detector and the
network's sampling decide for a frame depends on the frames before it, so a first, fast pass runs both
over the whole input (``_core.ScheduleRecorder``: thumbnails only, no network) and every segment's engine
replays that record (:class:`~salcrop_filter.pipeline.Segment`) instead of detecting. The joined crop path
equals the one-machine path frame for frame.

The parts keep the input's timestamps, so joining them is a stream copy in order (through PyAV; what FFmpeg's
concat demuxer does with -copyts) and the audio is copied from the source once. Nothing here needs Ray: cluster.py runs these steps as tasks, :func:`reframe_split`
runs them one after another on this machine.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import av

from .croppath import CropPath, Shot
from .croppath import Segment as PathSegment
from .pipeline import OptionError, Picture, ReframeError, Segment, _core, _open_input, _probe, reframe, temp_beside

__all__ = ["Schedule", "first_pass", "plan_segments", "segment_output", "join_segments", "join_paths",
           "reframe_split", "remove_stale"]

DEFAULT_SEGMENT_SECONDS = 60.0


@dataclass
class Schedule:
    """The first pass over an input: per frame ``(rate_sample, cut, release)`` and its pts, and the fps."""

    frames: list[tuple[bool, bool, int]]
    pts: list[int | None]
    fps: float

    @property
    def cuts(self) -> list[int]:
        """Frames that start a shot (0 included)."""
        return [i for i, (_, cut, _) in enumerate(self.frames) if cut]


def first_pass(src: str | os.PathLike[str], stride: int | None = None,
               scene_threshold: float | None = None) -> Schedule:
    """Decode every frame of ``src`` once and record the shot detector's and the sampling rule's verdicts
    (the core's, with the same options the engines get)."""
    src = Path(src)
    probe = _probe(src)
    kwargs = {k: v for k, v in (("stride", stride), ("scene_threshold", scene_threshold)) if v is not None}
    try:
        recorder = _core().ScheduleRecorder(probe.width, probe.height, float(probe.fps), **kwargs)
    except ValueError as e:
        raise OptionError(str(e)) from None
    pts: list[int | None] = []
    try:
        with _open_input(src) as inp:
            video = inp.streams.video[0]
            video.thread_type = "AUTO"
            for frame in inp.decode(video):
                pic = Picture(frame)
                if (pic.width, pic.height) != (probe.width, probe.height):
                    raise ReframeError(f"{src}: frame {len(pts)} is {pic.width}x{pic.height}, the stream started "
                                       f"at {probe.width}x{probe.height}; size changes are not supported")
                pic.push_to(recorder)
                pts.append(frame.pts)
    except av.error.FFmpegError as e:
        raise ReframeError(f"{src}: {e}") from None
    if not pts:
        raise ReframeError(f"{src}: no frame could be decoded")
    # Seeking by pts needs them all known and increasing; otherwise segments decode from the start.
    if any(p is None for p in pts) or any(b <= a for a, b in zip(pts, pts[1:])):  # type: ignore[operator]
        pts = [None] * len(pts)
    return Schedule(recorder.finish(), pts, float(probe.fps))


def plan_segments(schedule: Schedule, segment_seconds: float = DEFAULT_SEGMENT_SECONDS) -> list[Segment]:
    """Whole shots grouped into segments of at least ``segment_seconds`` (a longer shot is one segment)."""
    if not segment_seconds > 0:
        raise OptionError(f"segment_seconds={segment_seconds} is not valid: must be > 0")
    n = len(schedule.frames)
    min_frames = max(1, round(segment_seconds * schedule.fps))
    starts = [0]
    for cut in schedule.cuts[1:]:
        if cut - starts[-1] >= min_frames:
            starts.append(cut)
    segments = []
    for a, b in zip(starts, starts[1:] + [n]):
        # The whole run's verdicts came with its pushes: make them and the closing push relative to `a`.
        frames = [(rate, cut, release - a) for rate, cut, release in schedule.frames[a:b]]
        end = (schedule.frames[b][2] if b < n else n) - a
        segments.append(Segment(a, schedule.pts[a], frames, end))
    return segments


def segment_output(dst: str | os.PathLike[str], index: int) -> Path:
    """Where segment ``index`` of ``dst`` is written (hidden, beside it, so on the same file system)."""
    dst = Path(dst)
    return dst.with_name(f".{dst.stem}.salcrop-part{index:04d}{dst.suffix}")


def remove_stale(dst: str | os.PathLike[str], parts: bool = True) -> int:
    """Delete what killed attempts at ``dst`` left: its temporary files (``.NAME.salcrop-PID.ext``, see
    pipeline.temp_beside), and with ``parts`` its segments and theirs. Only for an output no live task writes."""
    dst = Path(dst)
    stem = re.sub(r"([*?\[])", r"[\1]", dst.stem)
    patterns = [f".{stem}.salcrop-*", f"..{stem}.salcrop-part*"] if parts else [f".{stem}.salcrop-[0-9]*"]
    removed = 0
    for pattern in patterns:
        for p in dst.parent.glob(pattern):
            p.unlink(missing_ok=True)
            removed += 1
    return removed


def join_paths(parts: list[CropPath]) -> CropPath:
    """The segments' crop paths as one: frame and shot indices made global, each shot's camera segments, people
    tracks and kept subjects kept. Each segment's engine numbers its tracks from 0, so a segment's track ids
    (``tracks``, ``speaker``, ``subjects``) are offset past the previous segments' highest: unique through the
    whole path and in order of appearance, as a whole run's are (they equal a whole run's ids only where the
    segments saw the same tracks: a segment's face detector starts its cadence on the segment's first frame)."""
    if not parts:
        raise ValueError("no parts to join")
    out = CropPath(parts[0].source, parts[0].ratio, version=parts[0].version)
    id_base = 0
    for part in parts:
        frame_base, shot_base = len(out.frames), len(out.shots)
        ids = [t["id"] for s in part.shots for t in (s.tracks or []) if isinstance(t.get("id"), int)]
        ids += [i for s in part.shots for i in (s.subjects or [])]
        ids += [f.speaker for f in part.frames if f.speaker is not None]
        for f in part.frames:
            f.shot += shot_base
            if f.speaker is not None:
                f.speaker += id_base
            out.frames.append(f)
        out.shots += [Shot(s.start + frame_base, s.end + frame_base, s.mode,
                           [PathSegment(g.start + frame_base, g.end + frame_base, g.mode) for g in s.segments],
                           s.reason,
                           None if s.subjects is None else [i + id_base for i in s.subjects],
                           None if s.tracks is None else [
                               {**t, "id": t["id"] + id_base, "start": t["start"] + frame_base,
                                "end": t["end"] + frame_base} for t in s.tracks])
                      for s in part.shots]
        id_base += max(ids) + 1 if ids else 0
    return out


def _packets(container: Any, stream: Any) -> Iterator[av.Packet]:
    for packet in container.demux(stream):
        if packet.dts is not None:  # not the demuxer's end-of-stream marker
            yield packet


def _part_packets(parts: list[Path], first: Any) -> Iterator[av.Packet]:
    """The video packets of every part, in order. Each part kept the input's timestamps, so joining is
    copying: what FFmpeg's concat demuxer does with ``-copyts`` (this FFmpeg build leaves that demuxer out)."""
    rate = first.average_rate or first.guessed_rate
    # A packet read back may carry no duration; the muxer takes the last one's for the track's end (and its
    # edit list), which would hide the last frame.
    step = max(1, round(1 / (rate * first.time_base))) if rate and first.time_base else 1
    for part in parts:
        with av.open(str(part)) as c:
            v = c.streams.video[0]
            if v.codec_context.extradata != first.codec_context.extradata or v.time_base != first.time_base:
                raise ReframeError(f"{part}: encoded differently from the first segment; cannot join by copying")
            for packet in _packets(c, v):
                if not packet.duration:
                    packet.duration = step
                yield packet


def join_segments(parts: list[Path], src: str | os.PathLike[str], dst: str | os.PathLike[str],
                  audio: bool = True) -> Path:
    """Join the parts (stream copy) with the audio of ``src`` (copied, or AAC when the container cannot hold
    its codec) into ``dst``, written under a temporary name and renamed."""
    dst = Path(dst)
    tmp = temp_beside(dst)
    try:
        with av.open(str(parts[0])) as head, _open_input(Path(src)) as source, av.open(str(tmp), "w") as out:
            vfirst = head.streams.video[0]
            vout = out.add_stream_from_template(vfirst)
            streams: list[tuple[Any, Iterator[av.Packet]]] = [(vout, _part_packets(parts, vfirst))]
            ain = source.streams.audio[0] if audio and source.streams.audio else None
            aenc = None
            if ain is not None and ain.codec_context is not None:
                if ain.codec_context.codec.canonical_name in out.supported_codecs:
                    streams.append((out.add_stream_from_template(ain), _packets(source, ain)))
                else:
                    aenc = out.add_stream("aac", rate=ain.rate, layout=ain.layout)
                    streams.append((aenc, _packets(source, ain)))
            # Interleaved by time: the muxer gets both streams in order, nothing buffered whole.
            heads: list[av.Packet | None] = [next(it, None) for _, it in streams]
            while any(h is not None for h in heads):
                k = min((i for i, h in enumerate(heads) if h is not None),
                        key=lambda i: heads[i].dts * heads[i].time_base)  # type: ignore[union-attr]
                packet = heads[k]
                assert packet is not None
                sout, it = streams[k]
                if sout is aenc:
                    for frame in packet.decode():
                        frame.pts = None  # let the encoder count samples
                        out.mux(aenc.encode(frame))
                else:
                    packet.stream = sout
                    out.mux(packet)
                heads[k] = next(it, None)
            if aenc is not None:
                out.mux(aenc.encode(None))
        os.replace(tmp, dst)
    except av.error.FFmpegError as e:
        tmp.unlink(missing_ok=True)
        raise ReframeError(f"{dst}: joining {len(parts)} segments failed: {e}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dst


def reframe_split(src: str | os.PathLike[str], dst: str | os.PathLike[str], ratio: str = "9:16", *,
                  segment_seconds: float = DEFAULT_SEGMENT_SECONDS, audio: bool = True,
                  codec_options: dict[str, str] | None = None, **options: Any) -> CropPath:
    """:func:`~salcrop_filter.reframe` by segments, one after another on this machine: the same output
    (frame count, timestamps, crop path) as one run. cluster.py gives the segments to different workers."""
    src, dst = Path(src), Path(dst)
    schedule = first_pass(src, options.get("stride"), options.get("scene_threshold"))
    segments = plan_segments(schedule, segment_seconds)
    parts = [segment_output(dst, k) for k in range(len(segments))]
    try:
        paths = [reframe(src, part, ratio, segment=seg, codec_options=codec_options, **options)
                 for seg, part in zip(segments, parts)]
        join_segments(parts, src, dst, audio)
    finally:
        for part in parts:
            part.unlink(missing_ok=True)
    return join_paths(paths)
