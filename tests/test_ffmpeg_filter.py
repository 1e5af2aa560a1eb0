"""The salcrop filter as a user meets it: build/bin/ffmpeg on real clips from ../shared/videos.

Every test runs the real ffmpeg binary with the real core and model; expectations come from the input
clips themselves (their sizes, frame counts, timestamps, known cuts, decoded pixels), never from a
previous run of the filter.
"""

from __future__ import annotations

import json
import re
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

# Plane layouts of the raw pixel formats compared byte for byte below:
# (horizontal subsampling, vertical subsampling, bytes per sample group) per plane.
PLANES: dict[str, list[tuple[int, int, int]]] = {
    "yuv420p": [(1, 1, 1), (2, 2, 1), (2, 2, 1)],
    "yuv422p": [(1, 1, 1), (2, 1, 1), (2, 1, 1)],
    "yuv444p": [(1, 1, 1), (1, 1, 1), (1, 1, 1)],
    "nv12": [(1, 1, 1), (2, 2, 2)],
    "gray": [(1, 1, 1)],
    "rgb24": [(1, 1, 3)],
    "bgra": [(1, 1, 4)],
    "yuv420p10le": [(1, 1, 2), (2, 2, 2), (2, 2, 2)],
    "yuv422p10le": [(1, 1, 2), (2, 1, 2), (2, 1, 2)],
    "yuv444p10le": [(1, 1, 2), (1, 1, 2), (1, 1, 2)],
}


def run(cmd: list[str | Path], expect_ok: bool = True) -> subprocess.CompletedProcess[str]:
    """Runs a command; when expect_ok, fails the test with the end of its stderr on a non-zero exit."""
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600)
    if expect_ok and proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))}\nexit {proc.returncode}\n{proc.stderr[-3000:]}")
    return proc


def ffmpeg_run(ffmpeg: Path, *args: str | Path, expect_ok: bool = True) -> subprocess.CompletedProcess[str]:
    """build/bin/ffmpeg with the given arguments, quietly overwriting outputs."""
    return run([ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-y", *args], expect_ok)


def probe(ffprobe: Path, path: Path, *entries: str) -> dict:
    """ffprobe's JSON for path."""
    return json.loads(run([ffprobe, "-v", "error", "-of", "json", *entries, path]).stdout)


def video_size(ffprobe: Path, path: Path) -> tuple[int, int]:
    """Display size of the first video stream (after rotation metadata, as ffmpeg decodes it)."""
    s = probe(ffprobe, path, "-select_streams", "v:0", "-show_entries", "stream=width,height:stream_side_data")
    w, h = s["streams"][0]["width"], s["streams"][0]["height"]
    rotation = [d.get("rotation", 0) for d in s["streams"][0].get("side_data_list", [])]
    if rotation and abs(rotation[0]) % 180 == 90:
        w, h = h, w
    return w, h


def frame_times(ffprobe: Path, path: Path) -> list[float]:
    """Presentation time of every decoded video frame, in seconds."""
    frames = probe(ffprobe, path, "-select_streams", "v:0", "-show_entries", "frame=pts_time")["frames"]
    return [float(f["pts_time"]) for f in frames]


def salcrop_log(stderr: str) -> list[str]:
    """The lines the filter logged."""
    return [line for line in stderr.splitlines() if "salcrop" in line]


def assert_ratio(w: int, h: int, ratio: Fraction, in_w: int, in_h: int) -> None:
    """The window has the target aspect (to a pixel of rounding) and spans the input's limiting side."""
    assert w <= in_w and h <= in_h
    if Fraction(in_w, in_h) >= ratio:  # landscape-ish input: full height
        assert h == in_h and abs(w - h * ratio) <= 1, (w, h)
    else:  # input narrower than the target: full width
        assert w == in_w and abs(h - w / ratio) <= 1, (w, h)


def read_raw(path: Path, pix_fmt: str, width: int, height: int) -> list[list[np.ndarray]]:
    """Splits a rawvideo file into frames, each a list of 2-D byte planes."""
    shapes = [(-(-height // vs), -(-width // hs) * bpp) for hs, vs, bpp in PLANES[pix_fmt]]
    frame_bytes = sum(r * c for r, c in shapes)
    data = np.fromfile(path, dtype=np.uint8)
    assert data.size % frame_bytes == 0, f"{path} is not whole {width}x{height} {pix_fmt} frames"
    frames = []
    for start in range(0, data.size, frame_bytes):
        planes, offset = [], start
        for r, c in shapes:
            planes.append(data[offset:offset + r * c].reshape(r, c))
            offset += r * c
        frames.append(planes)
    return frames


def crop_planes(planes: list[np.ndarray], pix_fmt: str, x: int, y: int, w: int, h: int) -> list[np.ndarray]:
    """The window (x, y, w, h) of a raw frame, plane by plane (x, y on the chroma grid)."""
    out = []
    for plane, (hs, vs, bpp) in zip(planes, PLANES[pix_fmt]):
        out.append(plane[y // vs:(y + h) // vs, (x // hs) * bpp:((x + w) // hs) * bpp])
    return out


def assert_output_is_the_window_of_the_input(ffmpeg: Path, clip: Path, tmp_path: Path, pix_fmt: str,
                                             salcrop_args: str, nb_frames: int) -> dict:
    """Runs salcrop in pix_fmt and checks every output frame byte for byte against the decoded input
    cropped to the window the crop path JSON reports for that frame. Returns the crop path."""
    path_json, out_raw, ref_raw = tmp_path / "path.json", tmp_path / "out.raw", tmp_path / "ref.raw"
    ffmpeg_run(ffmpeg, "-i", clip, "-vf", f"format={pix_fmt},salcrop={salcrop_args}:path={path_json}",
               "-frames:v", str(nb_frames), "-f", "rawvideo", "-pix_fmt", pix_fmt, out_raw)
    ffmpeg_run(ffmpeg, "-i", clip, "-vf", f"format={pix_fmt}", "-frames:v", str(nb_frames),
               "-f", "rawvideo", "-pix_fmt", pix_fmt, ref_raw)
    crop_path = json.loads(path_json.read_text())
    src_w, src_h = crop_path["source"]["width"], crop_path["source"]["height"]
    windows = crop_path["frames"][:nb_frames]
    w, h = windows[0]["w"], windows[0]["h"]
    out = read_raw(out_raw, pix_fmt, w, h)
    ref = read_raw(ref_raw, pix_fmt, src_w, src_h)
    assert len(out) == len(ref) == len(windows) == nb_frames
    for i, (got, full, win) in enumerate(zip(out, ref, windows)):
        assert (win["w"], win["h"]) == (w, h)
        expected = crop_planes(full, pix_fmt, win["x"], win["y"], w, h)
        for p, (a, b) in enumerate(zip(got, expected)):
            assert np.array_equal(a, b), f"frame {i} plane {p} differs from the input's window {win}"
    return crop_path


# --- one full run over the clip with known cuts, shared by the tests that read it

@pytest.fixture(scope="module")
def testvideo_run(ffmpeg: Path, shared_videos: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """testvideo.mp4 (1280x720, 720 frames, cuts at 201 and 382) reframed to 9:16 with its crop path."""
    out_dir = tmp_path_factory.mktemp("testvideo")
    clip, out, path_json = shared_videos / "testvideo.mp4", out_dir / "out.mp4", out_dir / "path.json"
    proc = ffmpeg_run(ffmpeg, "-i", clip, "-vf", f"salcrop=ratio=9/16:path={path_json}",
                      "-c:v", "libx264", "-preset", "ultrafast", "-fps_mode", "passthrough", out)
    return {"clip": clip, "out": out, "path": json.loads(path_json.read_text()), "stderr": proc.stderr}


def test_output_is_exactly_9_16_of_the_full_height(ffprobe: Path, testvideo_run: dict) -> None:
    in_w, in_h = video_size(ffprobe, testvideo_run["clip"])
    w, h = video_size(ffprobe, testvideo_run["out"])
    assert_ratio(w, h, Fraction(9, 16), in_w, in_h)
    assert w % 2 == 0 and h % 2 == 0  # yuv420p output: whole chroma samples


def test_every_frame_comes_out_with_its_timestamp(ffprobe: Path, testvideo_run: dict) -> None:
    t_in = frame_times(ffprobe, testvideo_run["clip"])
    t_out = frame_times(ffprobe, testvideo_run["out"])
    assert len(t_in) == 720
    assert len(t_out) == len(t_in)
    # ffmpeg shifts a file's start to 0; what must survive is every frame's time relative to the first.
    rel_in = np.array(t_in) - t_in[0]
    rel_out = np.array(t_out) - t_out[0]
    assert np.abs(rel_out - rel_in).max() < 1e-3


def test_crop_path_finds_the_known_cuts(testvideo_run: dict) -> None:
    path = testvideo_run["path"]
    assert path["version"] == 2
    assert len(path["frames"]) == 720
    assert [s["start"] for s in path["shots"]] == [0, 201, 382]
    assert path["shots"][-1]["end"] == 720
    assert all(s["mode"] in ("stationary", "pan", "track") for s in path["shots"])
    shot_of_frame = [f["shot"] for f in path["frames"]]
    assert shot_of_frame == [0] * 201 + [1] * (382 - 201) + [2] * (720 - 382)


def test_crop_path_segments_tile_each_shot_and_match_the_windows(testvideo_run: dict) -> None:
    path = testvideo_run["path"]
    xs = [f["x"] for f in path["frames"]]
    for shot in path["shots"]:
        segments = shot["segments"]
        assert segments[0]["start"] == shot["start"] and segments[-1]["end"] == shot["end"]
        assert all(a["end"] == b["start"] for a, b in zip(segments, segments[1:]))
        for seg in segments:
            assert seg["mode"] in ("stationary", "pan", "ease", "cut")
            if seg["mode"] == "stationary":
                first = seg["start"] - 1 if seg["start"] > shot["start"] else seg["start"]
                assert len(set(xs[first:seg["end"]])) == 1, f"stationary segment {seg} moves"


def test_window_never_leaves_the_frame(ffprobe: Path, testvideo_run: dict) -> None:
    path = testvideo_run["path"]
    in_w, in_h = video_size(ffprobe, testvideo_run["clip"])
    assert (path["source"]["width"], path["source"]["height"]) == (in_w, in_h)
    times = [f["t"] for f in path["frames"]]
    assert times == sorted(times)
    for f in path["frames"]:
        assert 0 <= f["x"] and f["x"] + f["w"] <= in_w, f
        assert 0 <= f["y"] and f["y"] + f["h"] <= in_h, f


def test_filter_logs_what_it_decided(testvideo_run: dict) -> None:
    lines = salcrop_log(testvideo_run["stderr"])
    assert any("1280" in line and "720" in line for line in lines), lines
    # At the end, what the camera did, as the path JSON has it frame by frame.
    path = testvideo_run["path"]
    moving = sum(seg["end"] - seg["start"] for shot in path["shots"] for seg in shot["segments"]
                 if seg["mode"] in ("pan", "ease"))
    summary = f"9:16: 720 frames in 3 shots; the window moved on {int(100 * moving / 720 + 0.5)}% of them"
    assert any(line.endswith(summary) for line in lines), (summary, lines[-3:])


# --- sizes and spellings

@pytest.mark.parametrize(("clip", "ratio", "spelling"), [
    ("chaplin.mp4", Fraction(4, 5), "4/5"),
    ("bikes.mp4", Fraction(1, 1), "1/1"),
    ("chaplin.mp4", Fraction(9, 16), "9\\\\:16"),  # "9:16" escaped for the filtergraph
    ("chaplin.mp4", Fraction(9, 16), "0.5625"),
    ("carphone_pristine.mp4", Fraction(1, 1), "1"),
])
def test_output_size_has_the_ratio(ffmpeg: Path, ffprobe: Path, shared_videos: Path, tmp_path: Path,
                                   clip: str, ratio: Fraction, spelling: str) -> None:
    out = tmp_path / "out.mp4"
    ffmpeg_run(ffmpeg, "-i", shared_videos / clip, "-vf", f"salcrop=ratio={spelling}", "-frames:v", "10",
               "-an", "-c:v", "libx264", "-preset", "ultrafast", out)
    in_w, in_h = video_size(ffprobe, shared_videos / clip)
    w, h = video_size(ffprobe, out)
    assert_ratio(w, h, ratio, in_w, in_h)


def test_input_narrower_than_the_target_uses_full_width_and_says_so(
        ffmpeg: Path, ffprobe: Path, shared_videos: Path, tmp_path: Path) -> None:
    clip, out = shared_videos / "carphone_pristine.mp4", tmp_path / "out.mp4"  # 176x144 to 16:9
    proc = ffmpeg_run(ffmpeg, "-i", clip, "-vf", "salcrop=ratio=16/9", "-frames:v", "10",
                      "-c:v", "libx264", "-preset", "ultrafast", out)
    w, h = video_size(ffprobe, out)
    assert_ratio(w, h, Fraction(16, 9), *video_size(ffprobe, clip))
    assert any("narrower" in line for line in salcrop_log(proc.stderr)), proc.stderr[-2000:]


# --- pixels: the output is the input's window, in every format the filter takes

@pytest.mark.parametrize("pix_fmt", ["yuv420p", "nv12", "yuv422p", "yuv444p", "gray", "rgb24", "bgra",
                                     "yuv420p10le", "yuv422p10le", "yuv444p10le"])
def test_output_pixels_are_the_window_of_the_input(ffmpeg: Path, shared_videos: Path, tmp_path: Path,
                                                   pix_fmt: str) -> None:
    assert_output_is_the_window_of_the_input(ffmpeg, shared_videos / "carphone_pristine.mp4", tmp_path,
                                             pix_fmt, "ratio=9/16", nb_frames=12)


def test_10_bit_input_keeps_its_depth_and_gets_the_8_bit_path(ffmpeg: Path, ffprobe: Path, shared_videos: Path,
                                                               tmp_path: Path) -> None:
    # The core sees an 8-bit copy of a 10-bit frame; the output is cropped from the 10-bit frame itself.
    clip = shared_videos / "bikes.mp4"
    ffmpeg_run(ffmpeg, "-i", clip, "-vf", f"format=yuv420p10le,salcrop=ratio=9/16:path={tmp_path / 'p10.json'}",
               "-c:v", "libx264", "-preset", "veryfast", tmp_path / "o10.mp4")
    ffmpeg_run(ffmpeg, "-i", clip, "-vf", f"salcrop=ratio=9/16:path={tmp_path / 'p8.json'}", "-f", "null", "-")
    stream = probe(ffprobe, tmp_path / "o10.mp4", "-show_entries", "stream=pix_fmt,width,height")["streams"][0]
    assert (stream["pix_fmt"], stream["width"], stream["height"]) == ("yuv420p10le", 154, 272)
    deep, plain = json.loads((tmp_path / "p10.json").read_text()), json.loads((tmp_path / "p8.json").read_text())
    assert deep["shots"] == plain["shots"]
    dx = [abs(a["x"] - b["x"]) for a, b in zip(deep["frames"], plain["frames"])]
    assert len(dx) == 250 and sum(dx) / len(dx) <= 2, max(dx)
    # Padding and the debug view are drawn by the core in 8 bits: there ffmpeg converts the input first.
    ffmpeg_run(ffmpeg, "-i", clip, "-frames:v", "30", "-vf", "format=yuv420p10le,salcrop=ratio=9/16:pad=blur",
               "-c:v", "libx264", "-preset", "veryfast", tmp_path / "pad.mp4")
    stream = probe(ffprobe, tmp_path / "pad.mp4", "-show_entries", "stream=pix_fmt")["streams"][0]
    assert stream["pix_fmt"] == "yuv420p"


def test_rotated_input_is_reframed_upright(ffmpeg: Path, ffprobe: Path, shared_videos: Path,
                                           tmp_path: Path) -> None:
    clip = shared_videos / "issue-134-rotate.mp4"  # coded 1280x544 with a 90 degree display matrix
    in_w, in_h = video_size(ffprobe, clip)
    assert in_h > in_w
    crop_path = assert_output_is_the_window_of_the_input(ffmpeg, clip, tmp_path, "yuv420p", "ratio=9/16",
                                                         nb_frames=8)
    # The filter saw display orientation (ffmpeg autorotates before the graph): a portrait source, whose
    # 9:16 window spans the full width. Ignoring the rotation would have given a 306x544 window.
    assert (crop_path["source"]["width"], crop_path["source"]["height"]) == (in_w, in_h)
    first = crop_path["frames"][0]
    assert_ratio(first["w"], first["h"], Fraction(9, 16), in_w, in_h)


# --- graphs, audio, debug

def test_audio_is_kept(ffmpeg: Path, ffprobe: Path, shared_videos: Path, tmp_path: Path) -> None:
    clip, out = shared_videos / "bigbuckbunny.mp4", tmp_path / "out.mp4"
    ffmpeg_run(ffmpeg, "-i", clip, "-vf", "salcrop=ratio=9/16", "-c:v", "libx264", "-preset", "ultrafast",
               "-c:a", "aac", out)
    streams_in = probe(ffprobe, clip, "-show_entries", "stream=codec_type,duration")["streams"]
    streams_out = probe(ffprobe, out, "-show_entries", "stream=codec_type,duration")["streams"]
    audio_in = [s for s in streams_in if s["codec_type"] == "audio"]
    audio_out = [s for s in streams_out if s["codec_type"] == "audio"]
    assert len(audio_in) == 1 and len(audio_out) == 1
    assert abs(float(audio_out[0]["duration"]) - float(audio_in[0]["duration"])) < 0.1
    assert len(frame_times(ffprobe, out)) == len(frame_times(ffprobe, clip))


def test_two_instances_inside_filter_complex(ffmpeg: Path, ffprobe: Path, shared_videos: Path,
                                             tmp_path: Path) -> None:
    clip = shared_videos / "chaplin.mp4"
    tall, square = tmp_path / "tall.mp4", tmp_path / "square.mp4"
    ffmpeg_run(ffmpeg, "-t", "2", "-i", clip, "-filter_complex",
               "[0:v]split=2[a][b];[a]salcrop=ratio=9/16[tall];[b]salcrop=ratio=1[square]",
               "-map", "[tall]", "-c:v", "libx264", "-preset", "ultrafast", tall,
               "-map", "[square]", "-c:v", "libx264", "-preset", "ultrafast", square)
    in_w, in_h = video_size(ffprobe, clip)
    assert_ratio(*video_size(ffprobe, tall), Fraction(9, 16), in_w, in_h)
    assert_ratio(*video_size(ffprobe, square), Fraction(1, 1), in_w, in_h)
    assert len(frame_times(ffprobe, tall)) == len(frame_times(ffprobe, square)) == 50  # 2 s at 25 fps


def test_debug_view_is_the_full_frame_with_drawing(ffmpeg: Path, ffprobe: Path, shared_videos: Path,
                                                   tmp_path: Path) -> None:
    clip, out, ref = shared_videos / "carphone_pristine.mp4", tmp_path / "debug.raw", tmp_path / "ref.raw"
    ffmpeg_run(ffmpeg, "-i", clip, "-vf", "format=rgb24,salcrop=ratio=9/16:debug=1", "-frames:v", "10",
               "-f", "rawvideo", "-pix_fmt", "rgb24", out)
    ffmpeg_run(ffmpeg, "-i", clip, "-vf", "format=rgb24", "-frames:v", "10", "-f", "rawvideo",
               "-pix_fmt", "rgb24", ref)
    in_w, in_h = video_size(ffprobe, clip)
    debug = read_raw(out, "rgb24", in_w, in_h)  # raises if the frames are not full-size
    plain = read_raw(ref, "rgb24", in_w, in_h)
    assert len(debug) == len(plain) == 10
    assert all(not np.array_equal(d[0], p[0]) for d, p in zip(debug, plain)), "nothing was drawn"


# --- the interface: help and refusals

def test_help_lists_every_option(ffmpeg: Path) -> None:
    text = run([ffmpeg, "-hide_banner", "-h", "filter=salcrop"]).stdout
    for option in ("ratio", "model", "device", "mode", "stride", "lookahead", "scene_threshold",
                   "smoothing", "pad", "threads", "keyframes", "path", "debug"):
        line = next((ln for ln in text.splitlines() if re.match(rf"\s+{option}\s+<", ln)), None)
        assert line is not None, f"{option} missing from:\n{text}"
        assert re.search(r"\.{2,}\S*\s+\w+", line), f"{option} has no help text: {line}"


@pytest.mark.parametrize(("option", "words"), [
    ("ratio=0", ["ratio", "0"]),
    ("ratio=abc", ["ratio", "abc"]),
    ("device=tpu", ["device", "tpu"]),
    ("mode=zoom", ["mode", "zoom"]),
    ("model=/nonexistent/salcrop.onnx", ["/nonexistent/salcrop.onnx"]),
])
def test_bad_option_fails_with_its_name(ffmpeg: Path, shared_videos: Path, option: str,
                                        words: list[str]) -> None:
    proc = ffmpeg_run(ffmpeg, "-i", shared_videos / "carphone_pristine.mp4", "-vf", f"salcrop={option}",
                      "-frames:v", "1", "-f", "null", "-", expect_ok=False)
    assert proc.returncode != 0
    errors = salcrop_log(proc.stderr)
    assert any(all(w in line for w in words) for line in errors), proc.stderr[-2000:]


def test_keyframes_pin_the_window_on_a_real_clip_and_the_path_stays_smooth(
        ffmpeg: Path, shared_videos: Path, tmp_path: Path) -> None:
    # testvideo.mp4's first shot (frames 0..200, 1280x720 at 30 fps; a 404 px wide 9:16 window): the user
    # wants the window's centre at x = 300 at 1 s and at x = 950 on frame 150.
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps([{"t": 1.0, "x": 300, "y": 360}, {"frame": 150, "x": 950, "y": 360}]))
    path_json = tmp_path / "path.json"
    proc = ffmpeg_run(ffmpeg, "-i", shared_videos / "testvideo.mp4", "-vf",
                      f"salcrop=ratio=9/16:keyframes={keys}:path={path_json}", "-frames:v", "200", "-f", "null", "-")
    assert any("2 keyframes" in line for line in salcrop_log(proc.stderr))
    frames = json.loads(path_json.read_text())["frames"]
    for index, centre in ((30, 300), (150, 950)):
        f = frames[index]
        assert abs(f["x"] + f["w"] / 2 - centre) <= 2, f"frame {index}: {f}"
    x = np.array([f["x"] for f in frames], dtype=float)
    v = np.diff(x)
    # The planner's limits at the default smoothing (csrc/src/planner.cpp): 0.4 frame widths per second,
    # 0.7 per second squared, plus even-pixel rounding.
    assert np.abs(v).max() <= 0.4 * 1280 / 30 + 2
    assert np.abs(np.diff(v)).max() <= 0.7 * 1280 / 30**2 + 4
    moving = np.flatnonzero(v)
    turns = [b for a, b in zip(moving, moving[1:]) if np.sign(v[a]) != np.sign(v[b]) and b - a < 30]
    assert not turns, f"the window turns back within a second at frames {turns}: a wobble"


@pytest.mark.parametrize(("content", "words"), [
    (None, ["cannot read"]),
    ('[{"t": 1, "x": 10}]', ["keyframe 0", "\"y\""]),
    ('[{"t": 1, "frame": 3, "x": 1, "y": 1}]', ["exactly one"]),
    ('{"t": 1}', ["expected '['"]),
])
def test_bad_keyframes_file_fails_with_a_reason(ffmpeg: Path, shared_videos: Path, tmp_path: Path,
                                               content: str | None, words: list[str]) -> None:
    keys = tmp_path / "keys.json"
    if content is not None:
        keys.write_text(content)
    proc = ffmpeg_run(ffmpeg, "-i", shared_videos / "carphone_pristine.mp4", "-vf", f"salcrop=keyframes={keys}",
                      "-frames:v", "1", "-f", "null", "-", expect_ok=False)
    assert proc.returncode != 0
    assert any(all(w in line for w in words) for line in salcrop_log(proc.stderr)), proc.stderr[-2000:]


def test_frame_size_change_mid_stream_is_refused_with_a_reason() -> None:
    """Inside a libavfilter graph (here PyAV's) nothing rebuilds the filter for a new size: it must say so.
    (The ffmpeg CLI rebuilds its graph on a size change, so there a new salcrop starts instead.)"""
    import av
    import av.logging

    def gray_frame(width: int, height: int, pts: int) -> av.VideoFrame:
        frame = av.VideoFrame.from_ndarray(np.full((height * 3 // 2, width), 128, np.uint8), format="yuv420p")
        frame.pts, frame.time_base = pts, Fraction(1, 25)
        return frame

    graph = av.filter.Graph()
    src = graph.add_buffer(width=176, height=144, format="yuv420p", time_base=Fraction(1, 25))
    salcrop = graph.add("salcrop", "ratio=1")
    sink = graph.add("buffersink")
    src.link_to(salcrop)
    salcrop.link_to(sink)
    graph.configure()
    av.logging.set_level(av.logging.ERROR)
    try:
        with av.logging.Capture() as logs:
            for pts in range(3):
                graph.push(gray_frame(176, 144, pts))
            with pytest.raises(ValueError):  # EINVAL; the end of the stream would be an EOFError instead
                graph.push(gray_frame(352, 288, 3))
                graph.push(None)
                while True:
                    graph.pull()
    finally:
        av.logging.set_level(None)
    assert any("176x144" in msg and "352x288" in msg for _, name, msg in logs if name == "salcrop"), logs
