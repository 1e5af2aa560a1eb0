"""Reframing videos with PyAV: :func:`reframe` (file to file) and :class:`Reframer` (your own PyAV loop).

Every decision (saliency, shots, the camera path) comes from the C++ core through ``salcrop_filter._core``;
this module only moves pixels: decode, push, crop what the core decided, encode. For the same input and
options the crop path equals the FFmpeg filter's, frame for frame.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import av
import numpy as np

from .croppath import CropPath, CropPathError
from .spherepath import SpherePath, spherical_layout
from .decoders import missing_decoder
from .errors import OptionError, ReframeError
from .hearing import AudioFeed
from .picture import Picture, fit
from .writer import SourceLook, VideoWriter, temp_beside

__all__ = ["reframe", "Reframer", "ReframeError", "OptionError", "ENGINE_OPTIONS", "VideoWriter", "Segment",
           "parse_ratios"]

# The filter's options, by the names the core's Engine takes them (docs/PYTHON_CORE_API.md).
ENGINE_OPTIONS = ("model", "device", "mode", "stride", "lookahead", "scene_threshold", "smoothing", "pad", "threads",
                  "keyframes", "projection", "fov", "view_width", "view_height", "stereo", "front", "max_memory",
                  "subjects", "speakers")

log = logging.getLogger("salcrop")

Progress = Callable[[int, "int | None"], None]


# --- engine -------------------------------------------------------------------------------------


def _core():  # imported late so that CropPath and the CLI's --help work without the extension
    from . import _core as core

    return core


def _engine_kwargs(options: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(options) - set(ENGINE_OPTIONS))
    if unknown:
        raise OptionError(f"unknown option(s) {', '.join(unknown)}; allowed: {', '.join(ENGINE_OPTIONS)}")
    # None means "the core's default", so the defaults live in one place (the core).
    kwargs = {k: v for k, v in options.items() if v is not None}
    if "keyframes" in kwargs:
        kwargs["keyframes"] = _json_option("keyframes", kwargs["keyframes"], "{'t' or 'frame', 'x', 'y'}")
    if "subjects" in kwargs:
        kwargs["subjects"] = _json_option("subjects", kwargs["subjects"], "{'t' or 'frame', 'box': [x, y, w, h]}")
    return kwargs


def _json_option(name: str, value: Any, item: str) -> str:
    """The core takes keyframes and subjects as JSON text (it parses and checks them): a file's text, or a list
    dumped."""
    if isinstance(value, (str, os.PathLike)):
        try:
            return Path(value).read_text(encoding="utf-8")
        except OSError as e:
            raise OptionError(f"{name}: {os.fspath(value)}: cannot read: {e.strerror}") from None
    if isinstance(value, (list, tuple)):
        try:
            return json.dumps(list(value))
        except TypeError as e:
            raise OptionError(f"{name}: {e}") from None
    raise OptionError(f"{name}: a JSON file or a list of {item}, got {type(value).__name__}")


def parse_ratios(text: str) -> list[str]:
    """A list of ratios (``"9:16,1:1,4:5"`` or ``"9/16|1|4/5"``) as the core reads it, each as ``"W:H"``;
    :class:`OptionError` for one it does not understand or one given twice (``9:16`` and ``18:32``)."""
    try:
        return [f"{n}:{d}" for n, d in _core().parse_ratios(text)]
    except ValueError as e:
        raise OptionError(str(e)) from None


@dataclass(frozen=True)
class Segment:
    """Frames ``[start, start + len(schedule))`` of an input, starting at a cut, planned alone but exactly as
    in a run over the whole input: the engine replays the whole run's shot verdicts and sampling
    (``schedule``: ``(rate_sample, cut, release)`` per frame, ``end``: the push that closed its last shot,
    both relative to ``start``; see shot_segments.py). ``start_pts``: the first frame's pts, to seek to it."""

    start: int
    start_pts: int | None
    schedule: list[tuple[bool, bool, int]]
    end: int

    @property
    def count(self) -> int:
        return len(self.schedule)


def make_engine(width: int, height: int, fps: float, ratio: str, keep_maps: bool = False,
                frame_bytes: int = 0, segment: Segment | None = None, **options: Any):
    """Create a ``_core.Engine``; bad options raise :class:`OptionError`, model trouble :class:`ReframeError`.

    ``frame_bytes``: what the caller keeps per frame awaiting its decision (:meth:`Picture.nbytes`); when
    given, the core settles how many such frames fit the memory budget (``engine.frames_in_memory``, option
    ``max_memory``); without a budget (``max_memory`` < 0) a frame size whose worst case does not fit in memory
    raises :class:`ReframeError` naming a lookahead that fits (the core's ``Engine.check_buffer``, as the FFmpeg
    filter does).
    """
    kwargs = _engine_kwargs(options)
    replay = {} if segment is None else {"replay": segment.schedule, "replay_end": segment.end}
    try:
        engine = _core().Engine(width, height, float(fps), ratio=ratio, keep_maps=keep_maps, **kwargs, **replay)
    except ValueError as e:
        raise OptionError(str(e)) from None
    except TypeError as e:  # e.g. stride="x": pybind11's message lists the signature; say which option instead
        raise OptionError(f"bad option type ({', '.join(f'{k}={v!r}' for k, v in kwargs.items())}): {e}") from None
    except RuntimeError as e:
        raise ReframeError(str(e)) from None
    if frame_bytes > 0:
        try:
            engine.check_buffer(frame_bytes)
        except ValueError as e:
            raise ReframeError(str(e)) from None
    return engine


# --- pictures -----------------------------------------------------------------------------------


def _render(engine: Any, pic: Picture, d: Any, out_size: tuple[int, int], output: int = 0) -> av.VideoFrame:
    if d.fov > 0:  # projection=equirect: the core renders the view
        return av.VideoFrame.from_ndarray(np.ascontiguousarray(engine.render_view(d, pic.rgb)), format="rgb24")
    if d.padded:
        return av.VideoFrame.from_ndarray(np.ascontiguousarray(engine.render_padded(d, pic.rgb, output=output)),
                                          format="rgb24")
    return fit(pic.crop(d.x, d.y, d.w, d.h), *out_size)


class _Timestamps:
    """ffmpeg's best-effort timestamp (libavcodec's guess_correct_pts), which PyAV does not expose.

    AVI with packed B-frames (Megamind.avi) gives frames whose pts are out of order; ffmpeg then trusts the
    dts. Doing the same keeps output timestamps increasing and equal to what the ffmpeg CLI writes.
    """

    def __init__(self, step: int = 1) -> None:
        self.step = step  # one frame in the stream's time base: a frame with no timestamp at all follows the last
        self.faulty_pts = self.faulty_dts = 0
        self.last_pts = self.last_dts = None
        self.last_out: int | None = None

    def __call__(self, frame: av.VideoFrame) -> int | None:
        pts, dts = frame.pts, frame.dts
        if dts is not None:
            self.faulty_dts += self.last_dts is not None and dts <= self.last_dts
            self.last_dts = dts
        elif pts is not None:
            self.last_dts = pts
        if pts is not None:
            self.faulty_pts += self.last_pts is not None and pts <= self.last_pts
            self.last_pts = pts
        elif dts is not None:
            self.last_pts = dts
        ts = pts if (self.faulty_pts <= self.faulty_dts or dts is None) and pts is not None else dts
        if ts is None and self.last_out is not None:
            ts = self.last_out + self.step  # as ffmpeg does (the last frame out of an AVI's decoder has none)
        if ts is not None and self.last_out is not None and ts <= self.last_out:
            ts = self.last_out + 1  # never hand an encoder a repeated timestamp
        if ts is not None:
            self.last_out = ts
        return ts


# --- reading ------------------------------------------------------------------------------------


@dataclass
class _Probe:
    width: int  # display orientation
    height: int
    fps: Fraction
    total: int | None
    frame_bytes: int  # Picture.nbytes() of the first frame
    spherical: tuple[str, str] | None = None  # the first frame's spherical side data: (projection, stereo)
    look: SourceLook | None = None  # what the outputs keep of the source: bit depth, colour, HDR, metadata
    sound: bool = False  # the input has an audio stream (the engine hears the first)


def _open_input(src: Path) -> Any:
    if not src.exists():
        raise ReframeError(f"{src}: no such file")
    try:
        # Tags that are not UTF-8 (a title or handler name in Latin-1, cut mid-character) are read with U+FFFD in
        # their place: PyAV's strict default raised UnicodeDecodeError on real files, ffmpeg reads them fine.
        c = av.open(str(src), metadata_errors="replace")
    except av.error.FFmpegError as e:
        raise ReframeError(f"{src}: not a readable video ({e.strerror or e})") from None
    # PyAV asks the demuxer to make up missing pts (AVFMT_FLAG_GENPTS); the ffmpeg CLI does not, and the made-up
    # ones of an AVI with packed B-frames put every frame after the first B-frame one frame late against ffmpeg's
    # timeline (Megamind.avi). Without them _Timestamps sees what libavcodec sees.
    c.flags = c.flags & ~av.container.Flags.gen_pts.value
    if not c.streams.video:
        c.close()
        raise ReframeError(f"{src}: has no video stream")
    # Decoding a stream without a decoder crashes PyAV (decoders.py): refuse it here, where every reader opens.
    why = missing_decoder(c, c.streams.video[0])
    if why is not None:
        c.close()
        raise ReframeError(f"{src}: {why}")
    return c


def _rate(stream: Any) -> Fraction:
    # av_guess_frame_rate, the rate ffmpeg's CLI gives the filter graph, so both plan with the same fps.
    for r in (stream.guessed_rate, stream.average_rate, stream.base_rate):
        if r:
            return Fraction(r)
    return Fraction(25)


def _probe(src: Path) -> _Probe:
    with _open_input(src) as c:
        v = c.streams.video[0]
        try:
            first = next(c.decode(v))
        except StopIteration:
            raise ReframeError(f"{src}: the video stream holds no frames") from None
        except av.error.FFmpegError as e:
            raise ReframeError(f"{src}: cannot decode the first frame ({e})") from None
        pic = Picture(first)
        fps = _rate(v)
        total = v.frames or None
        if total is None and c.duration:
            total = round(c.duration / 1e6 * float(fps))
        return _Probe(pic.width, pic.height, fps, total, pic.nbytes(), spherical_layout(first),
                      SourceLook.of(c, v, first), bool(c.streams.audio))


def default_speakers(sound: bool, flat: bool) -> str | None:
    """``speakers`` when none is given: the core's rule, the filter's too (``_core.default_speakers``, salcrop.h
    salcrop_default_speakers): "auto" for a 360° view (faces on the sphere pull it; the camera operator's face is
    too wide to count) and for a flat picture with sound (the camera follows who speaks), else None: the core's
    "off". reframe() and the editor know the sound from the file; Reframer cannot, and passes False."""
    return "auto" if _core().default_speakers(sound, not flat) == "auto" else None


def _decode(container: Any, video: Any, outs: list[VideoWriter], feed: AudioFeed | None = None) -> Iterator[av.VideoFrame]:
    """Video frames in display order; audio packets go straight to ``outs`` as they are demuxed (decoded once
    for all that re-encode it and for ``feed``, the engine's ears)."""
    carrying = [o for o in outs if o.audio_out is not None]
    carried = carrying[0].audio_in if carrying else None
    heard = feed.stream if feed is not None else None
    subtitles = {i for o in outs for i in o.subtitles}
    streams = ([video] + [carried] * (carried is not None) + [heard] * (heard is not None and heard is not carried)
               + [s for s in container.streams.subtitles if s.index in subtitles])
    for packet in container.demux(*streams):
        if packet.stream is video:
            yield from packet.decode()
            continue
        if packet.stream.index in subtitles:
            input_stream = packet.stream
            for out in outs:
                packet.stream = input_stream
                out.write_subtitle(packet)
            continue
        decoded = None
        if feed is not None and packet.stream is heard and packet.size:
            decoded = feed.decode(packet)
            feed.push(decoded)
        if packet.stream is not carried:
            continue
        for out in carrying:
            if out.audio_copy:
                out.write_audio(packet)
            else:
                if decoded is None:
                    decoded = list(packet.decode())
                out.encode_audio(decoded)


def _segment_frames(src: Path, container: Any, video: Any, frames: Iterator[av.VideoFrame],
                    segment: Segment) -> Iterator[av.VideoFrame]:
    """The segment's frames out of ``frames``: seek near its first frame (by pts, when known), drop what
    comes before it, stop after its last."""
    if segment.start_pts is not None and segment.start > 0:
        container.seek(segment.start_pts, stream=video, backward=True, any_frame=False)
        first = None
        for frame in frames:
            if frame.pts is not None and frame.pts >= segment.start_pts:
                first = frame
                break
        if first is None or first.pts != segment.start_pts:
            raise ReframeError(f"{src}: seeking to frame {segment.start} (pts {segment.start_pts}) found "
                               f"{'no frame' if first is None else f'pts {first.pts}'}")
        yield first
        taken = 1
    else:
        taken = 0
        for index, frame in enumerate(frames):
            if index == segment.start:
                yield frame
                taken = 1
                break
    if taken == 0:
        return
    for frame in frames:
        if taken == segment.count:
            return
        yield frame
        taken += 1


def _stamps(vin: Any) -> _Timestamps:
    return _Timestamps(max(1, round(1 / (_rate(vin) * vin.time_base)))) if vin.time_base else _Timestamps()


def _push_decoded(engine: Any, frame: av.VideoFrame, stamps: _Timestamps, vin: Any, pushed: int, probe: _Probe,
                  src: Path) -> tuple[Picture, int | None]:
    """Pushes the `pushed`-th decoded frame to the engine at its presentation time (the frame rate's where it has
    none), as a run that decides before it crops does (the first pass of two, the editor's analysis); the picture
    and its pts. A frame of another size than the stream's first is refused."""
    pic = Picture(frame)
    if (pic.width, pic.height) != (probe.width, probe.height):
        raise ReframeError(f"{src}: frame {pushed} is {pic.width}x{pic.height}, the stream started at "
                           f"{probe.width}x{probe.height}; size changes are not supported")
    pts = stamps(frame)
    pic.push_to(engine, float(pts * vin.time_base) if pts is not None else pushed / float(probe.fps))
    return pic, pts


def _analyse(src: Path, engine: Any, probe: _Probe, outputs: int, segment: Segment | None) -> list[deque[Any]]:
    """The first pass of a two-pass run: every frame pushed as the one-pass run pushes it, only its decisions kept
    (the pixels are decoded again to be cropped), so the held frames cost no memory and the path is the same."""
    decided: list[deque[Any]] = [deque() for _ in range(outputs)]
    with _open_input(src) as inp:
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        stamps = _stamps(vin)
        frames: Iterator[av.VideoFrame] = _decode(inp, vin, [])
        if segment is not None:
            frames = _segment_frames(src, inp, vin, frames, segment)
        pushed = 0
        for frame in frames:
            _push_decoded(engine, frame, stamps, vin, pushed, probe, src)
            pushed += 1
            for k in range(outputs):
                decided[k].extend(engine.pop(output=k))
        for k in range(outputs):
            decided[k].extend(engine.flush(output=k))
    return decided


# --- reframe ------------------------------------------------------------------------------------


def reframe(src: str | os.PathLike[str],
            dst: str | os.PathLike[str] | Mapping[str, str | os.PathLike[str]], ratio: str | None = None, *,
            path_in: CropPath | str | os.PathLike[str] | None = None,
            preview: str | os.PathLike[str] | None = None, audio: bool = True,
            codec: str | None = None, codec_options: dict[str, str] | None = None,
            progress: Progress | None = None, segment: Segment | None = None,
            **options: Any) -> CropPath | dict[str, CropPath]:
    """Reframe the video ``src`` to the aspect ``ratio`` (default 9:16) and write it to ``dst``; returns the crop path.

    Several ratios from one pass: ``dst`` a mapping from ratio to output file, e.g.
    ``reframe(src, {"9:16": "a.mp4", "1:1": "b.mp4"})`` (no ``ratio``); shots and the network run once,
    each ratio's path equals the path of a run with that ratio alone, and the result is a dict of paths keyed
    like ``dst``. A ratio given twice (``9:16`` and ``18:32``) or not understood raises :class:`OptionError`
    before anything is written; if any output fails, none is left.

    ``options`` are the FFmpeg filter's: model, device, mode, stride, lookahead, scene_threshold,
    smoothing, pad, threads, keyframes, subjects (None or absent = the core's default). ``keyframes``: a JSON file or
    a list of ``{"t": seconds or "frame": n, "x": px, "y": px}``, the window's centre pinned there. ``subjects``: a
    JSON file or a list of ``{"t": seconds or "frame": n, "box": [x, y, w, h]}`` (source pixels): each subject is
    tracked through its shot and kept inside the window (docs/subjects.md). ``speakers``: "auto" (faces count, and
    the camera follows who speaks; on a 360° view, faces pull the view) or "off" (saliency alone); absent: "auto"
    when ``src`` has sound or is a 360° view, else "off" (docs/speakers.md). ``path_in`` renders a given (e.g.
    hand-edited) crop path instead of planning one. ``preview`` also writes a side-by-side debug video
    (source with heatmap, window and mode | result). ``progress(done, total)`` is called per output frame.

    The output keeps the input's frame count and timestamps; audio is copied (or AAC when the container
    cannot hold it). It is written beside ``dst`` under a temporary name and renamed when complete; on
    error nothing is left behind and :class:`ReframeError` (or :class:`OptionError`) says why.

    ``segment`` (shot_segments.py): only that segment's frames, planned as the run over the whole input plans them,
    written without audio; the returned path's frame and shot indices are the segment's own.
    """
    if isinstance(dst, Mapping):
        if ratio is not None:
            raise OptionError("several ratios are given as dst's keys ({ratio: output}); leave ratio out")
        if not dst:
            raise OptionError("dst: an empty mapping; give {ratio: output file}")
        if path_in is not None or preview is not None:
            raise OptionError("path_in and preview take one ratio; give dst as one output file")
        ratios = [str(r) for r in dst]
        paths = _reframe(Path(src), [Path(d) for d in dst.values()], ratios, None, None, audio, codec,
                         codec_options, progress, segment, options)
        return dict(zip(dst.keys(), paths))
    if ratio is not None and ("," in ratio or "|" in ratio):
        raise OptionError(f"ratio={ratio!r}: several ratios are given as dst's keys ({{ratio: output}})")
    [path] = _reframe(Path(src), [Path(dst)], ["9:16" if ratio is None else ratio], path_in, preview, audio, codec,
                      codec_options, progress, segment, options)
    return path


def _reframe(src: Path, dsts: list[Path], ratios: list[str], path_in: CropPath | str | os.PathLike[str] | None,
             preview: str | os.PathLike[str] | None, audio: bool, codec: str | None,
             codec_options: dict[str, str] | None, progress: Progress | None, segment: Segment | None,
             options: dict[str, Any]) -> list[CropPath]:
    """:func:`reframe` with one output per ratio (one engine, one decode, one encoder per output)."""
    for dst in dsts:
        if src.resolve() == dst.resolve():
            raise ReframeError(f"{dst}: output would overwrite the input")
    named = [str(d.resolve()) for d in dsts]
    if len(set(named)) != len(named):
        raise OptionError(f"two ratios would be written to the same file ({', '.join(map(str, dsts))})")
    if isinstance(path_in, (str, os.PathLike)):
        from .spherepath import load_path

        path_in = load_path(path_in)
    view_path = None
    if path_in is not None and not isinstance(path_in, CropPath):
        view_path, path_in = path_in, None  # a 360° view path: rendered below, nothing planned
        if options.get("projection") not in (None, "equirect"):
            raise OptionError("a version 3 (360°) view path needs projection=equirect")
        options = {**options, "projection": "equirect"}
    if (view_path is not None or options.get("projection") == "equirect") and len(ratios) > 1:
        raise OptionError("a 360° input (projection=equirect) renders one view: give one ratio")
    if path_in is not None:
        path_in.validate()  # a path built or edited in code gets the same checks as a loaded one
    if path_in is not None and preview is not None:
        raise OptionError("preview needs the planner's saliency maps; it cannot be combined with path_in")
    if segment is not None and (path_in is not None or preview is not None):
        raise OptionError("a segment is planned from its schedule; it cannot be combined with path_in or preview")
    if segment is not None and options.get("keyframes") is not None:
        # A segment's frames and times count from its own start; the user's keyframes count from the input's.
        raise OptionError("keyframes cannot be combined with split runs (--split-shots) yet; run the file whole")
    if segment is not None and options.get("subjects") is not None:
        raise OptionError("subjects cannot be combined with split runs (--split-shots) yet; run the file whole")
    if segment is not None and options.get("projection") == "equirect":
        raise OptionError("a 360° input (projection=equirect) cannot be split into segments yet; run it whole")
    probe = _probe(src)
    if options.get("projection") is None and path_in is None and view_path is None:
        # FFmpeg's spherical side data (equirectangular) chooses the 360° view when projection is not given.
        layout = probe.spherical
        if layout is not None:
            if len(ratios) > 1:
                raise OptionError(f"{src} is a 360° video (spherical metadata): it renders one view, give one ratio")
            options = {**options, "projection": layout[0], "stereo": options.get("stereo") or layout[1]}
    flat = options.get("projection") in (None, "flat")
    if options.get("speakers") is None and path_in is None and view_path is None \
            and default_speakers(probe.sound, flat):
        options = {**options, "speakers": "auto"}
        if flat:
            log.info("%s: the input has sound: speakers=auto, the camera follows who speaks (--speakers off: "
                     "saliency alone)", src.name)
        else:
            log.info("%s: a 360° view: speakers=auto, the faces around the camera pull the view (--speakers off: "
                     "saliency alone)", src.name)
    if segment is not None:
        audio = False  # the joined file takes the source's audio once

    engine = None
    if view_path is not None:
        _engine_kwargs(options)
        if (int(view_path.source["width"]), int(view_path.source["height"])) != (probe.width, probe.height):
            raise CropPathError(f"the path is for a {view_path.source['width']}x{view_path.source['height']} "
                                f"source, {src} is {probe.width}x{probe.height}")
        out_sizes = [view_path.output_size()]
    elif path_in is None:
        # The core takes a list of ratios as one option: it refuses a bad or repeated one before any output exists.
        engine = make_engine(probe.width, probe.height, float(probe.fps), "|".join(ratios),
                             keep_maps=preview is not None, frame_bytes=probe.frame_bytes, segment=segment, **options)
        out_sizes = [tuple(s) for s in engine.output_sizes]
    else:
        _engine_kwargs(options)  # still refuse misspelt options
        if (path_in.source.width, path_in.source.height) != (probe.width, probe.height):
            raise CropPathError(f"the path is for a {path_in.source.width}x{path_in.source.height} source, "
                                f"{src} is {probe.width}x{probe.height}")
        w, h = path_in.output_size()
        out_sizes = [(w // 2 * 2, h // 2 * 2)]

    writers: list[VideoWriter] = []
    try:
        with _open_input(src) as inp:
            vin = inp.streams.video[0]
            vin.thread_type = "AUTO"
            first_fmt = "yuvj420p" if vin.codec_context.pix_fmt == "yuvj420p" else "yuv420p"
            container_options = {}
            if segment is not None and vin.time_base and vin.time_base.numerator == 1:
                # A segment starts late: MP4 stores that start in its movie time scale (1/1000 s by default),
                # which would move every timestamp of the segment by up to half a millisecond. In the stream's
                # own time scale the segment keeps the input's timestamps exactly (split.join_segments).
                container_options["movie_timescale"] = str(vin.time_base.denominator)
            outs = []
            for dst, size in zip(dsts, out_sizes):
                outs.append(VideoWriter(dst, size[0], size[1], vin.time_base, probe.fps, first_fmt, codec,
                                        codec_options, container_options, look=probe.look))
                writers.append(outs[-1])
                if audio and inp.streams.audio:
                    try:
                        carried = outs[-1].add_audio(inp.streams.audio[0])
                    except Exception as e:
                        raise ReframeError(f"{dst}: cannot carry the audio stream: {e}") from None
                    if not carried:
                        warnings.warn(f"{src}: audio dropped: this FFmpeg build cannot read its codec", stacklevel=3)
                        audio = False
                if segment is None:  # a segment's file is joined without them (the source's are not cut)
                    outs[-1].add_subtitles(inp.streams.subtitles)
            prev = None
            if preview is not None:
                from .preview import PreviewWriter

                prev = PreviewWriter(preview, probe.width, probe.height, out_sizes[0], vin.time_base, probe.fps)
                writers.append(prev.writer)
            stamps = _stamps(vin)
            pending: deque[tuple[Picture, int | None]] = deque()
            # When even the frames a run usually holds do not fit the memory budget (max_memory), none is held: a
            # first pass decides every frame, this one decodes them again and crops (the preview draws the maps
            # one by one). A rarer peak past the budget (an open fade: max_delay) stays in memory.
            decided = None
            if engine is not None and prev is None and engine.frames_in_memory < engine.usual_delay:
                log.info("%s: %d frames of %.1f MB usually await their decision, %d fit max_memory: two passes "
                         "(decide, then decode again and crop; the same path)", src, engine.usual_delay,
                         probe.frame_bytes / 1e6, engine.frames_in_memory)
                decided = _analyse(src, engine, probe, len(outs), segment)
            done = 0
            total = probe.total if segment is None else segment.count
            # The engine hears the first audio stream (who speaks), whether or not the output carries it.
            feed = None
            if engine is not None:
                if inp.streams.audio:
                    feed = AudioFeed(engine, inp.streams.audio[0], str(src))
                else:
                    engine.audio_end()
            frames: Iterator[av.VideoFrame] = _decode(inp, vin, outs, feed)
            if segment is not None:
                frames = _segment_frames(src, inp, vin, frames, segment)

            def emit(pts: int | None, results: list[av.VideoFrame]) -> None:
                nonlocal done
                for out, frame in zip(outs, results):
                    out.write(frame, pts)
                done += 1
                if progress is not None:
                    progress(done, total)

            def emit_decisions(decisions: list[list[Any]]) -> None:
                # decisions[k]: output k's; every output decides the same frames at the same push (engine.h)
                for ds in zip(*decisions):
                    pic, pts = pending.popleft()
                    if any(d.frame != done for d in ds):
                        raise ReframeError(f"internal: decision for frame {ds[0].frame} arrived for frame {done}")
                    results = [_render(engine, pic, d, size, k) for k, (d, size) in enumerate(zip(ds, out_sizes))]
                    if prev is not None:
                        prev.write(engine, ds[0], pic, results[0], pts)
                    emit(pts, results)

            # draw_debug draws the most recently popped decision: with a preview (one ratio), one at a time.
            one_by_one = prev is not None

            def drain(take: Callable[..., list[Any]]) -> None:
                if not one_by_one:
                    emit_decisions([take(output=k) for k in range(len(outs))])
                    return
                while batch := take(1):
                    emit_decisions([batch])
                    take = engine.pop

            for frame in frames:
                pic = Picture(frame)
                if (pic.width, pic.height) != (probe.width, probe.height):
                    raise ReframeError(f"{src}: frame {done + len(pending)} is {pic.width}x{pic.height}, "
                                       f"the stream started at {probe.width}x{probe.height}; size changes are not supported")
                pts = stamps(frame)
                if view_path is not None:
                    if done >= len(view_path.frames):
                        raise CropPathError(f"the path has {len(view_path.frames)} frames, {src} has more")
                    v = view_path.frames[done]
                    rgb = _core().render_equirect_view(_eye(pic.rgb, view_path.source.get("stereo", "mono")),
                                                       v.yaw, v.pitch, v.fov, *out_sizes[0])
                    emit(pts, [av.VideoFrame.from_ndarray(rgb, format="rgb24")])
                    continue
                if engine is None:
                    assert path_in is not None
                    if done >= len(path_in.frames):
                        raise CropPathError(f"the path has {len(path_in.frames)} frames, {src} has more")
                    f = path_in.frames[done]
                    emit(pts, [fit(pic.crop(f.x, f.y, f.w, f.h), *out_sizes[0])])
                    continue
                if decided is not None:
                    if not decided[0]:
                        raise ReframeError(f"{src}: the second pass decoded more frames than the first")
                    pending.append((pic, pts))
                    emit_decisions([[q.popleft()] for q in decided])
                    continue
                t = float(pts * vin.time_base) if pts is not None else (done + len(pending)) / float(probe.fps)
                pic.push_to(engine, t)
                pending.append((pic, pts))
                drain(engine.pop)
            if decided is not None and decided[0]:
                raise ReframeError(f"{src}: the second pass decoded {done} frames, the first {done + len(decided[0])}")
            if engine is not None:
                if feed is not None:
                    feed.end()
                drain(engine.flush)
                for k in range(len(outs)):  # what the camera did, as the filter logs it at the end
                    log.info("%s: %s", src.name, engine.summary(output=k))
                if options.get("projection") == "equirect":
                    result_paths = [SpherePath.from_json(engine.path_json())]
                else:
                    result_paths = [CropPath.from_json(engine.path_json(output=k)) for k in range(len(outs))]
            elif view_path is not None:
                if done != len(view_path.frames):
                    raise CropPathError(f"the path has {len(view_path.frames)} frames, {src} has {done}")
                result_paths = [view_path]
            else:
                assert path_in is not None
                if done != len(path_in.frames):
                    raise CropPathError(f"the path has {len(path_in.frames)} frames, {src} has {done}")
                result_paths = [path_in]
            if done == 0:
                raise ReframeError(f"{src}: no frame could be decoded")
            if segment is not None and done != segment.count:
                raise ReframeError(f"{src}: the segment at frame {segment.start} has {segment.count} frames, "
                                   f"{done} were decoded")
            # Every file complete before any is renamed into place: one failing leaves none behind.
            for w in writers:
                w.finish()
            for w in writers:
                w.commit()
            writers.clear()
            return result_paths
    except (ReframeError, OptionError, CropPathError):
        raise
    except av.error.FFmpegError as e:
        raise ReframeError(f"{src} -> {', '.join(map(str, dsts))}: {e}") from None
    except (RuntimeError, ValueError) as e:  # the core's errors while running
        raise ReframeError(f"{src}: {e}") from None
    finally:
        for w in writers:
            w.abort()


def _eye(rgb: np.ndarray, stereo: str) -> np.ndarray:
    """The eye a 360° view is rendered from (the top / left one of a stereo layout), as the core takes it."""
    h, w = rgb.shape[:2]
    if stereo == "tb":
        return np.ascontiguousarray(rgb[: h // 2])
    if stereo == "sbs":
        return np.ascontiguousarray(rgb[:, : w // 2])
    return rgb


# --- Reframer -----------------------------------------------------------------------------------


class Reframer:
    """Reframing inside your own PyAV loop.

    >>> r = Reframer("9:16", fps=25)
    >>> for frame in container.decode(video=0):
    ...     for out in r.push(frame):
    ...         ...  # encode `out`
    >>> for out in r.flush(): ...

    Frames come out after the planner's lookahead, cropped (yuv420p stays yuv420p, other formats come out
    as rgb24), with their pts and time base kept. The sound, for who speaks: give the stream's audio frames to
    :meth:`push_audio` as you decode them (their times on the video's clock) and call :meth:`audio_end` when the
    audio ends (or at once, when there is none); without either, the engine plans with faces and saliency. The engine is created on the first frame, from its size
    (upright) and ``fps`` (default 25: set the stream's rate for speed limits and lookahead in seconds).
    """

    def __init__(self, ratio: str = "9:16", *, fps: float | None = None, **options: Any) -> None:
        _engine_kwargs(options)
        if options.get("speakers") is None and default_speakers(False, options.get("projection") in (None, "flat")):
            options = {**options, "speakers": "auto"}  # a 360° view: faces on the sphere, as reframe() has them
        self.ratio = ratio
        self.fps = float(fps) if fps else 25.0
        self.options = options
        self.engine: Any = None
        self._pending: deque[Picture] = deque()
        self._pushed = 0
        self.output_size: tuple[int, int] | None = None  # known after the first push
        self.size: tuple[int, int] | None = None  # upright input size
        self._heard: list[av.AudioFrame] = []  # audio pushed before the first video frame made the engine
        self._feed: AudioFeed | None = None
        self._audio_ended = False

    def push(self, frame: av.VideoFrame) -> list[av.VideoFrame]:
        """Take one decoded frame; return every output frame ready now (possibly none)."""
        pic = Picture(frame)
        if self.engine is None:
            self.engine = make_engine(pic.width, pic.height, self.fps, self.ratio, frame_bytes=pic.nbytes(),
                                      **self.options)
            self.output_size = tuple(self.engine.output_size)
            self.size = (pic.width, pic.height)
            self._feed = AudioFeed(self.engine, None, "Reframer")
            self._feed.push(self._heard)
            self._heard.clear()
            if self._audio_ended:
                self._feed.end()
        elif (pic.width, pic.height) != self.size:
            raise ReframeError(f"frame {self._pushed} is {pic.width}x{pic.height}, earlier ones were "
                               f"{self.size[0]}x{self.size[1]}")
        t = frame.time if frame.time is not None else self._pushed / self.fps
        pic.push_to(self.engine, float(t))
        self._pushed += 1
        self._pending.append(pic)
        return self._emit(self.engine.pop())

    def push_audio(self, frame: av.AudioFrame) -> None:
        """Take one decoded audio frame of the input (any format, rate and layout), for who speaks. A frame the
        core refuses (e.g. a 4 kHz rate) warns and ends the sound; the video goes on."""
        if self._audio_ended:
            return
        if self._feed is None:
            self._heard.append(frame)
        else:
            self._feed.push([frame])

    def audio_end(self) -> None:
        """No more sound (or none): decisions stop waiting for it."""
        self._audio_ended = True
        if self._feed is not None:
            self._feed.end()

    def flush(self) -> list[av.VideoFrame]:
        """End of stream: every remaining output frame."""
        if self.engine is None:
            return []
        self.audio_end()
        return self._emit(self.engine.flush())

    def _emit(self, decisions: list[Any]) -> list[av.VideoFrame]:
        out = []
        for d in decisions:
            pic = self._pending.popleft()
            f = _render(self.engine, pic, d, self.output_size)  # type: ignore[arg-type]
            f.pts = pic.frame.pts
            f.time_base = pic.frame.time_base
            out.append(f)
        return out

    @property
    def path(self) -> CropPath | SpherePath:
        """The crop path of every frame emitted so far (a 360° view's: a SpherePath, as reframe() returns)."""
        if self.engine is None:
            raise ReframeError("no frame has been pushed yet")
        if self.options.get("projection") == "equirect":
            return SpherePath.from_json(self.engine.path_json())
        return CropPath.from_json(self.engine.path_json())
