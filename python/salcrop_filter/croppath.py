"""The crop path: which region of each source frame the output shows (crop path JSON, version 2; 1 still reads).

The core writes it (``Engine.path_json()``, the filter's ``path=`` option); people read it, plot it and
edit it by hand, then render the edited path with ``reframe(..., path_in=...)`` or ``salcrop --path-in``.
Because it is edited by hand, :meth:`CropPath.validate` checks everything a renderer relies on and names
the offending entry, e.g. ``frames[12]: x + w = 1300 exceeds the source width 1280``.

Format (docs/DESIGN.md)::

    {"version": 2, "source": {"width": W, "height": H, "fps": F}, "ratio": "9:16",
     "frames": [{"t": sec, "x": int, "y": int, "w": int, "h": int, "shot": int, "speaker": id|null}, ...],
     (runs with picked subjects: frames also carry "subject": [x, y, w, h] or null, shots "subjects": [ids])
     "shots": [{"start": frame, "end": frame_exclusive, "mode": "stationary|pan|track", "reason": "planned|hold: ...",
                "segments": [{"start": frame, "end": frame_exclusive, "mode": "stationary|pan|ease|cut"}, ...],
                "tracks": [{"id": int, "kind": "face", "start": frame, "end": frame_exclusive}, ...]}]}

``speaker`` (the face track the camera follows because it speaks) and ``tracks`` (the shot's face tracks) are
what the core says of the people it saw (docs/speakers.md); both are optional and kept as they are.

Version 2 adds the segments: what the camera does inside each shot (holds, pans at constant speed, or eases
between the two), tiling the shot. Version 1 (no segments) is read as it is and written back as version 1.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterator

__all__ = ["CropPath", "CropPathError", "Frame", "Segment", "Shot", "Source", "MODES", "SEGMENT_MODES", "VERSION",
           "VERSIONS"]

VERSION = 2
VERSIONS = (1, 2)  # what from_dict reads
MODES = ("stationary", "pan", "track")
SEGMENT_MODES = ("stationary", "pan", "ease", "cut")
_RATIO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([:/]\s*(\d+(?:\.\d+)?))?\s*$")


class CropPathError(ValueError):
    """A crop path that cannot be rendered; the message names the entry and what is wrong."""


@dataclass
class Source:
    """The source video the path was planned for, in display orientation."""

    width: int
    height: int
    fps: float


@dataclass
class Frame:
    """One output frame: the source region (x, y, w, h) shown at time t, and its shot index."""

    t: float
    x: int
    y: int
    w: int
    h: int
    shot: int
    #: The picked subject's tracked box (x, y, w, h) on this frame; None where lost or none (runs with subjects).
    subject: tuple[float, float, float, float] | None = None
    #: The face track the camera follows on this frame because it speaks (None: nobody, or not said).
    speaker: int | None = None


@dataclass
class Segment:
    """Frames [start, end) of a shot where the camera holds, pans at constant speed, or eases (version 2)."""

    start: int
    end: int
    mode: str


@dataclass
class Shot:
    """A shot: frames [start, end) filmed in one mode; its segments (version 2) say what the camera does."""

    start: int
    end: int
    mode: str
    segments: list[Segment] = field(default_factory=list)
    #: Why the planner made the shot's path: "planned", or its note when it held (below the best static window).
    reason: str = ""
    #: Runs with picked subjects: the ids of the subject tracks kept in this shot (None: a run without subjects).
    subjects: list[int] | None = None
    #: The shot's people tracks as the core wrote them ({"id", "kind", "start", "end"}); None: not said.
    tracks: list[dict[str, Any]] | None = None


@dataclass
class CropPath:
    """A whole crop path; one :class:`Frame` per output frame, in order."""

    source: Source
    ratio: str
    frames: list[Frame] = field(default_factory=list)
    shots: list[Shot] = field(default_factory=list)
    version: int = VERSION
    #: The run had picked subjects: frames carry "subject" (a box or null) and shots "subjects" (docs/subjects.md).
    with_subjects: bool = False

    # --- serialisation -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, keys in the documented order."""
        return {
            "version": self.version,
            "source": {"width": self.source.width, "height": self.source.height, "fps": self.source.fps},
            "ratio": self.ratio,
            "frames": [self._frame_dict(f) for f in self.frames],
            "shots": [self._shot_dict(s) for s in self.shots],
        }

    def _frame_dict(self, f: Frame) -> dict[str, Any]:
        d: dict[str, Any] = {"t": f.t, "x": f.x, "y": f.y, "w": f.w, "h": f.h, "shot": f.shot}
        if self.with_subjects:
            d["subject"] = None if f.subject is None else list(f.subject)
        if f.speaker is not None:
            d["speaker"] = f.speaker
        return d

    def _shot_dict(self, shot: Shot) -> dict[str, Any]:
        d: dict[str, Any] = {"start": shot.start, "end": shot.end, "mode": shot.mode}
        if shot.reason:
            d["reason"] = shot.reason
        if self.with_subjects:
            d["subjects"] = list(shot.subjects or [])
        if self.version >= 2:
            d["segments"] = [{"start": g.start, "end": g.end, "mode": g.mode} for g in shot.segments]
        if shot.tracks is not None:
            d["tracks"] = shot.tracks
        return d

    def to_json(self, indent: int | None = None) -> str:
        """Serialise; with ``indent=None`` one frame per line, which keeps hand edits and diffs readable."""
        if indent is not None:
            return json.dumps(self.to_dict(), indent=indent)
        d = self.to_dict()
        head = json.dumps({k: d[k] for k in ("version", "source", "ratio")})[:-1]
        frames = ",\n  ".join(json.dumps(f) for f in d["frames"])
        shots = ",\n  ".join(json.dumps(s) for s in d["shots"])
        return f'{head},\n "frames": [\n  {frames}\n ],\n "shots": [\n  {shots}\n ]\n}}\n'

    @classmethod
    def from_dict(cls, d: Any) -> "CropPath":
        """Build and validate a path from a parsed JSON object."""
        if not isinstance(d, dict):
            raise CropPathError(f"a crop path is a JSON object, got {type(d).__name__}")
        missing = [k for k in ("version", "source", "ratio", "frames", "shots") if k not in d]
        if missing:
            raise CropPathError(f"crop path lacks {', '.join(repr(k) for k in missing)}")
        if isinstance(d["version"], bool) or d["version"] not in VERSIONS:
            raise CropPathError(f"version: {d['version']!r} is not supported (only {', '.join(map(str, VERSIONS))})")
        src = d["source"]
        if not isinstance(src, dict):
            raise CropPathError("source: expected an object with width, height, fps")
        source = Source(
            width=_int(src, "width", "source"), height=_int(src, "height", "source"), fps=_num(src, "fps", "source")
        )
        if not isinstance(d["frames"], list):
            raise CropPathError("frames: expected a list")
        if not isinstance(d["shots"], list):
            raise CropPathError("shots: expected a list")
        frames = []
        for i, f in enumerate(d["frames"]):
            where = f"frames[{i}]"
            if not isinstance(f, dict):
                raise CropPathError(f"{where}: expected an object with t, x, y, w, h, shot")
            frames.append(
                Frame(
                    t=_num(f, "t", where), x=_int(f, "x", where), y=_int(f, "y", where),
                    w=_int(f, "w", where), h=_int(f, "h", where), shot=_int(f, "shot", where),
                    subject=_box(f.get("subject"), where),
                    speaker=None if f.get("speaker") is None else _int(f, "speaker", where),
                )
            )
        shots = []
        for i, s in enumerate(d["shots"]):
            where = f"shots[{i}]"
            if not isinstance(s, dict):
                raise CropPathError(f"{where}: expected an object with start, end, mode")
            mode = s.get("mode")
            if not isinstance(mode, str):
                raise CropPathError(f"{where}: mode must be one of {', '.join(MODES)}")
            segments = []
            raw = s.get("segments", []) if d["version"] >= 2 else []
            if not isinstance(raw, list):
                raise CropPathError(f"{where}: segments: expected a list")
            for j, g in enumerate(raw):
                at = f"{where}.segments[{j}]"
                if not isinstance(g, dict) or not isinstance(g.get("mode"), str):
                    raise CropPathError(f"{at}: expected an object with start, end, mode")
                segments.append(Segment(start=_int(g, "start", at), end=_int(g, "end", at), mode=g["mode"]))
            reason = s.get("reason", "")
            if not isinstance(reason, str):
                raise CropPathError(f"{where}: reason must be a string")
            kept = s.get("subjects")
            if kept is not None and (not isinstance(kept, list) or
                                     not all(isinstance(k, int) and not isinstance(k, bool) for k in kept)):
                raise CropPathError(f"{where}: subjects must be a list of track ids")
            tracks = s.get("tracks")
            if tracks is not None and not (isinstance(tracks, list) and all(isinstance(t, dict) for t in tracks)):
                raise CropPathError(f"{where}: tracks must be a list of objects")
            shots.append(Shot(start=_int(s, "start", where), end=_int(s, "end", where), mode=mode, segments=segments,
                              reason=reason, tracks=tracks, subjects=kept))
        if not isinstance(d["ratio"], str):
            raise CropPathError(f"ratio: expected a string such as \"9:16\", got {d['ratio']!r}")
        with_subjects = any("subject" in f for f in d["frames"]) or any("subjects" in s for s in d["shots"])
        path = cls(source=source, ratio=d["ratio"], frames=frames, shots=shots, version=d["version"],
                   with_subjects=with_subjects)
        path.validate()
        return path

    @classmethod
    def from_json(cls, text: str) -> "CropPath":
        """Parse and validate crop path JSON."""
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise CropPathError(f"not valid JSON: {e}") from None
        return cls.from_dict(d)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "CropPath":
        """Read and validate a crop path file; errors name the file."""
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as e:
            raise CropPathError(f"{os.fspath(path)}: cannot read: {e.strerror}") from None
        try:
            return cls.from_json(text)
        except CropPathError as e:
            raise CropPathError(f"{os.fspath(path)}: {e}") from None

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the path as JSON (validated first, so a saved path always loads again)."""
        self.validate()
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.to_json())

    # --- checks and queries --------------------------------------------------------------------

    def validate(self) -> None:
        """Raise :class:`CropPathError` naming the first thing a renderer could not use."""
        W, H = self.source.width, self.source.height
        if W <= 0 or H <= 0:
            raise CropPathError(f"source: size {W}x{H} must be positive")
        if not (self.source.fps > 0 and math.isfinite(self.source.fps)):
            raise CropPathError(f"source: fps {self.source.fps} must be a positive number")
        if ratio_value(self.ratio) is None:
            raise CropPathError(f"ratio: {self.ratio!r} is not W:H, W/H or a positive number")
        if not self.frames:
            raise CropPathError("frames: empty; a path has one entry per output frame")
        prev_t = -math.inf
        for i, f in enumerate(self.frames):
            where = f"frames[{i}]"
            if not math.isfinite(f.t) or f.t <= prev_t:
                raise CropPathError(f"{where}: t = {f.t} must increase (previous frame is at {prev_t})")
            prev_t = f.t
            if f.w <= 0 or f.h <= 0:
                raise CropPathError(f"{where}: size {f.w}x{f.h} must be positive")
            if f.x < 0 or f.y < 0:
                raise CropPathError(f"{where}: x = {f.x}, y = {f.y} must not be negative")
            if f.x + f.w > W:
                raise CropPathError(f"{where}: x + w = {f.x + f.w} exceeds the source width {W}")
            if f.y + f.h > H:
                raise CropPathError(f"{where}: y + h = {f.y + f.h} exceeds the source height {H}")
        if not self.shots:
            raise CropPathError("shots: empty; every frame belongs to a shot")
        expect = 0
        for k, s in enumerate(self.shots):
            where = f"shots[{k}]"
            if s.mode not in MODES:
                raise CropPathError(f"{where}: mode {s.mode!r} is not one of {', '.join(MODES)}")
            if s.start != expect:
                raise CropPathError(f"{where}: starts at frame {s.start}, expected {expect} (shots must tile the frames)")
            if s.end <= s.start:
                raise CropPathError(f"{where}: end {s.end} must be after start {s.start}")
            inner = s.start
            for j, g in enumerate(s.segments):
                at = f"{where}.segments[{j}]"
                if g.mode not in SEGMENT_MODES:
                    raise CropPathError(f"{at}: mode {g.mode!r} is not one of {', '.join(SEGMENT_MODES)}")
                if g.start != inner or g.end <= g.start:
                    raise CropPathError(f"{at}: [{g.start}, {g.end}) does not continue at frame {inner} "
                                        "(segments must tile their shot)")
                inner = g.end
            if s.segments and inner != s.end:
                raise CropPathError(f"{where}: segments end at frame {inner}, the shot at {s.end}")
            expect = s.end
            for i in range(s.start, min(s.end, len(self.frames))):
                if self.frames[i].shot != k:
                    raise CropPathError(f"frames[{i}]: shot = {self.frames[i].shot}, but shots[{k}] holds that frame")
        if expect != len(self.frames):
            raise CropPathError(f"shots: cover frames 0..{expect}, but there are {len(self.frames)} frames")

    def output_size(self) -> tuple[int, int]:
        """The rendered picture size: the window size most frames use (padded frames are letterboxed into it)."""
        (w, h), _ = Counter((f.w, f.h) for f in self.frames).most_common(1)[0]
        return w, h

    def cuts(self) -> list[int]:
        """Frame indices where a shot starts, 0 excluded (the same convention as :func:`salcrop_filter.scenes`)."""
        return [s.start for s in self.shots[1:]]

    def __len__(self) -> int:
        return len(self.frames)

    def __iter__(self) -> Iterator[Frame]:
        return iter(self.frames)


def ratio_value(ratio: str) -> float | None:
    """Width/height of a ratio string ("9:16", "9/16", "0.5625"); None when it is not one."""
    m = _RATIO.match(ratio) if isinstance(ratio, str) else None
    if not m:
        return None
    num = float(m.group(1))
    den = float(m.group(3)) if m.group(3) else 1.0
    if num <= 0 or den <= 0:
        return None
    return num / den


def _int(d: dict[str, Any], key: str, where: str) -> int:
    v = d.get(key)
    # bool is an int subclass; a hand edit that writes true/false is a mistake, not 1/0.
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not v.is_integer()):
        raise CropPathError(f"{where}: {key} must be an integer, got {v!r}")
    return int(v)


def _num(d: dict[str, Any], key: str, where: str) -> float:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise CropPathError(f"{where}: {key} must be a number, got {v!r}")
    return float(v)


def _box(value: Any, where: str) -> tuple[float, float, float, float] | None:
    """A frame's "subject": null, or [x, y, w, h] in source pixels."""
    if value is None:
        return None
    if (not isinstance(value, list) or len(value) != 4 or
            not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)):
        raise CropPathError(f"{where}: subject must be null or [x, y, w, h]")
    x, y, w, h = (float(v) for v in value)
    return (x, y, w, h)
