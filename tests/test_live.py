"""Live: a real clip streamed in over SRT, reframed by salcrop as it arrives, streamed out over SRT and RTMP.

All on 127.0.0.1 (benchmarks/live_latency.py runs the three processes and notes each frame's arrival). The
checks are functional, with wide bounds so that a loaded machine does not fail them: every frame arrives, the
relay ends cleanly, it keeps real time (frames arrive at the clip's rate and the delay does not grow), and
salcrop's added delay stays near its lookahead. The figures themselves go to BENCHMARKS.md from the benchmark.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SECONDS = 8.0


def _harness():
    spec = importlib.util.spec_from_file_location("live_latency", REPO / "benchmarks" / "live_latency.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


live = _harness()


@pytest.fixture(scope="module")
def clip(shared_videos: Path) -> Path:
    """640x360, 25 fps, with audio (../shared/videos/SOURCES.md)."""
    return shared_videos / "chaplin.mp4"


@pytest.fixture(scope="module")
def sent(ffmpeg: Path, clip: Path) -> int:
    """The video frames the sender sends: the clip's first SECONDS, cut as the sender cuts them (-t, copied)."""
    r = subprocess.run([str(ffmpeg), "-v", "error", "-t", str(SECONDS), "-i", str(clip), "-map", "0:v:0", "-c", "copy",
                        "-f", "framecrc", "-"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return sum(1 for line in r.stdout.splitlines() if line.startswith("0,"))


def check(run, frames: int) -> None:
    assert run.reader_error is None, f"{run.reader_error}\n{run.relay_log[-2000:]}"
    assert run.relay_rc == 0, run.relay_log[-2000:]
    # Every frame of the clip's first SECONDS arrives (SRT and RTMP retransmit; nothing is dropped on loopback).
    assert len(run.arrivals) == frames, (len(run.arrivals), frames, run.relay_log[-2000:])
    assert abs(run.rate - run.fps) < 0.15 * run.fps, f"{run.rate:.1f} frames/s arriving for a {run.fps:g} fps stream"
    assert run.drift < 0.5, f"the delay grew by {run.drift:.2f} s over the stream: not keeping real time"


@pytest.fixture(scope="module")
def srt_runs(ffmpeg: Path, clip: Path):
    crop = live.live_run(ffmpeg, clip, live.CROP_9_16, "srt", SECONDS)
    salcrop = live.live_run(ffmpeg, clip, live.SALCROP, "srt", SECONDS)
    return crop, salcrop


def test_srt_in_srt_out_keeps_real_time(srt_runs, sent: int) -> None:
    crop, salcrop = srt_runs
    check(crop, sent)
    check(salcrop, sent)
    # salcrop holds a frame back for its lookahead (1 s here): the added delay is about that, not more.
    added = salcrop.steady - crop.steady
    assert 0.5 < added < 2.5, f"salcrop added {added:.2f} s in the steady state (lookahead=1)"
    assert salcrop.startup - crop.startup < 4.0, (salcrop.startup, crop.startup)


def test_srt_in_rtmp_out(ffmpeg: Path, clip: Path, sent: int) -> None:
    """-f flv to an RTMP listener (here the reader, as a streaming server's ingest would be)."""
    run = live.live_run(ffmpeg, clip, live.SALCROP, "rtmp", SECONDS)
    check(run, sent)
