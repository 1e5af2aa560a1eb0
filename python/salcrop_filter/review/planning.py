"""The editor's paths: the core's planner (``_core.plan_path``) over a video's cached analysis.

Nothing here decides where the window goes. Each shot is planned by one ``plan_path`` call on that shot's maps
with that shot's keyframes and mode, and the calls' results are put end to end. That is the same path one call
over the whole video gives: the planner plans every shot on its own (a cut resets the camera), so splitting at
the cuts changes nothing, and it lets a shot keep a mode of its own (the core takes one mode per call) and lets
an edit re-plan only the shot it touches (the others come from a small memo).

With an analysis that saw faces (``salcrop review --speakers auto``), a shot without picked subjects is planned
around who speaks, as the engine plans it (the core's speaker_plan.h through ``plan_path(faces=...)``), with the
person's pins (follow this face whenever it is on screen) and ignores (never follow it).
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from ..croppath import MODES, CropPath, Frame, Segment, Shot, Source
from .analysis import Analysis

__all__ = ["EditError", "Edits", "FaceTrack", "Plan", "Planner", "SubjectTrack", "face_tracks", "ratio_key",
           "parse_ratio_list", "keyframes_json", "keyframes_from_json", "subjects_json", "subject_of_face",
           "track_subject"]

FORCED_MODES = MODES  # what a person may force on a shot: stationary, pan, track


class EditError(ValueError):
    """An edit the editor refuses (a keyframe outside the video, an unknown shot or mode); says which and why."""


def ratio_key(ratio: str) -> tuple[str, int, int]:
    """("9:16", 9, 16) for "9:16", "9/16", "0.5625"...: the core's reading of a ratio. ValueError when bad."""
    from .. import _core

    num, den = _core.parse_ratio(str(ratio).strip())
    if num <= 0 or den <= 0:
        raise ValueError(f"ratio {ratio!r}: give it as W:H (e.g. 9:16) so the outputs can be named after it")
    return f"{num}:{den}", num, den


def parse_ratio_list(text: str) -> list[str]:
    """"9:16,1:1,4:5" -> ["9:16", "1:1", "4:5"]; ValueError naming an unknown or repeated ratio."""
    out: list[str] = []
    for part in text.split(","):
        if not part.strip():
            raise ValueError(f"--ratio {text!r}: an empty entry (give e.g. 9:16,1:1,4:5)")
        try:
            key, _, _ = ratio_key(part)
        except ValueError as e:
            raise ValueError(str(e)) from None
        if key in out:
            raise ValueError(f"--ratio {text!r}: {part.strip()} is given twice (as {key})")
        out.append(key)
    return out


@dataclass(frozen=True)
class SubjectTrack:
    """A picked subject (docs/subjects.md): the pick (frame, box) and its track through the shot, as the core's
    tracker gave it: ``points[k]`` = (x, y, w, h, lost) on frame ``first + k``, source pixels."""

    id: int
    frame: int
    box: tuple[float, float, float, float]
    first: int
    points: tuple[tuple[float, float, float, float, bool], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "frame": self.frame, "box": list(self.box), "first": self.first,
                "points": [[round(x, 2), round(y, 2), round(w, 2), round(h, 2), int(lost)]
                           for x, y, w, h, lost in self.points]}

    @classmethod
    def from_dict(cls, d: Any, where: str) -> "SubjectTrack":
        if not isinstance(d, dict) or set(d) != {"id", "frame", "box", "first", "points"}:
            raise EditError(f"{where}: expected an object with exactly id, frame, box, first and points")
        for name in ("id", "frame", "first"):
            if isinstance(d[name], bool) or not isinstance(d[name], int):
                raise EditError(f"{where}: {name} must be an integer, got {d[name]!r}")
        box = d["box"]
        if not isinstance(box, list) or len(box) != 4 or not all(_finite(v) for v in box):
            raise EditError(f"{where}: box must be [x, y, w, h]")
        points = []
        if not isinstance(d["points"], list):
            raise EditError(f"{where}: points must be a list of [x, y, w, h, lost]")
        for k, pt in enumerate(d["points"]):
            if not isinstance(pt, list) or len(pt) != 5 or not all(_finite(v) for v in pt):
                raise EditError(f"{where}: points[{k}] must be [x, y, w, h, lost]")
            points.append((float(pt[0]), float(pt[1]), float(pt[2]), float(pt[3]), bool(pt[4])))
        return cls(d["id"], d["frame"], tuple(float(v) for v in box), d["first"], tuple(points))  # type: ignore[arg-type]

    def end(self) -> int:
        return self.first + len(self.points)


@dataclass(frozen=True)
class FaceTrack:
    """One face track of a speakers=auto analysis: ``points[k]`` = (x, y, w, h, speaking) on frame ``first + k``,
    NaN box where it is not seen, speaking -1 where unknown (no sound)."""

    id: int
    first: int
    points: np.ndarray  # float64 [n, 5]

    def end(self) -> int:
        return self.first + len(self.points)

    def seen(self) -> np.ndarray:
        return np.isfinite(self.points[:, 0])

    def to_dict(self) -> dict[str, Any]:
        pts = [None if not np.isfinite(p[0]) else [round(float(v), 1) for v in p[:4]] + [round(float(p[4]), 3)]
               for p in self.points]
        return {"id": self.id, "first": self.first, "points": pts}


def face_tracks(analysis: Analysis) -> list[FaceTrack]:
    """The analysis's face rows as tracks (each from its first sighting to its last), in id order."""
    rows = analysis.faces
    if rows is None or not len(rows):
        return []
    out = []
    for tid in np.unique(rows[:, 1]).astype(int):
        mine = rows[rows[:, 1] == tid]
        frames = mine[:, 0].astype(np.int64)
        first, last = int(frames.min()), int(frames.max())
        pts = np.full((last - first + 1, 5), np.nan)
        pts[:, 4] = -1.0
        pts[frames - first] = mine[:, 2:7]
        out.append(FaceTrack(int(tid), first, pts))
    return out


def subject_of_face(face: FaceTrack, frame: int, subject_id: int, shot: tuple[int, int]) -> SubjectTrack:
    """A face track picked as a subject ("keep this person"): its boxes are the subject's track, lost where the
    face is not seen; the pick is ``frame`` (where it is seen, else its nearest sighting)."""
    seen = np.flatnonzero(face.seen())
    first = max(face.first, shot[0])
    points = [(float(p[0]), float(p[1]), float(p[2]), float(p[3]), False) if np.isfinite(p[0]) else
              (0.0, 0.0, 0.0, 0.0, True) for p in face.points[first - face.first:min(face.end(), shot[1]) - face.first]]
    in_shot = [int(k) + face.first for k in seen if shot[0] <= int(k) + face.first < shot[1]]
    if not in_shot:
        raise EditError(f"face {face.id} is not seen in the shot of frame {frame}")
    pick = min(in_shot, key=lambda f: abs(f - frame))
    x, y, w, h, _ = points[pick - first]
    return SubjectTrack(subject_id, pick, (x, y, w, h), first, tuple(points))


def _finite(v: Any) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)


@dataclass(frozen=True)
class Edits:
    """A person's corrections for one ratio: pinned window centres, modes forced on shots, picked subjects, and the
    face tracks the camera must follow whenever they are on screen (pinned) or never (ignored)."""

    keyframes: tuple[tuple[int, float, float], ...] = ()  # (frame, x, y), sorted by frame
    modes: tuple[tuple[int, str], ...] = ()  # (shot index, mode), sorted by shot
    subjects: tuple[SubjectTrack, ...] = ()  # in the order picked (the first pick outranks later ones)
    pinned: tuple[int, ...] = ()  # face track ids, sorted
    ignored: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"keyframes": [{"frame": f, "x": x, "y": y} for f, x, y in self.keyframes],
                             "modes": {str(s): m for s, m in self.modes}}
        if self.subjects:
            d["subjects"] = [t.to_dict() for t in self.subjects]
        if self.pinned:
            d["pinned"] = list(self.pinned)
        if self.ignored:
            d["ignored"] = list(self.ignored)
        return d

    @classmethod
    def from_dict(cls, d: Any, analysis: Analysis) -> "Edits":
        """Checked against the video: EditError naming the first bad entry."""
        if not isinstance(d, dict):
            raise EditError("edits: expected an object with keyframes and modes")
        unknown = sorted(set(d) - {"keyframes", "modes", "subjects", "pinned", "ignored", "version"})
        if unknown:
            raise EditError(f"edits: unknown field(s) {', '.join(unknown)}")
        raw_keys = d.get("keyframes", [])
        if not isinstance(raw_keys, list):
            raise EditError("keyframes: expected a list of {frame, x, y}")
        keys: list[tuple[int, float, float]] = []
        for i, k in enumerate(raw_keys):
            if not isinstance(k, dict) or set(k) != {"frame", "x", "y"}:
                raise EditError(f"keyframes[{i}]: expected an object with exactly frame, x and y")
            frame, x, y = k["frame"], k["x"], k["y"]
            if isinstance(frame, bool) or not isinstance(frame, int):
                raise EditError(f"keyframes[{i}]: frame must be an integer, got {frame!r}")
            for name, v in (("x", x), ("y", y)):
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    raise EditError(f"keyframes[{i}]: {name} must be a number, got {v!r}")
            keys.append((frame, float(x), float(y)))
        raw_modes = d.get("modes", {})
        if not isinstance(raw_modes, dict):
            raise EditError("modes: expected an object {shot index: mode}")
        modes: list[tuple[int, str]] = []
        for s, m in raw_modes.items():
            try:
                shot = int(s)
            except (TypeError, ValueError):
                raise EditError(f"modes: {s!r} is not a shot index") from None
            modes.append((shot, m))
        raw_subjects = d.get("subjects", [])
        if not isinstance(raw_subjects, list):
            raise EditError("subjects: expected a list of picked subjects")
        subjects = [SubjectTrack.from_dict(t, f"subjects[{i}]") for i, t in enumerate(raw_subjects)]
        people: dict[str, list[int]] = {}
        for name in ("pinned", "ignored"):
            raw = d.get(name, [])
            if not isinstance(raw, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in raw):
                raise EditError(f"{name}: expected a list of face track ids")
            people[name] = raw
        return cls.checked(keys, modes, analysis, subjects, people["pinned"], people["ignored"])

    @classmethod
    def checked(cls, keys: Iterable[tuple[int, float, float]], modes: Iterable[tuple[int, str]],
                analysis: Analysis, subjects: Iterable[SubjectTrack] = (), pinned: Iterable[int] = (),
                ignored: Iterable[int] = ()) -> "Edits":
        keys, modes = sorted(keys), sorted(modes)
        n = analysis.frames
        seen: set[int] = set()
        for frame, x, y in keys:
            if not 0 <= frame < n:
                raise EditError(f"keyframe at frame {frame}: the video has frames 0..{n - 1} "
                                f"({n / analysis.fps:.2f} s)")
            if frame in seen:
                raise EditError(f"two keyframes on frame {frame}")
            seen.add(frame)
            if not (0 <= x <= analysis.width and 0 <= y <= analysis.height):
                raise EditError(f"keyframe at frame {frame}: ({x:g}, {y:g}) is outside the "
                                f"{analysis.width}x{analysis.height} picture")
        shots = len(analysis.shot_ranges())
        for shot, mode in modes:
            if not 0 <= shot < shots:
                raise EditError(f"modes: shot {shot} does not exist (the video has shots 0..{shots - 1})")
            if mode not in FORCED_MODES:
                raise EditError(f"modes: shot {shot}: {mode!r} is not one of {', '.join(FORCED_MODES)}")
        if len({s for s, _ in modes}) != len(modes):
            raise EditError("modes: a shot is given twice")
        subjects = tuple(subjects)
        ranges = analysis.shot_ranges()
        for i, t in enumerate(subjects):
            shot = [(a, b) for a, b in ranges if a <= t.frame < b]
            if not shot or not (shot[0][0] <= t.first and t.end() <= shot[0][1] and t.first <= t.frame < t.end()):
                raise EditError(f"subjects[{i}]: its track (frames {t.first}..{t.end() - 1}) must lie in the shot of "
                                f"its pick (frame {t.frame})")
        if len({t.id for t in subjects}) != len(subjects):
            raise EditError("subjects: an id is given twice")
        pinned, ignored = tuple(sorted(set(pinned))), tuple(sorted(set(ignored)))
        if pinned or ignored:
            known = set() if analysis.faces is None else {int(v) for v in np.unique(analysis.faces[:, 1])}
            for name, ids in (("pinned", pinned), ("ignored", ignored)):
                bad = [i for i in ids if i not in known]
                if bad:
                    raise EditError(f"{name}: no face track {bad[0]} in this video's analysis" +
                                    ("" if analysis.faces is not None else " (analysed without --speakers auto)"))
            both = set(pinned) & set(ignored)
            if both:
                raise EditError(f"face track {min(both)} is both pinned and ignored")
        return cls(tuple(keys), tuple(modes), subjects, pinned, ignored)


@dataclass
class Plan:
    """One ratio's planned path over the whole video."""

    ratio: str
    windows: np.ndarray  # int32 [T, 4]: x, y, w, h
    shots: list[tuple[int, int, str]]  # start, end, mode
    segments: list[tuple[int, int, str]]  # start, end, stationary|pan|ease
    forced: dict[int, str]  # shot -> mode forced by the person
    seconds: float = 0.0  # time the core spent planning (the shots not in the memo)
    planned_shots: int = 0  # how many shots the core planned for this request
    speaker: np.ndarray | None = None  # int32 [T]: the face track followed because it speaks, -1 none; None: no faces

    def crop_path(self, analysis: Analysis) -> CropPath:
        """The path as salcrop writes it (crop path JSON, version 2)."""
        shot_of = np.empty(analysis.frames, dtype=np.int64)
        for k, (a, b, _) in enumerate(self.shots):
            shot_of[a:b] = k
        frames = [Frame(t=round(float(t), 6), x=int(w[0]), y=int(w[1]), w=int(w[2]), h=int(w[3]), shot=int(s))
                  for t, w, s in zip(analysis.times, self.windows, shot_of)]
        if self.speaker is not None:
            for f, sp in zip(frames, self.speaker):
                f.speaker = int(sp) if sp >= 0 else None
        faces = face_tracks(analysis) if self.speaker is not None else []
        shots = []
        for a, b, mode in self.shots:
            segs = [Segment(s, e, kind) for s, e, kind in self.segments if a <= s < b]
            tracks = None
            if self.speaker is not None:  # the shot's face tracks, as salcrop writes them
                tracks = [{"id": t.id, "kind": "face", "start": max(a, t.first), "end": min(b, t.end())}
                          for t in faces if t.first < b and t.end() > a]
            shots.append(Shot(a, b, mode, segs, tracks=tracks))
        fps = round(analysis.fps, 6)
        return CropPath(Source(analysis.width, analysis.height, fps), self.ratio, frames, shots)


def keyframes_json(edits: Edits) -> str:
    """The keyframes file salcrop reads (``--keyframes``, the filter's ``keyframes=``), by frame number."""
    return json.dumps([{"frame": f, "x": round(x, 3), "y": round(y, 3)} for f, x, y in edits.keyframes], indent=1)


def subjects_json(edits: Edits) -> str:
    """The subjects file salcrop reads (``--subjects``, the filter's ``subjects=``): the picks, by frame number."""
    return json.dumps([{"frame": t.frame, "box": [round(v, 2) for v in t.box]} for t in edits.subjects], indent=1)


def track_subject(frames: np.ndarray, scale: float, shot_start: int, pick: int, box: tuple[float, float, float, float],
                  subject_id: int, previous: SubjectTrack | None = None) -> SubjectTrack:
    """The core's tracker over a shot's frames (``frames``: the shot's pictures, RGB, at ``scale`` times the source
    size; ``pick`` the pick's frame number in the video). ``previous``: the same subject's track, redone from the
    pick on (a drift fixed by picking it again): its points before the pick are kept."""
    from .. import _core

    out = _core.track_frames(frames, pick - shot_start, [v * scale for v in box])
    points = [(x / scale, y / scale, w / scale, h / scale, bool(lost)) for x, y, w, h, _, lost in out]
    points[pick - shot_start] = (*box, False)
    first = shot_start
    if previous is not None and previous.first < pick:
        kept = [p for k, p in enumerate(previous.points) if previous.first + k < pick]
        first = previous.first
        points = kept + points[pick - shot_start:]
    return SubjectTrack(subject_id, pick, tuple(box), first, tuple(points))  # type: ignore[arg-type]


def keyframes_from_json(text: str, analysis: Analysis) -> list[tuple[int, float, float]]:
    """A keyframes file as the core reads it (its parser, its rounding of times to frames); ValueError if bad."""
    from .. import _core

    return [(int(f), float(x), float(y)) for f, x, y in _core.parse_keyframes(text, analysis.fps)]


class Planner:
    """Plans a video's paths from its analysis; thread-safe; remembers the last shots it planned."""

    MEMO = 4096  # shot plans kept (a few hundred bytes per frame each)

    def __init__(self, analysis: Analysis, *, smoothing: float | None = None, lookahead: float | None = None,
                 mode: str | None = None) -> None:
        self.analysis = analysis
        self.options: dict[str, Any] = {k: v for k, v in (("smoothing", smoothing), ("lookahead", lookahead))
                                        if v is not None}
        self.mode = mode or "auto"  # shots without a forced mode
        self._memo: OrderedDict[tuple[Any, ...], tuple[np.ndarray, str, list[tuple[int, int, str]]]] = OrderedDict()
        # Per (ratio, shot, mode): the latest full plan's inputs, windows, segments and chunk states, so an edit
        # late in a long shot re-plans only from the chunk whose frames it touches (_core.plan_path resume).
        self._bases: OrderedDict[tuple[Any, ...], tuple[Any, ...]] = OrderedDict()
        self._lock = threading.Lock()
        # speakers=auto: per shot its face tracks as plan_path takes them (id, [shot frames x 5]); None: no faces.
        self.faces: list[FaceTrack] | None = face_tracks(analysis) if analysis.faces is not None else None
        self._shot_faces: list[tuple[tuple[int, np.ndarray], ...]] = []
        if self.faces is not None:
            for start, end in analysis.shot_ranges():
                shot = []
                for t in self.faces:
                    if t.first >= end or t.end() <= start:
                        continue
                    arr = np.full((end - start, 5), np.nan)
                    arr[:, 4] = -1.0
                    a, b = max(start, t.first), min(end, t.end())
                    arr[a - start:b - start] = t.points[a - t.first:b - t.first]
                    shot.append((t.id, arr))
                self._shot_faces.append(tuple(shot))

    def plan(self, ratio: str, edits: Edits = Edits()) -> Plan:
        import time

        from .. import _core

        a = self.analysis
        forced = dict(edits.modes)
        windows: list[np.ndarray] = []
        shots: list[tuple[int, int, str]] = []
        segments: list[tuple[int, int, str]] = []
        seconds, planned = 0.0, 0
        speaker: list[np.ndarray] = []
        for k, (start, end) in enumerate(a.shot_ranges()):
            keys = tuple((f - start, x, y) for f, x, y in edits.keyframes if start <= f < end)
            mode = forced.get(k, self.mode)
            tracks = tuple((t.first - start, t.points) for t in edits.subjects if start <= t.frame < end)
            # Faces count where no subject is picked (a pick outranks the speaker, as in the engine); the user's
            # pins and ignores of this shot's faces are part of its memo key.
            people = None
            if self.faces is not None and not tracks:
                ids = {i for i, _ in self._shot_faces[k]}
                people = (tuple(i for i in edits.pinned if i in ids), tuple(i for i in edits.ignored if i in ids))
            memo_key = (ratio, start, end, mode, keys, tracks, people)
            with self._lock:
                hit = self._memo.get(memo_key)
                if hit is not None:
                    self._memo.move_to_end(memo_key)
            if hit is None:
                t0 = time.perf_counter()
                hit = self._plan_shot(ratio, start, end, mode, keys, tracks, k, people)
                seconds += time.perf_counter() - t0
                planned += 1
                with self._lock:
                    self._memo[memo_key] = hit
                    while len(self._memo) > self.MEMO:
                        self._memo.popitem(last=False)
            w, shot_mode, seg, who = hit
            windows.append(w)
            shots.append((start, end, shot_mode))
            segments.extend(seg)
            speaker.append(who if who is not None else np.full(end - start, -1, dtype=np.int32))
        return Plan(ratio, np.concatenate(windows), shots, segments, forced, seconds, planned,
                    np.concatenate(speaker) if self.faces is not None else None)

    def _chunk_frames(self) -> int:
        """The engine's chunk (the lookahead in frames; 0: each shot at once), as plan_path counts it."""
        lookahead = self.options.get("lookahead", 4.0)  # the core's default (options.h kDefaultLookahead)
        return max(2, round(lookahead * self.analysis.fps)) if lookahead > 0 else 0

    def _plan_shot(self, ratio: str, start: int, end: int, mode: str, keys: tuple[Any, ...],
                   tracks: tuple[Any, ...], shot: int, people: tuple[tuple[int, ...], tuple[int, ...]] | None
                   ) -> tuple[np.ndarray, str, list[tuple[int, int, str]], np.ndarray | None]:
        """One shot's plan; resumed from the shot's latest plan at the first chunk the changed frames reach. With
        faces (``people``: the shot's pinned and ignored ids) the core plans the whole shot around who speaks: the
        speaker policy's state is not in a resumable chunk start."""
        from .. import _core

        a = self.analysis
        if people is not None:
            w, s, seg, _, who = _core.plan_path(a.maps[start:end], [], a.width, a.height, a.fps, ratio=ratio,
                                                mode=mode, keyframes=list(keys), with_segments=True,
                                                with_states=True, faces=list(self._shot_faces[shot]),
                                                pinned=list(people[0]), ignored=list(people[1]), **self.options)
            if len(s) != 1:
                raise RuntimeError(f"internal: plan_path gave {len(s)} shots for one")
            return (np.asarray(w, dtype=np.int32), s[0][2], [(x + start, y + start, m) for x, y, m in seg],
                    np.asarray(who, dtype=np.int32))
        subjects = [(first, np.asarray(points, dtype=np.float64).reshape(-1, 5)) for first, points in tracks]
        base_key = (ratio, start, end, mode)
        with self._lock:
            base = self._bases.get(base_key)
        resume, pos, j = None, 0, 0
        chunk = self._chunk_frames()
        if base is not None and chunk:
            base_keys, base_tracks, _, _, _, states = base
            changed = [f for f, _, _ in set(keys) ^ set(base_keys)]
            if tracks != base_tracks:
                changed += [first for first, _ in set(tracks) ^ set(base_tracks)]
            if changed:
                first_changed = min(changed)
                j = next((k for k, st in enumerate(states) if st[0] + chunk > first_changed), 0)
                if j > 0:
                    resume, pos = states[j], int(states[j][0])
        w, s, seg, states = _core.plan_path(a.maps[start:end], [], a.width, a.height, a.fps, ratio=ratio, mode=mode,
                                            keyframes=list(keys), with_segments=True, subjects=subjects,
                                            with_states=True, resume=resume, **self.options)
        if len(s) != 1:
            raise RuntimeError(f"internal: plan_path gave {len(s)} shots for one")
        windows = np.asarray(w, dtype=np.int32)
        segs = [(x, y, m) for x, y, m in seg]
        if resume is not None:
            _, _, base_windows, _, base_segs, base_states = base  # type: ignore[misc]
            windows[:pos] = base_windows[:pos]
            segs = [(x, min(y, pos), m) for x, y, m in base_segs if x < pos] + \
                   [(max(x, pos), y, m) for x, y, m in segs if y > pos]
            merged: list[tuple[int, int, str]] = []
            for x, y, m in segs:  # the runs on either side of the seam join when they are one kind
                if merged and merged[-1][2] == m and merged[-1][1] == x:
                    merged[-1] = (merged[-1][0], y, m)
                else:
                    merged.append((x, y, m))
            segs = merged
            states = list(base_states[:j]) + list(states)
        modes = {st[1] for st in states}
        shot_mode = modes.pop() if len(modes) == 1 else "track"  # as plan_offline merges its chunks' modes
        with self._lock:
            self._bases[base_key] = (keys, tracks, windows.copy(), shot_mode, segs, states)
            self._bases.move_to_end(base_key)
            while len(self._bases) > self.MEMO:
                self._bases.popitem(last=False)
        return windows, shot_mode, [(x + start, y + start, m) for x, y, m in segs], None
