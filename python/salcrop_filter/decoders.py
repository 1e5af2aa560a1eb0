"""Whether this FFmpeg build can decode a stream, asked before anything is decoded.

PyAV gives a stream whose codec has no decoder in the build no codec context (``stream.codec_context is None``),
and PyAV 16.1's ``VideoStream.decode`` then calls the context's decode through that None: a segmentation
fault, not an exception, from ``container.decode(stream)``, ``packet.decode()`` and ``stream.decode()`` alike.
So every place that decodes a stream asks :func:`missing_decoder` first. No imports from the package:
pipeline, scenes and training all use it.
"""

from __future__ import annotations

import re
from typing import Any

import av.logging

__all__ = ["missing_decoder", "codec_description"]


def codec_description(container: Any, stream: Any) -> str:
    """The stream's codec as FFmpeg describes it without a decoder, e.g. ``vp9 (Profile 0)`` or
    ``none (XVID / 0x44495658)`` for a codec tag FFmpeg does not know; ``unknown`` when it says nothing."""
    # av_dump_format names the codec from its descriptor (libavcodec knows every codec's name, decoder or not)
    # and the tag from the container; PyAV exposes neither without a codec context. It logs at INFO, which PyAV
    # drops unless its level lets it through: raised for this one call.
    previous = av.logging.get_level()
    av.logging.set_level(av.logging.INFO)
    try:
        text = container.dumps_format()
    except Exception:
        return "unknown"
    finally:
        av.logging.set_level(previous)
    kind = str(stream.type).capitalize()
    for line in text.splitlines():
        m = re.match(rf"\s*Stream #\d+:{stream.index}\b[^:]*: {kind}: (.*)", line)
        if m:
            # The codec part ends at the first comma outside parentheses ("h264 (High) (avc1 / 0x...), yuv420p(...)").
            depth, end = 0, len(m.group(1))
            for i, ch in enumerate(m.group(1)):
                depth += {"(": 1, ")": -1}.get(ch, 0)
                if ch == "," and depth == 0:
                    end = i
                    break
            return m.group(1)[:end].strip()
    return "unknown"


def missing_decoder(container: Any, stream: Any) -> str | None:
    """None when ``stream`` can be decoded; else a message naming the stream and its codec."""
    if stream.codec_context is not None:
        return None
    codec = codec_description(container, stream)
    if codec.startswith("none"):  # a tag the demuxer maps to no codec at all
        codec = f"an unknown codec{codec[4:]}"
    else:
        codec = f"codec {codec}"
    return f"{stream.type} stream #{stream.index}: {codec}, which this FFmpeg build has no decoder for"
