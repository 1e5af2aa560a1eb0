"""The input's sound for the core (who speaks): PyAV audio frames handed to the engine as they are decoded.

The core resamples and mixes down (csrc/src/audio.cpp); this only moves blocks, with their times on the video's
clock (``frame.time``: the stream's pts, not sample counts). Sound is for analysis: a stream the core refuses
or a packet that does not decode costs a warning, never the video.
"""

from __future__ import annotations

import warnings
from typing import Any, Iterable

import av


class AudioFeed:
    """Feeds one audio stream's frames to an engine until :meth:`end`."""

    def __init__(self, engine: Any, stream: Any, source: str) -> None:
        self.engine = engine
        self.stream = stream
        self.source = source
        self.live = True
        self._bad_packets = 0

    def decode(self, packet: av.Packet) -> list[av.AudioFrame]:
        """The packet's frames; a packet that does not decode is skipped (one warning per stream)."""
        try:
            return list(packet.decode())
        except av.error.FFmpegError as e:
            if self._bad_packets == 0:
                warnings.warn(f"{self.source}: an audio packet does not decode ({e}); skipped, as are later ones",
                              stacklevel=2)
            self._bad_packets += 1
            return []

    def push(self, frames: Iterable[av.AudioFrame]) -> None:
        for frame in frames:
            if not self.live:
                return
            if frame.time is None:
                continue  # no time, no place on the clock
            try:
                self.engine.push_audio(frame.to_ndarray(), frame.format.name, frame.sample_rate, float(frame.time),
                                       channels=len(frame.layout.channels))
            except ValueError as e:
                warnings.warn(f"{self.source}: {e}; the audio is ignored from {float(frame.time):.3f} s on",
                              stacklevel=2)
                self.end()

    def end(self) -> None:
        """No more sound: the core stops waiting for it."""
        if self.live:
            self.live = False
            self.engine.audio_end()
