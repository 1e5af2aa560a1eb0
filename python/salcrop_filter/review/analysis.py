"""A video's analysis for the editor: every frame's saliency map, time and shot, computed once and cached.

The maps are the streaming engine's own (``_core.Engine`` with ``keep_maps``: the network on the frames its
sampling rule picks, interpolated between), popped one decision at a time, and the cuts are where its shot index
changes. So ``_core.plan_path`` over them, with the same options, gives the path ``salcrop`` gives: the editor
re-plans from this and never runs the network again.

The cache lives in ``${SALCROP_CACHE:-~/.cache/salcrop}/review/<key>.npz``; the key hashes the video's bytes,
the model file's bytes, the execution provider and the options that change the maps (stride, scene threshold),
so an edited video or another model is analysed afresh and the same video under another name is not.

With ``speakers="auto"`` (the default for a video with sound, as in ``salcrop``) the engine also sees the faces
and hears the input's first audio stream, as ``salcrop --speakers auto`` does: per frame the faces it tracked,
with how likely each speaks, are kept too (the editor's face lanes, and what it re-plans around when a speaker is
pinned or ignored).

A video a browser cannot play (AVI, MPEG-4 Part 2, HEVC...) gets a small H.264 proxy for the page, encoded in the
same pass from the same decoded frames, upright, with the same timestamps: ``<key>.proxy.mp4`` beside it.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import av
import numpy as np

from ..checksums import file_sha256
from ..hearing import AudioFeed
from ..pipeline import (ReframeError, VideoWriter, _decode, _open_input, _probe, _Probe, _push_decoded, _stamps,
                        default_speakers, make_engine)

__all__ = ["Analysis", "AnalysisOptions", "AnalysisProgress", "analyse", "cache_dir", "cache_key", "load_or_analyse",
           "with_sound_default"]

# Bumped when the cached arrays change meaning; old files are then ignored, not misread.
CACHE_FORMAT = 1
# What Chromium and Firefox play: anything else gets a proxy.
_BROWSER_CODECS = {"h264", "vp8", "vp9", "av1"}
_BROWSER_CONTAINERS = ("mp4", "mov", "webm", "matroska")
PROXY_WIDTH = 640  # enough to see what to fix; the render always reads the original


@dataclass(frozen=True)
class AnalysisOptions:
    """The engine options that decide the maps and the cuts (None: the core's default)."""

    model: str | None = None
    device: str | None = None
    threads: int | None = None
    stride: int | None = None
    scene_threshold: float | None = None
    speakers: str | None = None  # "auto": faces and who speaks (docs/speakers.md); None/"off": saliency only

    @property
    def with_faces(self) -> bool:
        return self.speakers not in (None, "off")

    def engine_options(self) -> dict[str, Any]:
        out = {"model": self.model, "device": self.device, "threads": self.threads, "stride": self.stride,
               "scene_threshold": self.scene_threshold}
        if self.with_faces:
            out["speakers"] = self.speakers
        return out


@dataclass
class Analysis:
    """What the planner needs of one video, for any ratio: per frame its time, saliency map and shot."""

    width: int
    height: int
    fps: float
    times: np.ndarray  # float64 [T]: each frame's time, as salcrop's path JSON writes it
    maps: np.ndarray  # float32 [T, map_h, map_w]
    cuts: list[int]  # frames where a shot starts, 0 excluded
    model: str = ""  # the model file the maps came from, and where it ran
    provider: str = ""
    key: str = ""  # the cache key (load_or_analyse)
    proxy: Path | None = None  # the browser's copy, when the original does not play in one
    # speakers=auto: every face seen, one row per (frame, track): frame, track id, x, y, w, h, speaking (0..1,
    # -1 unknown), as the engine's decisions say; None: an analysis without faces.
    faces: np.ndarray | None = None

    @property
    def frames(self) -> int:
        return int(self.maps.shape[0])

    def shot_ranges(self) -> list[tuple[int, int]]:
        """[start, end) of every shot."""
        starts = [0] + [c for c in self.cuts if 0 < c < self.frames]
        return [(a, b) for a, b in zip(starts, starts[1:] + [self.frames])]

    def save(self, path: Path) -> None:
        """Written under a temporary name and renamed: a reader never sees half a file, two writers never mix."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            with open(tmp, "wb") as fh:
                np.savez(fh, format=np.array(CACHE_FORMAT), size=np.array([self.width, self.height]),
                         fps=np.array(self.fps), times=self.times, maps=self.maps,
                         cuts=np.array(self.cuts, dtype=np.int64), model=np.array(self.model),
                         provider=np.array(self.provider),
                         **({} if self.faces is None else {"faces": self.faces}))
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: Path) -> "Analysis | None":
        """The cached analysis, or None when there is none usable (missing, older format, damaged)."""
        try:
            with np.load(path) as z:
                if int(z["format"]) != CACHE_FORMAT:
                    return None
                w, h = (int(v) for v in z["size"])
                faces = z["faces"].astype(np.float64).reshape(-1, 7) if "faces" in z.files else None
                return cls(w, h, float(z["fps"]), z["times"].astype(np.float64), z["maps"].astype(np.float32),
                           [int(c) for c in z["cuts"]], str(z["model"]), str(z["provider"]), faces=faces)
        except (OSError, ValueError, KeyError, EOFError):
            return None


@dataclass
class AnalysisProgress:
    """Shared between the analysing thread and the server: frames done of total, and when it started."""

    total: int | None = None
    done: int = 0
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    error: str | None = None
    cached: bool = False
    cancel: bool = False  # set by another thread to stop the analysis

    def snapshot(self) -> dict[str, Any]:
        now = self.finished or time.monotonic()
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        eta = None
        if self.total and rate > 0 and self.finished is None:
            eta = max(self.total - self.done, 0) / rate
        return {"done": self.done, "total": self.total, "rate": round(rate, 2),
                "eta": None if eta is None else round(eta, 1), "elapsed": round(elapsed, 2), "cached": self.cached}


def cache_dir() -> Path:
    return Path(os.environ.get("SALCROP_CACHE") or Path.home() / ".cache" / "salcrop") / "review"


def cache_key(src: Path, options: AnalysisOptions, model_path: str, provider: str) -> str:
    from .. import _core

    h = hashlib.sha256()
    # Only an analysis with faces names them: the caches made without stay valid.
    faces = [f"speakers {options.speakers}"] if options.with_faces else []
    for part in (f"format {CACHE_FORMAT}", f"core {_core.version()}", f"video {file_sha256(src)}",
                 f"model {file_sha256(model_path)}", f"provider {provider}", f"stride {options.stride}",
                 f"scene_threshold {options.scene_threshold}", *faces):
        h.update(part.encode() + b"\n")
    return h.hexdigest()[:32]


def model_identity(options: AnalysisOptions) -> tuple[str, str]:
    """(model file, execution provider) the engine will use with these options; raises OptionError/ReframeError."""
    from .. import _core
    from ..pipeline import OptionError

    try:
        runner = _core.SaliencyRunner(model=options.model or "", device=options.device or "auto",
                                      threads=options.threads or 0)
    except ValueError as e:
        raise OptionError(str(e)) from None
    except RuntimeError as e:
        raise ReframeError(str(e)) from None
    return runner.path, runner.provider


def browser_plays(src: Path) -> bool:
    """Whether a browser's <video> plays the file as it is (by container and codec)."""
    with _open_input(src) as c:
        fmt = c.format.name
        ctx = c.streams.video[0].codec_context
        return ctx is not None and ctx.name in _BROWSER_CODECS and any(n in fmt for n in _BROWSER_CONTAINERS)


def analyse(src: Path, options: AnalysisOptions, progress: AnalysisProgress | None = None,
            proxy: Path | None = None, probe: _Probe | None = None) -> Analysis:
    """Runs the engine over every frame of ``src`` and keeps, per frame, its map, time and shot; with ``proxy``,
    also writes the browser's copy there. ``probe``: ``src``'s, where the caller has it already."""
    progress = progress or AnalysisProgress()
    probe = probe or _probe(src)
    progress.total = probe.total
    engine = make_engine(probe.width, probe.height, float(probe.fps), "9:16", keep_maps=True,
                         **options.engine_options())
    maps: list[np.ndarray] = []
    times: list[float] = []
    shots: list[int] = []
    faces: list[tuple[float, ...]] = []

    def take(popper: Any) -> None:
        # popped_map is the map of the most recent pop: one decision at a time.
        while batch := popper(1):
            d = batch[0]
            if d.frame != len(maps):
                raise ReframeError(f"{src}: internal: decision for frame {d.frame} arrived for frame {len(maps)}")
            maps.append(engine.popped_map())
            times.append(d.t)
            shots.append(d.shot)
            if options.with_faces:
                faces.extend((d.frame, *face) for face in d.faces)
            popper = engine.pop

    writer: VideoWriter | None = None
    with _open_input(src) as inp:
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        # The same timestamps as reframe() gives the engine, so the path's times match salcrop's.
        stamps = _stamps(vin)
        pushed = 0
        if proxy is not None:
            pw = min(PROXY_WIDTH, probe.width) // 2 * 2
            ph = max(2, round(probe.height * pw / probe.width) // 2 * 2)
            # Short GOPs: the page seeks frame by frame.
            writer = VideoWriter(proxy, pw, ph, vin.time_base, probe.fps, codec="libx264",
                                 codec_options={"preset": "ultrafast", "crf": "26", "g": "12"})
        # With faces the engine hears the first audio stream, as reframe() feeds it (who speaks).
        feed = None
        if options.with_faces:
            if inp.streams.audio:
                feed = AudioFeed(engine, inp.streams.audio[0], str(src))
            else:
                engine.audio_end()
        try:
            for frame in _decode(inp, vin, [], feed):
                if progress.cancel:
                    raise ReframeError(f"{src}: the analysis was stopped")
                pic, pts = _push_decoded(engine, frame, stamps, vin, pushed, probe, src)
                if writer is not None:
                    upright = frame if pic.turns == 0 else av.VideoFrame.from_ndarray(pic.rgb, format="rgb24")
                    writer.write(upright.reformat(width=writer.video.width, height=writer.video.height,
                                                  format="yuv420p"), pts)
                pushed += 1
                progress.done = pushed
                take(engine.pop)
            if feed is not None:
                feed.end()
            take(engine.flush)
            if writer is not None:
                writer.close()
                writer = None
        except (RuntimeError, ValueError, av.error.FFmpegError) as e:  # the core's, the decoder's, the encoder's
            if isinstance(e, ReframeError):
                raise
            raise ReframeError(f"{src}: {e}") from None
        finally:
            if writer is not None:
                writer.abort()
    if not maps:
        raise ReframeError(f"{src}: no frame could be decoded")
    progress.total = len(maps)
    cuts = [i for i in range(1, len(shots)) if shots[i] != shots[i - 1]]
    return Analysis(probe.width, probe.height, float(probe.fps), np.array(times, dtype=np.float64),
                    np.stack(maps).astype(np.float32, copy=False), cuts,
                    faces=np.array(faces, dtype=np.float64).reshape(-1, 7) if options.with_faces else None)


def with_sound_default(src: Path, options: AnalysisOptions, probe: _Probe | None = None) -> AnalysisOptions:
    """``speakers`` unset is decided by the sound as reframe() and the salcrop command decide it on a flat picture
    (pipeline.default_speakers), so the editor plans what they render. The editor shows a 360° video (by its
    spherical metadata) as a flat picture and keeps saliency only there."""
    if options.speakers is not None:
        return options
    probe = probe or _probe(src)
    speakers = default_speakers(probe.sound, flat=True) if probe.spherical is None else None
    return replace(options, speakers=speakers) if speakers else options


def load_or_analyse(src: Path, options: AnalysisOptions, progress: AnalysisProgress | None = None) -> Analysis:
    """The cached analysis of ``src`` for these options, else a fresh one (then cached)."""
    progress = progress or AnalysisProgress()
    probe = _probe(src) if options.speakers is None else None  # the sound decides speakers; analyse() reuses it
    options = with_sound_default(src, options, probe)
    model_path, provider = model_identity(options)
    key = cache_key(src, options, model_path, provider)
    path = cache_dir() / f"{key}.npz"
    proxy = None if browser_plays(src) else cache_dir() / f"{key}.proxy.mp4"
    cached = Analysis.load(path)
    if cached is not None and (proxy is None or proxy.exists()):
        progress.cached = True
        progress.total = progress.done = cached.frames
        cached.key, cached.proxy = key, proxy
        return cached
    if proxy is not None:
        proxy.parent.mkdir(parents=True, exist_ok=True)
    result = analyse(src, options, progress, proxy, probe)
    result.model, result.provider, result.key, result.proxy = model_path, provider, key, proxy
    result.save(path)
    return result
