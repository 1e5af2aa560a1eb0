"""Output files written under a temporary name and renamed into place only when complete, looking like their
source: what goes in comes out, where the encoder and the container can hold it (:class:`SourceLook`)."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable

import av

from .errors import ReframeError

__all__ = ["VideoWriter", "SourceLook", "rgb_to_yuv", "temp_beside"]

# Containers where libx264 is the natural default; elsewhere the container's own default codec.
_X264_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv"}
# The pixel formats an output keeps from its source (picture.Picture crops them plane by plane); a deeper source
# in another layout becomes 10-bit 4:2:0, anything else 8-bit 4:2:0.
KEPT_FORMATS = ("yuv420p", "yuvj420p", "yuv420p10le")
# Container metadata the muxer writes itself: not copied from the source.
_MUXER_TAGS = {"major_brand", "minor_version", "compatible_brands", "encoder", "creation_time", "duration"}
# AVColorSpace -> the number PyAV 16's reformat() takes for the same matrix (rgb frames: padded or fitted pictures,
# 360° views). Measured, not assumed: it reads 6 as BT.601 but 5 (BT470BG, the same matrix) as BT.709.
_SWS_MATRIX = {1: 1, 4: 4, 5: 6, 6: 6, 7: 7, 9: 9, 10: 9}


def rgb_to_yuv(frame: av.VideoFrame, pix_fmt: str, space: int, full_range: bool) -> av.VideoFrame:
    """An rgb frame in ``pix_fmt`` with the matrix of AVColorSpace ``space`` (2, unspecified: BT.601) and range."""
    return frame.reformat(format=pix_fmt, dst_colorspace=_SWS_MATRIX.get(space, 6),
                          dst_color_range=2 if full_range else 1)


@dataclass
class SourceLook:
    """What an output keeps of its source: pixel format (bit depth), colour tags, HDR side data, metadata.

    ``primaries``/``trc``/``space``/``range`` are FFmpeg's AVColorPrimaries/AVColorTransferCharacteristic/
    AVColorSpace/AVColorRange numbers (2, 2, 2, 0: unspecified). ``mastering`` is the first frame's mastering
    display (primaries R, G, B and the white point as (x, y) chromaticities, then max and min luminance in cd/m²),
    ``light_level`` its (MaxCLL, MaxFALL); libx265 writes both as SEI.
    """

    pix_fmt: str = "yuv420p"
    bits: int = 8
    primaries: int = 2
    trc: int = 2
    space: int = 2
    range: int = 0
    mastering: tuple[float, ...] | None = None
    light_level: tuple[int, int] | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, container: Any, stream: Any, first: av.VideoFrame) -> "SourceLook":
        cc = stream.codec_context
        fmt = first.format
        look = cls(pix_fmt=fmt.name, bits=max((c.bits for c in fmt.components), default=8),
                   primaries=int(cc.color_primaries), trc=int(cc.color_trc), space=int(cc.colorspace),
                   range=int(cc.color_range),
                   metadata={k: v for k, v in container.metadata.items() if k.lower() not in _MUXER_TAGS})
        for sd in first.side_data:
            kind = getattr(sd.type, "name", str(sd.type))
            raw = bytes(memoryview(sd))
            if kind == "MASTERING_DISPLAY_METADATA" and len(raw) >= 88:
                # AVMasteringDisplayMetadata: display_primaries[3][2], white_point[2], min, max (AVRationals),
                # has_primaries, has_luminance (ints).
                q = struct.unpack_from("<20i", raw)
                r = [q[2 * k] / q[2 * k + 1] if q[2 * k + 1] else 0.0 for k in range(10)]
                if struct.unpack_from("<2i", raw, 80) == (1, 1):  # both present: the SEI carries both
                    look.mastering = (*r[:8], r[9], r[8])
            elif kind == "CONTENT_LIGHT_LEVEL" and len(raw) >= 8:
                look.light_level = struct.unpack_from("<2I", raw)
        return look

    def output_format(self, codec: str) -> str:
        """The source's pixel format where the encoder takes it; else 10-bit 4:2:0 for a deeper source; else
        yuv420p (yuvj420p for a full-range 8-bit source, as before)."""
        try:
            formats = {f.name for f in av.Codec(codec, "w").video_formats or ()}
        except (av.error.FFmpegError, ValueError):
            formats = set()
        if self.pix_fmt in KEPT_FORMATS and self.pix_fmt in formats:
            return self.pix_fmt
        if self.bits > 8 and "yuv420p10le" in formats:
            return "yuv420p10le"
        return "yuvj420p" if self.pix_fmt == "yuvj420p" and "yuvj420p" in formats else "yuv420p"

    def x265_params(self) -> list[str]:
        """libx265's HDR10 parameters: the mastering display (G, B, R, white point in 0.00002 units, luminance in
        0.0001 cd/m²) and the light levels."""
        out = []
        if self.mastering is not None:
            rx, ry, gx, gy, bx, by, wx, wy, lmax, lmin = self.mastering
            c = [round(v * 50000) for v in (gx, gy, bx, by, rx, ry, wx, wy)]
            out.append(f"master-display=G({c[0]},{c[1]})B({c[2]},{c[3]})R({c[4]},{c[5]})WP({c[6]},{c[7]})"
                       f"L({round(lmax * 10000)},{round(lmin * 10000)})")
        if self.light_level is not None:
            out.append(f"max-cll={self.light_level[0]},{self.light_level[1]}")
        return out


def temp_beside(dst: Path) -> Path:
    """A temporary name in dst's folder (same suffix, so the container is guessed the same way)."""
    return dst.with_name(f".{dst.stem}.salcrop-{os.getpid()}{dst.suffix}")


class VideoWriter:
    """An output file written under a temporary name and renamed into place only when complete."""

    def __init__(self, dst: str | os.PathLike[str], width: int, height: int, time_base: Fraction,
                 rate: Fraction, pix_fmt: str = "yuv420p", codec: str | None = None,
                 codec_options: dict[str, str] | None = None,
                 container_options: dict[str, str] | None = None, look: SourceLook | None = None) -> None:
        self.dst = Path(dst)
        self.look = look
        self.tmp = temp_beside(self.dst)
        try:
            self.container = av.open(str(self.tmp), "w", options=dict(container_options or {}))
        except (av.error.FFmpegError, ValueError) as e:
            raise ReframeError(f"{self.dst}: cannot write this file: {e}") from None
        try:
            if codec is None:
                codec = ("libx264" if self.dst.suffix.lower() in _X264_SUFFIXES and "libx264" in av.codecs_available
                         else self.container.default_video_codec)
            options = dict(codec_options or {})
            if look is not None and codec == "libx265" and look.x265_params():
                options["x265-params"] = ":".join(filter(None, [options.get("x265-params"), *look.x265_params()]))
            self.video = self.container.add_stream(codec, rate=rate, options=options)
            self.video.width, self.video.height = width, height
            if look is not None:
                self.video.pix_fmt = look.output_format(codec)
                cc = self.video.codec_context
                cc.color_primaries, cc.color_trc, cc.colorspace = look.primaries, look.trc, look.space
                cc.color_range = 2 if self.video.pix_fmt == "yuvj420p" else look.range
                self.container.metadata.update(look.metadata)
            else:
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
        self.subtitles: dict[int, Any] = {}  # input stream index -> output stream (copied packets)

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

    def add_subtitles(self, streams: Iterable[Any]) -> list[Any]:
        """Copy the subtitle streams whose codec the container holds (mov_text in MP4, SubRip/ASS in Matroska);
        the input streams it carries."""
        carried = []
        for stream in streams:
            ctx = stream.codec_context
            if ctx is None or ctx.codec.canonical_name not in self.container.supported_codecs:
                continue
            self.subtitles[stream.index] = self.container.add_stream_from_template(stream)
            self.subtitles[stream.index].metadata.update(stream.metadata)
            carried.append(stream)
        return carried

    def write_subtitle(self, packet: av.Packet) -> None:
        out = self.subtitles.get(packet.stream.index)
        if out is None or packet.dts is None:
            return
        packet.stream = out
        self.container.mux(packet)

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
        if self.look is not None and frame.format.name != self.video.pix_fmt:
            # An rgb picture (padded, fitted, a 360° view): into the source's matrix and range, not swscale's
            # default BT.601 limited range.
            frame = rgb_to_yuv(frame, self.video.pix_fmt, self.look.space, self.video.codec_context.color_range == 2)
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
