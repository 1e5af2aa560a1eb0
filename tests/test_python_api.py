"""The Python API as a user relies on it: reframe(), Reframer, CropPath, scenes().

Real clips (../shared/videos), real PyAV, the real core and model; nothing of ours is replaced.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

import salcrop_filter
from salcrop_filter import CropPath, CropPathError, OptionError, Reframer, ReframeError, reframe, scenes



@pytest.fixture(scope="session")
def videos(shared_videos: Path) -> Path:
    """The real clips (tests/conftest.py)."""
    return shared_videos



def decode(path: Path) -> tuple[list[np.ndarray], list[float]]:
    """Upright RGB frames and their times."""
    frames, times = [], []
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            a = f.to_ndarray(format="rgb24")
            k = round(f.rotation / 90) % 4
            frames.append(np.rot90(a, k) if k else a)
            times.append(float(f.time))
    return frames, times


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def assert_shows_path(out: Path, src: Path, path: CropPath, min_psnr: float = 30.0) -> None:
    """Every output frame is the source region the path names (up to lossy coding)."""
    got, _ = decode(out)
    want, _ = decode(src)
    assert len(got) == len(want) == len(path.frames)
    for i in range(0, len(got), max(1, len(got) // 12)):
        f = path.frames[i]
        region = want[i][f.y : f.y + f.h, f.x : f.x + f.w]
        assert got[i].shape == region.shape, f"frame {i}"
        assert psnr(got[i], region) > min_psnr, f"frame {i} does not show region {f}"


# --- CropPath -----------------------------------------------------------------------------------


def small_path() -> CropPath:
    return CropPath.from_dict({
        "version": 1, "source": {"width": 640, "height": 360, "fps": 25.0}, "ratio": "9:16",
        "frames": [{"t": i / 25, "x": 2 * i, "y": 0, "w": 202, "h": 360, "shot": 0 if i < 3 else 1} for i in range(5)],
        "shots": [{"start": 0, "end": 3, "mode": "stationary"}, {"start": 3, "end": 5, "mode": "pan"}],
    })


def test_croppath_round_trip(tmp_path: Path) -> None:
    p = small_path()
    assert CropPath.from_json(p.to_json()) == p
    assert CropPath.from_json(p.to_json(indent=2)) == p
    p.save(tmp_path / "p.json")
    assert CropPath.load(tmp_path / "p.json") == p
    assert json.loads((tmp_path / "p.json").read_text())["frames"][4] == {"t": 0.16, "x": 8, "y": 0, "w": 202, "h": 360, "shot": 1}
    assert p.cuts() == [3]
    assert p.output_size() == (202, 360)


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["frames"][2].update(x=500), "frames[2]: x + w = 702 exceeds the source width 640"),
    (lambda d: d["frames"][1].update(y=-2), "frames[1]: x = 2, y = -2 must not be negative"),
    (lambda d: d["frames"][3].update(t=0.0), "frames[3]: t = 0.0 must increase"),
    (lambda d: d["frames"][0].update(w="wide"), "frames[0]: w must be an integer"),
    (lambda d: d["shots"][1].update(mode="zoom"), "shots[1]: mode 'zoom' is not one of stationary, pan, track"),
    (lambda d: d["shots"][1].update(start=4), "shots[1]: starts at frame 4, expected 3"),
    (lambda d: d["shots"][1].update(end=4), "shots: cover frames 0..4, but there are 5 frames"),
    (lambda d: d["frames"][4].update(shot=0), "frames[4]: shot = 0, but shots[1] holds that frame"),
    (lambda d: d.update(version=3), "version: 3 is not supported"),
    (lambda d: d.update(version=2) or d["shots"][1].update(segments=[{"start": 3, "end": 4, "mode": "pan"}]),
     "shots[1]: segments end at frame 4, the shot at 5"),
    (lambda d: d.update(version=2) or d["shots"][0].update(segments=[{"start": 0, "end": 3, "mode": "zoom"}]),
     "shots[0].segments[0]: mode 'zoom' is not one of stationary, pan, ease"),
    (lambda d: d.update(ratio="tall"), "ratio: 'tall' is not W:H"),
    (lambda d: d.pop("shots"), "crop path lacks 'shots'"),
])
def test_croppath_names_what_is_wrong(edit, message: str, tmp_path: Path) -> None:
    d = small_path().to_dict()
    edit(d)
    (tmp_path / "bad.json").write_text(json.dumps(d))
    with pytest.raises(CropPathError) as e:
        CropPath.load(tmp_path / "bad.json")
    assert message in str(e.value)
    assert str(tmp_path / "bad.json") in str(e.value)


def test_croppath_version_2_keeps_segments_and_version_1_still_reads(tmp_path: Path) -> None:
    v1 = small_path()
    assert v1.version == 1 and all(not s.segments for s in v1.shots)
    assert "segments" not in v1.to_json(), "a version 1 path is written back as version 1"
    d = v1.to_dict()
    d["version"] = 2
    d["shots"][0]["segments"] = [{"start": 0, "end": 1, "mode": "stationary"}, {"start": 1, "end": 3, "mode": "ease"}]
    d["shots"][1]["segments"] = [{"start": 3, "end": 5, "mode": "pan"}]
    v2 = CropPath.from_dict(d)
    assert [(g.start, g.end, g.mode) for g in v2.shots[0].segments] == [(0, 1, "stationary"), (1, 3, "ease")]
    assert CropPath.from_json(v2.to_json()) == v2
    from salcrop_filter.plot import plot_path

    plot_path(v2, tmp_path / "v2.png")
    plot_path(v1, tmp_path / "v1.png")
    assert (tmp_path / "v2.png").stat().st_size > 0 and (tmp_path / "v1.png").stat().st_size > 0


def test_croppath_rejects_non_json() -> None:
    with pytest.raises(CropPathError, match="not valid JSON"):
        CropPath.from_json('{"version": 1,')


# --- reframe ------------------------------------------------------------------------------------


def test_reframe_size_frames_timestamps(videos: Path, tmp_path: Path) -> None:
    src, out = videos / "bikes.mp4", tmp_path / "bikes_9x16.mp4"
    path = reframe(src, out, "9:16")
    _, src_times = decode(src)
    frames, times = decode(out)
    assert len(frames) == len(src_times) == len(path.frames) == 250
    w, h = path.output_size()
    assert frames[0].shape == (h, w, 3)
    assert h == 272 and abs(w / h - 9 / 16) < 0.02 and w % 2 == 0
    assert all(f.shape == frames[0].shape for f in frames)
    assert np.allclose(times, src_times, atol=1e-3)
    assert [f.t for f in path.frames] == pytest.approx(src_times, abs=1e-6)
    assert (path.source.width, path.source.height) == (640, 272)
    assert_shows_path(out, src, path)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary left behind


def test_reframe_keeps_audio(videos: Path, tmp_path: Path) -> None:
    src, out = videos / "bigbuckbunny.mp4", tmp_path / "bbb.mp4"
    reframe(src, out, "1:1")
    with av.open(str(src)) as a, av.open(str(out)) as b:
        assert len(b.streams.audio) == 1
        ia, oa = a.streams.audio[0], b.streams.audio[0]
        assert oa.codec_context.name == ia.codec_context.name and oa.rate == ia.rate
        # stream copy: the very same packets
        src_sizes = [p.size for p in a.demux(ia) if p.size]
        out_sizes = [p.size for p in b.demux(oa) if p.size]
        assert out_sizes == src_sizes
    frames, _ = decode(out)
    assert len(frames) == 132 and frames[0].shape == (720, 720, 3)


def test_reframe_avi_with_packed_b_frames_and_ac3(videos: Path, tmp_path: Path) -> None:
    # Megamind.avi: MPEG-4 Part 2 with packed B-frames (decoded pts come out of order) and AC-3 audio.
    src, out = videos / "Megamind.avi", tmp_path / "mm.mp4"
    if "ac3" not in av.codecs_available:
        # An FFmpeg without the AC-3 decoder: PyAV cannot even describe the stream; the video is still made.
        with pytest.warns(UserWarning, match="audio dropped"):
            reframe(src, out, "4:5")
        with av.open(str(out)) as b:
            assert not b.streams.audio
    else:
        reframe(src, out, "4:5")
        with av.open(str(src)) as a, av.open(str(out)) as b:
            assert b.streams.audio[0].codec_context.name == "ac3"  # MP4 holds AC-3: copied, not re-encoded
            src_sizes = [p.size for p in a.demux(a.streams.audio[0]) if p.size]
            out_sizes = [p.size for p in b.demux(b.streams.audio[0]) if p.size]
            # The MP4 muxer drops the AVI's truncated first AC-3 frame (729 of 768 bytes), as ffmpeg -c:a copy does.
            assert len(src_sizes) - len(out_sizes) <= 1 and out_sizes == src_sizes[len(src_sizes) - len(out_sizes):]
    frames, times = decode(out)
    assert len(frames) == 270
    assert all(b > a for a, b in zip(times, times[1:]))  # AVI's out-of-order pts repaired like ffmpeg does


def test_reframe_rotated_input_is_upright(videos: Path, tmp_path: Path) -> None:
    # issue-134-rotate.mp4 is coded 1280x544 with a -90 degree display matrix: upright it is 544x1280.
    src, out = videos / "issue-134-rotate.mp4", tmp_path / "rot.mp4"
    path = reframe(src, out, "1:1")
    assert (path.source.width, path.source.height) == (544, 1280)
    assert path.output_size() == (544, 544)
    assert_shows_path(out, src, path)


@pytest.mark.parametrize("clip, count", [("bikes.mp4", 250), ("issue-134-rotate.mp4", 240), ("Megamind.avi", 270)])
def test_path_equals_ffmpeg_filter(videos: Path, ffmpeg: Path, tmp_path: Path, clip: str, count: int) -> None:
    # Same clip, same options: the same crop path from both front ends (the rotated clip checks that
    # Python's upright frames are ffmpeg's autorotated ones, pixel for pixel; Megamind.avi's packed B-frames
    # that both put the frames on the same timeline).
    # speakers=off: reframe hears the input's sound for analysis even with audio=False (which only leaves it out of
    # the output), the filter under -an hears none, so with faces on the two would plan from different inputs.
    src = videos / clip
    ours = reframe(src, tmp_path / "py.mp4", "9:16", smoothing=0.6, audio=False, speakers="off")
    subprocess.run([str(ffmpeg), "-nostdin", "-v", "error", "-i", str(src), "-an", "-vf",
                    f"salcrop=ratio=9/16:smoothing=0.6:speakers=off:path={tmp_path / 'ff.json'}", "-f", "null", "-"],
                   check=True, timeout=600)
    theirs = CropPath.load(tmp_path / "ff.json")
    assert len(ours.frames) == len(theirs.frames) == count
    assert (ours.source.width, ours.source.height) == (theirs.source.width, theirs.source.height)
    assert [(f.x, f.y, f.w, f.h, f.shot) for f in ours.frames] == [(f.x, f.y, f.w, f.h, f.shot) for f in theirs.frames]
    assert [f.t for f in ours.frames] == pytest.approx([f.t for f in theirs.frames], abs=1e-3)
    assert ours.shots == theirs.shots


def test_options_reach_the_core(videos: Path, tmp_path: Path) -> None:
    src = videos / "bikes.mp4"
    one_shot = reframe(src, tmp_path / "a.mp4", "9:16", scene_threshold=0)
    assert [(s.start, s.end) for s in one_shot.shots] == [(0, 250)]
    still = reframe(src, tmp_path / "b.mp4", "9:16", mode="stationary", stride=2, lookahead=2.0, smoothing=0.9,
                    pad="blur", threads=1, device="cpu")
    assert len(still.shots) > 1 and all(s.mode == "stationary" for s in still.shots)
    for s in still.shots:  # a stationary shot is one fixed window
        assert len({(f.x, f.y) for f in still.frames[s.start : s.end]}) == 1


def test_reframe_keyframes_pin_the_window(videos: Path, tmp_path: Path) -> None:
    src = videos / "chaplin.mp4"
    keys = [{"frame": 10, "x": 150, "y": 0}, {"t": 2.0, "x": 500, "y": 0}]
    path = reframe(src, tmp_path / "k.mp4", "9:16", keyframes=keys)
    fps = path.source.fps
    for frame, centre in ((10, 150), (round(2.0 * fps), 500)):
        f = path.frames[frame]
        assert abs(f.x + f.w / 2 - min(max(centre, f.w / 2), path.source.width - f.w / 2)) <= 2, (frame, f)
    assert all(s.segments and s.segments[0].start == s.start and s.segments[-1].end == s.end for s in path.shots)
    with pytest.raises(OptionError, match="keyframes"):
        reframe(src, tmp_path / "bad.mp4", "9:16", keyframes=[{"t": 1.0, "x": 3}])
    assert not (tmp_path / "bad.mp4").exists()


def test_path_in_renders_an_edited_path(videos: Path, tmp_path: Path) -> None:
    src = videos / "chaplin.mp4"
    planned = reframe(src, tmp_path / "planned.mp4", "9:16")
    edited = CropPath.from_json(planned.to_json())
    w = edited.frames[0].w
    for i, f in enumerate(edited.frames):  # a hand-made sweep from the left edge to the right edge
        f.x = round(i * (edited.source.width - w) / (len(edited.frames) - 1)) // 2 * 2
    out = tmp_path / "edited.mp4"
    result = reframe(src, out, path_in=edited)
    assert result == edited
    assert_shows_path(out, src, edited)


def test_path_in_must_fit_the_video(videos: Path, tmp_path: Path) -> None:
    p = small_path()
    with pytest.raises(CropPathError, match="640x360 source, .*bikes.mp4 is 640x272"):
        reframe(videos / "bikes.mp4", tmp_path / "x.mp4", path_in=p)
    p.source.height = 272
    for f in p.frames:
        f.h = 272
    with pytest.raises(CropPathError, match="the path has 5 frames"):
        reframe(videos / "bikes.mp4", tmp_path / "x.mp4", path_in=p)
    assert list(tmp_path.iterdir()) == []


def test_reframe_errors_are_clear_and_leave_nothing(videos: Path, tmp_path: Path) -> None:
    with pytest.raises(ReframeError, match="no such file"):
        reframe(tmp_path / "missing.mp4", tmp_path / "o.mp4")
    bad = tmp_path / "corrupt.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    with pytest.raises(ReframeError, match="corrupt.mp4"):
        reframe(bad, tmp_path / "o.mp4")
    with pytest.raises(OptionError, match="mode"):
        reframe(videos / "carphone_pristine.mp4", tmp_path / "o.mp4", mode="diagonal")
    with pytest.raises(OptionError, match="colour"):
        reframe(videos / "carphone_pristine.mp4", tmp_path / "o.mp4", colour="red")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corrupt.mp4"]


# --- Reframer -----------------------------------------------------------------------------------


def test_reframer_in_a_plain_pyav_loop(videos: Path, tmp_path: Path) -> None:
    src = videos / "carphone_pristine.mp4"
    out_frames: list[av.VideoFrame] = []
    with av.open(str(src)) as c:
        stream = c.streams.video[0]
        r = Reframer("9:16", fps=float(stream.guessed_rate))
        in_pts = []
        for frame in c.decode(stream):
            in_pts.append(frame.pts)
            got = r.push(frame)
            assert len(out_frames) + len(got) <= len(in_pts)
            out_frames += got
        out_frames += r.flush()
    assert len(out_frames) == len(in_pts) == 120
    assert [f.pts for f in out_frames] == in_pts
    assert {(f.width, f.height) for f in out_frames} == {r.output_size}
    path = r.path
    assert len(path.frames) == 120 and path.output_size() == r.output_size
    # the same planner as reframe(): same options, same path
    assert path.frames == reframe(src, tmp_path / "o.mp4", "9:16").frames


# --- scenes -------------------------------------------------------------------------------------


def test_scenes_finds_the_labelled_cuts(videos: Path) -> None:
    # testvideo.scenes.csv: three shots joined by fades through black, boundaries at frames 201 and 382.
    rows = [line.split(",") for line in (videos / "testvideo.scenes.csv").read_text().splitlines()[1:]]
    labelled = [round(float(r[2])) for r in rows if len(r) == 4 and float(r[2]) > 0]
    assert labelled == [201, 382]
    assert scenes(videos / "testvideo.mp4") == labelled


def test_scenes_threshold_zero_means_one_shot(videos: Path) -> None:
    assert scenes(videos / "bikes.mp4", threshold=0) == []


@pytest.mark.parametrize("clip", ["bikes.mp4", "Megamind.avi"])
def test_scenes_agree_with_pyscenedetect(videos: Path, clip: str) -> None:
    ours = scenes(videos / clip)
    theirs = scenes(videos / clip, backend="pyscenedetect")
    # A cut both detectors see: one of ours with one of theirs nearby (a shot is at least half a second).
    pairs = [(a, min(theirs, key=lambda b: abs(a - b))) for a in ours if theirs]
    pairs = [(a, b) for a, b in pairs if abs(a - b) <= 12]
    assert pairs, f"no cut in common: salcrop {ours}, pyscenedetect {theirs}"
    assert all(abs(a - b) <= 2 for a, b in pairs), pairs


def test_scenes_rejects_unknown_backend(videos: Path) -> None:
    with pytest.raises(ValueError, match="backend"):
        scenes(videos / "bikes.mp4", backend="opencv")


def test_import_needs_no_torch() -> None:
    code = "import sys, salcrop_filter; salcrop_filter.CropPath; assert 'torch' not in sys.modules"
    subprocess.run([__import__("sys").executable, "-c", code], check=True)
    assert "reframe" in dir(salcrop_filter)
