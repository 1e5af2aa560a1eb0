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


def test_a_file_is_paced_a_live_input_not_and_the_frames_are_the_same(ffmpeg: Path, clip: Path,
                                                                      tmp_path: Path) -> None:
    """Read faster than real time (a file), the filter hands decided frames on one per frame in, so that the
    encoder and the decoder work side by side (issue 27, BENCHMARKS.md); read in real time (-re), each goes out as
    soon as it is decided, so a live stream keeps its delay. When frames go out changes, never which: the frames
    and the path are the same either way."""
    runs = {}
    for name, pace in (("file", []), ("live", ["-re"])):
        path = tmp_path / f"{name}.json"
        r = subprocess.run([str(ffmpeg), "-nostdin", "-hide_banner", "-v", "verbose", *pace, "-t", "4", "-i",
                            str(clip), "-vf", f"salcrop=lookahead=1:path={path}", "-an", "-f", "framemd5", "-"],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr[-2000:]
        line = next(ln for ln in r.stderr.splitlines() if "faster than real time" in ln)
        paced, pushed = map(int, line.split("]")[-1].split()[:3:2])
        runs[name] = (r.stdout, path.read_text(), paced, pushed)
    (file_md5, file_path, file_paced, frames), (live_md5, live_path, live_paced, _) = runs["file"], runs["live"]
    assert file_md5 == live_md5 and file_path == live_path
    assert file_paced > 0.9 * frames, (file_paced, frames)
    # -re lets the first 0.5 s through at once, and the pace follows the time elapsed since the first frame.
    assert live_paced < 0.35 * frames, (live_paced, frames)
