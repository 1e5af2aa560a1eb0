"""The view path of a 360° run (crop path JSON, version 3): per frame the view's yaw, pitch and fov in degrees.

    {"version": 3, "projection": "equirect", "source": {"width": W, "height": H, "fps": F, "stereo": "mono"},
     "ratio": "16:9", "output": {"width": w, "height": h, "fov": 90, "vfov": 58.7, "pitch_limit": 56.3},
     "frames": [{"t": 0.0, "yaw": 12.5, "pitch": -3.0, "fov": 90, "shot": 0}, ...],
     "shots": [{"start": 0, "end": 120, "mode": "track", "segments": [...]}]}

yaw 0 is the centre column of the equirect frame, positive to the right, in (-180, 180]; pitch 0 the middle
row, positive up. The flat format (version 2, croppath.py) is unchanged; :func:`load_path` reads either.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .croppath import CropPath, CropPathError

VERSION = 3


@dataclass
class View:
    t: float
    yaw: float
    pitch: float
    fov: float
    shot: int = 0


@dataclass
class SpherePath:
    source: dict[str, Any]
    ratio: str
    output: dict[str, Any]
    frames: list[View]
    shots: list[dict[str, Any]] = field(default_factory=list)
    version: int = VERSION

    @classmethod
    def from_dict(cls, d: Any) -> "SpherePath":
        if not isinstance(d, dict) or d.get("version") != VERSION or d.get("projection") != "equirect":
            raise CropPathError("not a version 3 equirect view path")
        for k in ("source", "ratio", "output", "frames"):
            if k not in d:
                raise CropPathError(f"view path: missing {k!r}")
        frames = []
        for i, f in enumerate(d["frames"]):
            try:
                v = View(float(f["t"]), float(f["yaw"]), float(f["pitch"]), float(f["fov"]), int(f.get("shot", 0)))
            except (KeyError, TypeError, ValueError) as e:
                raise CropPathError(f"view path: frame {i}: {e!r} (want t, yaw, pitch, fov in degrees)") from None
            frames.append(v)
        path = cls(d["source"], str(d["ratio"]), d["output"], frames, d.get("shots", []))
        path.validate()
        return path

    @classmethod
    def from_json(cls, text: str) -> "SpherePath":
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as e:
            raise CropPathError(f"view path: not JSON: {e}") from None

    def to_dict(self) -> dict[str, Any]:
        return {"version": VERSION, "projection": "equirect", "source": self.source, "ratio": self.ratio,
                "output": self.output,
                "frames": [{"t": f.t, "yaw": f.yaw, "pitch": f.pitch, "fov": f.fov, "shot": f.shot}
                           for f in self.frames],
                "shots": self.shots}

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def save(self, path: str | os.PathLike[str]) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    def validate(self) -> None:
        limit = float(self.output.get("pitch_limit", 90))
        for i, f in enumerate(self.frames):
            if not -360 <= f.yaw <= 360:
                raise CropPathError(f"view path: frame {i}: yaw {f.yaw} outside -360..360 degrees")
            if abs(f.pitch) > limit + 1e-6:
                raise CropPathError(f"view path: frame {i}: pitch {f.pitch} beyond the limit of +-{limit} degrees")
            if not 30 <= f.fov <= 120:
                raise CropPathError(f"view path: frame {i}: fov {f.fov} outside 30..120 degrees")

    def output_size(self) -> tuple[int, int]:
        return int(self.output["width"]), int(self.output["height"])

    def view_cuts(self) -> list[int]:
        """Frames where the view cuts inside a shot (segments of mode ``cut``: a far turn made as an editor's cut)."""
        return [seg["start"] for shot in self.shots for seg in shot.get("segments", []) if seg.get("mode") == "cut"]

    def __len__(self) -> int:
        return len(self.frames)


# FFmpeg's enum values (libavutil/spherical.h, stereo3d.h): the first int32 of each side data's struct.
_AV_SPHERICAL_EQUIRECTANGULAR = 0
_AV_STEREO3D = {1: "sbs", 2: "tb"}  # AV_STEREO3D_SIDEBYSIDE, AV_STEREO3D_TOPBOTTOM (0 = 2D)


def spherical_layout(frame: Any) -> tuple[str, str] | None:
    """("equirect", stereo) when a decoded PyAV frame carries FFmpeg's spherical side data marking it
    equirectangular (stereo "mono", "tb" or "sbs" from its stereo 3D side data); None otherwise (no side data,
    or a projection the view does not render: cubemap, tiled, fisheye)."""
    found = None
    stereo = "mono"
    for sd in frame.side_data:
        kind = str(sd.type).rsplit(".", 1)[-1]
        if kind in ("SPHERICAL", "STEREO3D") and len(memoryview(sd)) >= 4:
            value = int.from_bytes(bytes(memoryview(sd)[:4]), "little", signed=True)
            if kind == "SPHERICAL":
                found = value == _AV_SPHERICAL_EQUIRECTANGULAR
            else:
                stereo = _AV_STEREO3D.get(value, stereo)
    return ("equirect", stereo) if found else None


def load_path(path: str | os.PathLike[str]) -> CropPath | SpherePath:
    """A crop path (version 1/2) or a 360° view path (version 3), by its version."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise CropPathError(f"{os.fspath(path)}: cannot read: {e.strerror}") from None
    try:
        version = json.loads(text).get("version")
    except (json.JSONDecodeError, AttributeError):
        version = None
    if version == VERSION:
        return SpherePath.from_json(text)
    return CropPath.load(path)
