"""Output files written under a temporary name and renamed into place only when complete."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable

import av

from .errors import ReframeError

__all__ = ["VideoWriter", "temp_beside"]

# Containers where libx264 is the natural default; elsewhere the container's own default codec.
_X264_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv"}


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
            self.encode_audio(packet.decode())

    def encode_audio(self, frames: Iterable[av.AudioFrame]) -> None:
        """Re-encode decoded audio (the input's, decoded once for every output that re-encodes it)."""
        for frame in frames:
            frame.pts = None  # let the encoder count samples; the AAC priming is its business
            self.container.mux(self.audio_out.encode(frame))

    def write(self, frame: av.VideoFrame, pts: int | None) -> None:
        frame.pts = pts
        frame.time_base = self.video.codec_context.time_base
        self.container.mux(self.video.encode(frame))

    def close(self) -> Path:
        """Flush encoders, close and rename into place."""
        self.finish()
        return self.commit()

    def finish(self) -> None:
        """Flush encoders and close the temporary file (complete, not yet in place)."""
        try:
            self.container.mux(self.video.encode(None))
            if self.audio_out is not None and not self.audio_copy:
                self.container.mux(self.audio_out.encode(None))
            self.container.close()
        except Exception:
            self.abort()
            raise

    def commit(self) -> Path:
        """Rename the finished file into place."""
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
