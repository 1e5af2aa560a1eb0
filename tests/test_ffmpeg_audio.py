"""The filter's optional audio input (salcrop=audio=1, [0:v][0:a]): the real ffmpeg binary with the real core.

The sound is for analysis only: with it, every video frame comes out exactly once, as many frames as with one input;
any audio FFmpeg gives (short, long, late, silent, mono, 5.1, planar float, 8 kHz, 96 kHz, u8) is taken, a rate the
core refuses is ignored with a warning, a corrupt stream is decoded around. What the filter handed the core it says
at the verbose level ("audio: N blocks, S s of sound"), which the tests read.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

VIDEO = ["-f", "lavfi", "-i", "testsrc2=d=4:s=320x180:r=25"]
FRAMES = 100
HEARD = re.compile(r"audio: (\d+) blocks, ([\d.]+) s of sound, up to ([\d.]+) s")


def ffmpeg_run(ffmpeg: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ffmpeg), "-hide_banner", "-nostdin", "-nostats", "-y", *map(str, args)],
                          capture_output=True, text=True, timeout=600)


def frame_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.startswith("0,")]


def reframe(ffmpeg: Path, tmp_path: Path, inputs: list[str], graph: str, name: str) -> tuple[list[str], str]:
    out = tmp_path / f"{name}.framemd5"
    proc = ffmpeg_run(ffmpeg, "-loglevel", "verbose", *inputs, "-filter_complex", graph, "-map", "[v]",
                      "-f", "framemd5", out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return frame_lines(out), proc.stderr


@pytest.fixture(scope="module")
def one_input(ffmpeg: Path, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    lines, _ = reframe(ffmpeg, tmp_path_factory.mktemp("one"), VIDEO, "[0:v]salcrop=ratio=9/16[v]", "one")
    assert len(lines) == FRAMES
    return lines


@pytest.mark.parametrize("name, audio, heard", [
    ("sine", "sine=d=4", (3.9, 4.1)),
    ("short", "sine=d=1", (0.9, 1.1)),
    ("long", "sine=d=30", (3.9, 6.0)),  # read until the video ends, not to its end
    ("endless", "sine", (3.9, 6.0)),  # a source that never ends: the video's end closes it
    ("silence", "anullsrc=r=48000:cl=stereo:d=4", (3.9, 4.1)),
    ("late", "sine=d=2,adelay=2000:all=1", (3.9, 4.1)),
    ("mono8k", "sine=d=4,aresample=8000", (3.9, 4.1)),
    ("s16-5.1", "sine=d=4,aresample=48000,aformat=sample_fmts=s16:channel_layouts=5.1", (3.9, 4.1)),
    ("fltp96k", "sine=d=4,aresample=96000,aformat=sample_fmts=fltp:channel_layouts=stereo", (3.9, 4.1)),
    ("u8", "sine=d=4,aformat=sample_fmts=u8", (3.9, 4.1)),
    ("dblp-7.1", "sine=d=4,aformat=sample_fmts=dblp:channel_layouts=7.1", (3.9, 4.1)),
])
def test_audio_input_keeps_every_frame(ffmpeg: Path, tmp_path: Path, one_input: list[str], name: str, audio: str,
                                       heard: tuple[float, float]) -> None:
    lines, log = reframe(ffmpeg, tmp_path, [*VIDEO, "-f", "lavfi", "-i", audio],
                         "[0:v][1:a]salcrop=ratio=9/16:audio=1[v]", name)
    assert len(lines) == FRAMES
    # Sound is analysis only: with no one to hear in it, the frames are the one-input run's, byte for byte
    # (frame times and checksums of the crops).
    assert lines == one_input
    m = HEARD.search(log)
    assert m, log[-2000:]
    assert heard[0] <= float(m.group(2)) <= heard[1], m.group(0)


def test_refused_rate_is_ignored_with_a_warning(ffmpeg: Path, tmp_path: Path, one_input: list[str]) -> None:
    lines, log = reframe(ffmpeg, tmp_path, [*VIDEO, "-f", "lavfi", "-i", "sine=d=4,aresample=4000"],
                         "[0:v][1:a]salcrop=ratio=9/16:audio=1[v]", "r4k")
    assert lines == one_input
    assert "sample rate 4000 Hz is outside 8000 .. 192000; the audio input is ignored" in log


def test_two_labels_without_the_option_say_what_to_do(ffmpeg: Path, tmp_path: Path) -> None:
    proc = ffmpeg_run(ffmpeg, *VIDEO, "-f", "lavfi", "-i", "sine=d=4", "-filter_complex",
                      "[0:v][1:a]salcrop=ratio=9/16[v]", "-map", "[v]", "-f", "null", "-")
    assert proc.returncode != 0
    assert "More input link labels specified for filter 'salcrop' than it has inputs: 2 > 1" in proc.stderr


def test_corrupt_audio_stream(ffmpeg: Path, tmp_path: Path) -> None:
    clip = tmp_path / "corrupt.mkv"
    # AAC packets with random bytes flipped (the noise bitstream filter): the decoder fails on many of them.
    made = ffmpeg_run(ffmpeg, *VIDEO, "-f", "lavfi", "-i", "sine=d=4", "-c:v", "libx264", "-preset", "ultrafast",
                      "-c:a", "aac", "-bsf:a", "noise=amount=20", "-shortest", clip)
    assert made.returncode == 0, made.stderr[-2000:]
    lines, log = reframe(ffmpeg, tmp_path, ["-i", str(clip)], "[0:v][0:a]salcrop=ratio=9/16:audio=1[v]", "corrupt")
    assert len(lines) == FRAMES
    plain, _ = reframe(ffmpeg, tmp_path, ["-i", str(clip)], "[0:v]salcrop=ratio=9/16[v]", "corrupt1")
    assert len(plain) == FRAMES


@pytest.mark.parametrize("clip", ["data/speakers/msdwild-00115/00115.mp4", "videos/chaplin.mp4",
                                  "videos/bigbuckbunny.mp4", "videos/Megamind.avi", "videos/issue-134-rotate.mp4"])
def test_real_clips_with_sound(ffmpeg: Path, ffprobe: Path, tmp_path: Path, shared_data: Path, clip: str) -> None:
    src = shared_data.parent / clip
    counted = subprocess.run([str(ffprobe), "-v", "error", "-count_frames", "-select_streams", "v:0",
                              "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", str(src)],
                             capture_output=True, text=True, check=True)
    frames = int(counted.stdout.strip().split(",")[0])  # side data may follow
    with_audio, log = reframe(ffmpeg, tmp_path, ["-i", str(src)], "[0:v][0:a]salcrop=ratio=9/16:audio=1[v]", "a")
    plain, _ = reframe(ffmpeg, tmp_path, ["-i", str(src)], "[0:v]salcrop=ratio=9/16[v]", "v")
    assert len(with_audio) == len(plain) == frames
    assert [line.split(",")[2] for line in with_audio] == [line.split(",")[2] for line in plain]  # same pts
    m = HEARD.search(log)
    assert m and float(m.group(2)) > 0.5 * frames / 30, log[-2000:]


def test_the_issue_command_with_audio_kept(ffmpeg: Path, ffprobe: Path, tmp_path: Path, shared_data: Path) -> None:
    src = shared_data / "speakers/msdwild-00115/00115.mp4"
    out = tmp_path / "out.mp4"
    proc = ffmpeg_run(ffmpeg, "-i", src, "-filter_complex", "[0:v][0:a]salcrop=ratio=9/16:audio=1[v]",
                      "-map", "[v]", "-map", "0:a", "-c:v", "libx264", "-preset", "ultrafast", out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    streams = subprocess.run([str(ffprobe), "-v", "error", "-count_frames", "-show_entries",
                              "stream=codec_type,nb_read_frames", "-of", "csv=p=0", str(out)],
                             capture_output=True, text=True, check=True).stdout.split()
    assert "video,500" in streams and any(s.startswith("audio,") for s in streams)


def test_the_audio_input_turns_speakers_on_by_default(ffmpeg: Path, tmp_path: Path, shared_data: Path) -> None:
    """Without the option, the filter follows who speaks when it is given the sound (audio=1): the path JSON of
    speakers=auto, byte for byte; with one input, speakers=off's, as before."""
    import json

    src = shared_data / "speakers/msdwild-00115/00115.mp4"
    graphs = {"default-audio": "[0:v][0:a]salcrop=ratio=9/16:audio=1:path={}[v]",
              "auto": "[0:v][0:a]salcrop=ratio=9/16:audio=1:speakers=auto:path={}[v]",
              "default-one": "[0:v]salcrop=ratio=9/16:path={}[v]",
              "off": "[0:v]salcrop=ratio=9/16:speakers=off:path={}[v]"}
    paths = {}
    for name, graph in graphs.items():
        path = tmp_path / f"{name}.json"
        reframe(ffmpeg, tmp_path, ["-i", str(src)], graph.format(path), name)
        paths[name] = path.read_text()
    assert paths["default-audio"] == paths["auto"]
    assert paths["default-one"] == paths["off"]
    followed = [f["speaker"] for f in json.loads(paths["auto"])["frames"] if f.get("speaker") is not None]
    assert len(followed) > 100
    assert paths["auto"] != paths["off"]
