"""Reframing videos with PyAV: :func:`reframe` (file to file) and :class:`Reframer` (your own PyAV loop).

Every decision (saliency, shots, the camera path) comes from the C++ core through ``salcrop_filter._core``;
this module only moves pixels: decode, push, crop what the core decided, encode. For the same input and
options the crop path equals the FFmpeg filter's, frame for frame.
"""

from __future__ import annotations

import json
import os
import warnings
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterator

import av
import numpy as np

from .croppath import CropPath, CropPathError
from .decoders import missing_decoder

__all__ = ["reframe", "Reframer", "ReframeError", "OptionError", "ENGINE_OPTIONS", "VideoWriter", "Segment"]

# The filter's options, by the names the core's Engine takes them (docs/PYTHON_CORE_API.md).
ENGINE_OPTIONS = ("model", "device", "mode", "stride", "lookahead", "scene_threshold", "smoothing", "pad", "threads",
                  "keyframes")

# Containers where libx264 is the natural default; elsewhere the container's own default codec.
_X264_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv"}

Progress = Callable[[int, "int | None"], None]


class ReframeError(RuntimeError):
    """Processing failed (unreadable input, model problem, encoder error); the message says what and where."""


class OptionError(ValueError):
    """An option value the core refuses; the message names the option and what is allowed."""


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
        kwargs["keyframes"] = _keyframes_json(kwargs["keyframes"])
    return kwargs


def _keyframes_json(keyframes: Any) -> str:
    """The core takes keyframes as JSON text (it parses and checks them): a file's text, or a list dumped."""
    if isinstance(keyframes, (str, os.PathLike)):
        try:
            return Path(keyframes).read_text(encoding="utf-8")
        except OSError as e:
            raise OptionError(f"keyframes: {os.fspath(keyframes)}: cannot read: {e.strerror}") from None
    if isinstance(keyframes, (list, tuple)):
        try:
            return json.dumps(list(keyframes))
        except TypeError as e:
            raise OptionError(f"keyframes: {e}") from None
    raise OptionError(f"keyframes: a JSON file or a list of {{'t' or 'frame', 'x', 'y'}}, got {type(keyframes).__name__}")


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
    given, a frame size whose worst case does not fit in memory raises :class:`ReframeError` naming a
    lookahead that fits (the core's ``Engine.check_buffer``, as the FFmpeg filter does).
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


# --- pictures in display orientation ------------------------------------------------------------


class Picture:
    """A decoded frame turned upright (rotation metadata applied, as ffmpeg's autorotate does).

    yuv420p/yuvj420p frames stay planar (cropping is slicing, no colour conversion, and the core reads
    the same bytes the FFmpeg filter reads); other formats are converted to RGB once.
    """

    def __init__(self, frame: av.VideoFrame, apply_rotation: bool = True) -> None:
        self.frame = frame
        # frame.rotation is the counter-clockwise angle that makes the picture upright; np.rot90 turns
        # counter-clockwise for positive k, so k = rotation / 90.
        self.turns = (round(frame.rotation / 90) % 4) if apply_rotation else 0
        self.planar = frame.format.name in ("yuv420p", "yuvj420p")
        # The filter's rule: yuvj420p, or a frame tagged full range (AVCOL_RANGE_JPEG == 2).
        self.full_range = frame.format.name == "yuvj420p" or int(frame.color_range) == 2
        self._planes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._rgb: np.ndarray | None = None
        w, h = frame.width, frame.height
        self.width, self.height = (h, w) if self.turns % 2 else (w, h)

    def nbytes(self) -> int:
        """Bytes this picture holds while it waits for its decision: the decoded frame, plus the RGB copy
        made of formats other than yuv420p."""
        decoded = sum(p.buffer_size for p in self.frame.planes)
        return decoded + (0 if self.planar else self.width * self.height * 3)

    def _upright(self, a: np.ndarray) -> np.ndarray:
        return np.rot90(a, self.turns) if self.turns else a

    @property
    def planes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._planes is None:
            out = []
            for p in self.frame.planes:
                a = np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width]
                out.append(self._upright(a))
            self._planes = (out[0], out[1], out[2])
        return self._planes

    @property
    def rgb(self) -> np.ndarray:
        if self._rgb is None:
            self._rgb = np.ascontiguousarray(self._upright(self.frame.to_ndarray(format="rgb24")))
        return self._rgb

    def push_to(self, engine: Any, *t: float) -> None:
        """Push to a core object: an ``Engine`` (with the time ``t``) or a ``ScheduleRecorder`` (without)."""
        if self.planar:
            y, u, v = (np.ascontiguousarray(p) for p in self.planes)
            # The filter's rule: BT.709 only when the frame says so (AVCOL_SPC_BT709 == 1), else BT.601.
            engine.push_yuv420p(y, u, v, *t, full_range=self.full_range,
                                colorspace=int(int(self.frame.colorspace) == 1))
        else:
            engine.push_rgb(self.rgb, *t)

    def crop(self, x: int, y: int, w: int, h: int) -> av.VideoFrame:
        """The region as a new frame (same pixel format when planar and the region is chroma-aligned)."""
        if self.planar and x % 2 == 0 and y % 2 == 0 and w % 2 == 0 and h % 2 == 0:
            out = av.VideoFrame(w, h, self.frame.format.name)
            pl = self.planes
            regions = (pl[0][y : y + h, x : x + w], pl[1][y // 2 : (y + h) // 2, x // 2 : (x + w) // 2],
                       pl[2][y // 2 : (y + h) // 2, x // 2 : (x + w) // 2])
            for dst, src in zip(out.planes, regions):
                np.frombuffer(dst, np.uint8).reshape(dst.height, dst.line_size)[:, : dst.width] = src
            return out
        return av.VideoFrame.from_ndarray(np.ascontiguousarray(self.rgb[y : y + h, x : x + w]), format="rgb24")


def _fit(frame: av.VideoFrame, width: int, height: int) -> av.VideoFrame:
    """Scale a frame to fit width x height keeping its shape, black bars around (hand-edited odd sizes)."""
    if frame.width == width and frame.height == height:
        return frame
    s = min(width / frame.width, height / frame.height)
    fw, fh = max(2, round(frame.width * s) // 2 * 2), max(2, round(frame.height * s) // 2 * 2)
    fw, fh = min(fw, width), min(fh, height)
    small = frame.reformat(width=fw, height=fh, format="rgb24").to_ndarray()
    canvas = np.zeros((height, width, 3), np.uint8)
    oy, ox = (height - fh) // 2, (width - fw) // 2
    canvas[oy : oy + fh, ox : ox + fw] = small
    return av.VideoFrame.from_ndarray(canvas, format="rgb24")


def _render(engine: Any, pic: Picture, d: Any, out_size: tuple[int, int]) -> av.VideoFrame:
    if d.padded:
        return av.VideoFrame.from_ndarray(np.ascontiguousarray(engine.render_padded(d, pic.rgb)), format="rgb24")
    return _fit(pic.crop(d.x, d.y, d.w, d.h), *out_size)


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


# --- writing ------------------------------------------------------------------------------------


def temp_beside(dst: Path) -> Path:
    """A temporary name in dst's folder (same suffix, so the container is guessed the same way)."""
    return dst.with_name(f".{dst.stem}.salcrop-{os.getpid()}{dst.suffix}")


class VideoWriter:
    """An output file written under a temporary name and renamed into place only when complete."""

    def __init__(self, dst: str | os.PathLike[str], width: int, height: int, time_base: Fraction,
                 rate: Fraction, pix_fmt: str = "yuv420p", codec: str | None = None,
                 codec_options: dict[str, str] | None = None,
                 container_options: dict[str, str] | None = None) -> None:
        self.dst = Path(dst)
        self.tmp = temp_beside(self.dst)
        try:
            self.container = av.open(str(self.tmp), "w", options=dict(container_options or {}))
        except (av.error.FFmpegError, ValueError) as e:
            raise ReframeError(f"{self.dst}: cannot write this file: {e}") from None
        try:
            if codec is None:
                codec = ("libx264" if self.dst.suffix.lower() in _X264_SUFFIXES and "libx264" in av.codecs_available
                         else self.container.default_video_codec)
            self.video = self.container.add_stream(codec, rate=rate, options=dict(codec_options or {}))
            self.video.width, self.video.height = width, height
            self.video.pix_fmt = pix_fmt if pix_fmt in ("yuv420p", "yuvj420p") else "yuv420p"
            # The input's time base, so every output frame keeps its input timestamp exactly.
            self.video.time_base = time_base
            self.video.codec_context.time_base = time_base
        except Exception as e:
            self.abort()
            raise ReframeError(f"{self.dst}: cannot set up the {codec} encoder: {e}") from None
        self.audio_in: Any = None
        self.audio_out: Any = None
        self.audio_copy = False

    def add_audio(self, stream: Any) -> bool:
        """Carry an input audio stream: copied when the container takes its codec, else AAC (or, where the
        container cannot hold AAC, its own default: Opus in WebM).

        False when it cannot be carried at all: PyAV gives no codec context (so neither copy nor decode)
        for a codec this FFmpeg build has no decoder for.
        """
        ctx = stream.codec_context
        if ctx is None:
            return False
        self.audio_in = stream
        if ctx.codec.canonical_name in self.container.supported_codecs:
            self.audio_out = self.container.add_stream_from_template(stream)
            self.audio_copy = True
        else:
            # AAC where the container takes it, else Opus through libopus (WebM's default, "opus", is FFmpeg's
            # experimental native encoder, which needs -strict -2), else whatever the container's default is.
            supported = self.container.supported_codecs
            codec = next((enc for name, enc in (("aac", "aac"), ("opus", "libopus"))
                          if name in supported and enc in av.codecs_available), self.container.default_audio_codec)
            # Opus takes 48 kHz and a few others only; PyAV's encoder resamples to the rate set here.
            rates = av.Codec(codec, "w").audio_rates
            rate = stream.rate if not rates or stream.rate in rates else max(rates)
            self.audio_out = self.container.add_stream(codec, rate=rate, layout=stream.layout)
        return True

    def write_audio(self, packet: av.Packet) -> None:
        if self.audio_copy:
            if packet.dts is None:  # the demuxer's end-of-stream marker
                return
            packet.stream = self.audio_out
            self.container.mux(packet)
        else:
            for frame in packet.decode():
                frame.pts = None  # let the encoder count samples; the AAC priming is its business
                self.container.mux(self.audio_out.encode(frame))

    def write(self, frame: av.VideoFrame, pts: int | None) -> None:
        frame.pts = pts
        frame.time_base = self.video.codec_context.time_base
        self.container.mux(self.video.encode(frame))

    def close(self) -> Path:
        """Flush encoders, close and rename into place."""
        try:
            self.container.mux(self.video.encode(None))
            if self.audio_out is not None and not self.audio_copy:
                self.container.mux(self.audio_out.encode(None))
            self.container.close()
        except Exception:
            self.abort()
            raise
        os.replace(self.tmp, self.dst)
        return self.dst

    def abort(self) -> None:
        """Close and delete the partial file; never raises."""
        try:
            self.container.close()
        except Exception:
            pass
        try:
            self.tmp.unlink()
        except FileNotFoundError:
            pass


# --- reading ------------------------------------------------------------------------------------


@dataclass
class _Probe:
    width: int  # display orientation
    height: int
    fps: Fraction
    total: int | None
    frame_bytes: int  # Picture.nbytes() of the first frame


def _open_input(src: Path) -> Any:
    if not src.exists():
        raise ReframeError(f"{src}: no such file")
    try:
        c = av.open(str(src))
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
        return _Probe(pic.width, pic.height, fps, total, pic.nbytes())


def _decode(container: Any, video: Any, out: "VideoWriter") -> Iterator[av.VideoFrame]:
    """Video frames in display order; audio packets go straight to ``out`` as they are demuxed."""
    streams = [video] + ([out.audio_in] if out.audio_out is not None else [])
    for packet in container.demux(*streams):
        if packet.stream is video:
            yield from packet.decode()
        else:
            out.write_audio(packet)


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


# --- reframe ------------------------------------------------------------------------------------


def reframe(src: str | os.PathLike[str], dst: str | os.PathLike[str], ratio: str = "9:16", *,
            path_in: CropPath | str | os.PathLike[str] | None = None,
            preview: str | os.PathLike[str] | None = None, audio: bool = True,
            codec: str | None = None, codec_options: dict[str, str] | None = None,
            progress: Progress | None = None, segment: Segment | None = None, **options: Any) -> CropPath:
    """Reframe the video ``src`` to the aspect ``ratio`` and write it to ``dst``; returns the crop path.

    ``options`` are the FFmpeg filter's: model, device, mode, stride, lookahead, scene_threshold,
    smoothing, pad, threads, keyframes (None or absent = the core's default). ``keyframes``: a JSON file or a
    list of ``{"t": seconds or "frame": n, "x": px, "y": px}``, the window's centre pinned there. ``path_in`` renders a given (e.g.
    hand-edited) crop path instead of planning one. ``preview`` also writes a side-by-side debug video
    (source with heatmap, window and mode | result). ``progress(done, total)`` is called per output frame.

    The output keeps the input's frame count and timestamps; audio is copied (or AAC when the container
    cannot hold it). It is written beside ``dst`` under a temporary name and renamed when complete; on
    error nothing is left behind and :class:`ReframeError` (or :class:`OptionError`) says why.

    ``segment`` (shot_segments.py): only that segment's frames, planned as the run over the whole input plans them,
    written without audio; the returned path's frame and shot indices are the segment's own.
    """
    src, dst = Path(src), Path(dst)
    if src.resolve() == dst.resolve():
        raise ReframeError(f"{dst}: output would overwrite the input")
    if isinstance(path_in, (str, os.PathLike)):
        path_in = CropPath.load(path_in)
    if path_in is not None:
        path_in.validate()  # a path built or edited in code gets the same checks as a loaded one
    if path_in is not None and preview is not None:
        raise OptionError("preview needs the planner's saliency maps; it cannot be combined with path_in")
    if segment is not None and (path_in is not None or preview is not None):
        raise OptionError("a segment is planned from its schedule; it cannot be combined with path_in or preview")
    if segment is not None and options.get("keyframes") is not None:
        # A segment's frames and times count from its own start; the user's keyframes count from the input's.
        raise OptionError("keyframes cannot be combined with split runs (--split-shots) yet; run the file whole")
    probe = _probe(src)
    if segment is not None:
        audio = False  # the joined file takes the source's audio once

    engine = None
    if path_in is None:
        engine = make_engine(probe.width, probe.height, float(probe.fps), ratio, keep_maps=preview is not None,
                             frame_bytes=probe.frame_bytes, segment=segment, **options)
        out_size = tuple(engine.output_size)
    else:
        _engine_kwargs(options)  # still refuse misspelt options
        if (path_in.source.width, path_in.source.height) != (probe.width, probe.height):
            raise CropPathError(f"the path is for a {path_in.source.width}x{path_in.source.height} source, "
                                f"{src} is {probe.width}x{probe.height}")
        w, h = path_in.output_size()
        out_size = (w // 2 * 2, h // 2 * 2)

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
            out = VideoWriter(dst, out_size[0], out_size[1], vin.time_base, probe.fps, first_fmt, codec, codec_options,
                              container_options)
            writers.append(out)
            if audio and inp.streams.audio:
                try:
                    carried = out.add_audio(inp.streams.audio[0])
                except Exception as e:
                    raise ReframeError(f"{dst}: cannot carry the audio stream: {e}") from None
                if not carried:
                    warnings.warn(f"{src}: audio dropped: this FFmpeg build cannot read its codec", stacklevel=2)
            prev = None
            if preview is not None:
                from .preview import PreviewWriter

                prev = PreviewWriter(preview, probe.width, probe.height, out_size, vin.time_base, probe.fps)
                writers.append(prev.writer)
            stamps = _Timestamps(max(1, round(1 / (_rate(vin) * vin.time_base)))) if vin.time_base else _Timestamps()
            pending: deque[tuple[Picture, int | None]] = deque()
            done = 0
            total = probe.total if segment is None else segment.count
            frames: Iterator[av.VideoFrame] = _decode(inp, vin, out)
            if segment is not None:
                frames = _segment_frames(src, inp, vin, frames, segment)

            def emit(pts: int | None, frame: av.VideoFrame) -> None:
                nonlocal done
                out.write(frame, pts)
                done += 1
                if progress is not None:
                    progress(done, total)

            def emit_decisions(decisions: list[Any]) -> None:
                for d in decisions:
                    pic, pts = pending.popleft()
                    if d.frame != done:
                        raise ReframeError(f"internal: decision for frame {d.frame} arrived for frame {done}")
                    result = _render(engine, pic, d, out_size)
                    if prev is not None:
                        prev.write(engine, d, pic, result, pts)
                    emit(pts, result)

            # draw_debug draws the most recently popped decision: with a preview, take them one at a time.
            one_by_one = prev is not None

            def drain(take: Callable[..., list[Any]]) -> None:
                if not one_by_one:
                    emit_decisions(take())
                    return
                while batch := take(1):
                    emit_decisions(batch)
                    take = engine.pop

            for frame in frames:
                pic = Picture(frame)
                if (pic.width, pic.height) != (probe.width, probe.height):
                    raise ReframeError(f"{src}: frame {done + len(pending)} is {pic.width}x{pic.height}, "
                                       f"the stream started at {probe.width}x{probe.height}; size changes are not supported")
                pts = stamps(frame)
                if engine is None:
                    assert path_in is not None
                    if done >= len(path_in.frames):
                        raise CropPathError(f"the path has {len(path_in.frames)} frames, {src} has more")
                    f = path_in.frames[done]
                    emit(pts, _fit(pic.crop(f.x, f.y, f.w, f.h), *out_size))
                    continue
                t = float(pts * vin.time_base) if pts is not None else (done + len(pending)) / float(probe.fps)
                pic.push_to(engine, t)
                pending.append((pic, pts))
                drain(engine.pop)
            if engine is not None:
                drain(engine.flush)
                result_path = CropPath.from_json(engine.path_json())
            else:
                assert path_in is not None
                if done != len(path_in.frames):
                    raise CropPathError(f"the path has {len(path_in.frames)} frames, {src} has {done}")
                result_path = path_in
            if done == 0:
                raise ReframeError(f"{src}: no frame could be decoded")
            if segment is not None and done != segment.count:
                raise ReframeError(f"{src}: the segment at frame {segment.start} has {segment.count} frames, "
                                   f"{done} were decoded")
            for w in writers:
                w.close()
            writers.clear()
            return result_path
    except (ReframeError, OptionError, CropPathError):
        raise
    except av.error.FFmpegError as e:
        raise ReframeError(f"{src} -> {dst}: {e}") from None
    except (RuntimeError, ValueError) as e:  # the core's errors while running
        raise ReframeError(f"{src}: {e}") from None
    finally:
        for w in writers:
            w.abort()


# --- Reframer -----------------------------------------------------------------------------------


class Reframer:
    """Reframing inside your own PyAV loop.

    >>> r = Reframer("9:16", fps=25)
    >>> for frame in container.decode(video=0):
    ...     for out in r.push(frame):
    ...         ...  # encode `out`
    >>> for out in r.flush(): ...

    Frames come out after the planner's lookahead, cropped (yuv420p stays yuv420p, other formats come out
    as rgb24), with their pts and time base kept. The engine is created on the first frame, from its size
    (upright) and ``fps`` (default 25: set the stream's rate for speed limits and lookahead in seconds).
    """

    def __init__(self, ratio: str = "9:16", *, fps: float | None = None, **options: Any) -> None:
        _engine_kwargs(options)
        self.ratio = ratio
        self.fps = float(fps) if fps else 25.0
        self.options = options
        self.engine: Any = None
        self._pending: deque[Picture] = deque()
        self._pushed = 0
        self.output_size: tuple[int, int] | None = None  # known after the first push
        self.size: tuple[int, int] | None = None  # upright input size

    def push(self, frame: av.VideoFrame) -> list[av.VideoFrame]:
        """Take one decoded frame; return every output frame ready now (possibly none)."""
        pic = Picture(frame)
        if self.engine is None:
            self.engine = make_engine(pic.width, pic.height, self.fps, self.ratio, frame_bytes=pic.nbytes(),
                                      **self.options)
            self.output_size = tuple(self.engine.output_size)
            self.size = (pic.width, pic.height)
        elif (pic.width, pic.height) != self.size:
            raise ReframeError(f"frame {self._pushed} is {pic.width}x{pic.height}, earlier ones were "
                               f"{self.size[0]}x{self.size[1]}")
        t = frame.time if frame.time is not None else self._pushed / self.fps
        pic.push_to(self.engine, float(t))
        self._pushed += 1
        self._pending.append(pic)
        return self._emit(self.engine.pop())

    def flush(self) -> list[av.VideoFrame]:
        """End of stream: every remaining output frame."""
        if self.engine is None:
            return []
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
    def path(self) -> CropPath:
        """The crop path of every frame emitted so far."""
        if self.engine is None:
            raise ReframeError("no frame has been pushed yet")
        return CropPath.from_json(self.engine.path_json())
