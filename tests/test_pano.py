"""360° (equirectangular) input: the real ffmpeg binary and the Python package on the real clips of
../shared/data/pano360/videos, the core's projection maths on pictures whose pixels say where they are, and a
real flat clip projected onto the sphere at a known moving direction across the seam.

Expectations come from the inputs (sizes, frame counts, timestamps, the known direction of the projected
subject, the geometry of a rectilinear view), never from a previous run.
"""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

SMALL = "alcatraz_426x214.mp4"   # not exactly 2:1 (426x214): accepted within 2%
BATTLE = "battle1941_640x320.mp4"


def run(cmd: list, expect_ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600)
    if expect_ok and proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))}\nexit {proc.returncode}\n{proc.stderr[-3000:]}")
    return proc


def probe_frames(ffprobe: Path, path: Path) -> list[tuple[int, int]]:
    """(pts, duration-free) per video frame, and the stream's size."""
    out = run([ffprobe, "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts", "-of", "json", path])
    return [f["pts"] for f in json.loads(out.stdout)["frames"]]


def size_of(ffprobe: Path, path: Path) -> tuple[int, int]:
    out = run([ffprobe, "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of",
               "json", path])
    s = json.loads(out.stdout)["streams"][0]
    return s["width"], s["height"]


@pytest.fixture(scope="module")
def core():
    from salcrop_filter import _core

    return _core


@pytest.fixture(scope="session")
def pano_videos(shared_data: Path) -> Path:
    """The 360° clips, ../shared/data/pano360/videos (through conftest's shared_data: skipped without it)."""
    return shared_data / "pano360" / "videos"


@pytest.fixture(scope="module")
def clip3s(ffmpeg: Path, pano_videos: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 3 s of the small Alcatraz clip (90 frames), with a real audio track added (the clips have none)."""
    small = pano_videos / SMALL
    assert small.exists(), f"missing {small} (../shared/data/pano360)"
    out = tmp_path_factory.mktemp("pano") / "alcatraz3s.mp4"
    run([ffmpeg, "-v", "error", "-y", "-t", "3", "-i", small, "-f", "lavfi", "-t", "3", "-i",
         "sine=frequency=440:sample_rate=48000", "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-crf", "18",
         "-c:a", "aac", "-shortest", out])
    return out


@pytest.fixture(scope="module")
def equirect_run(ffmpeg: Path, clip3s: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    d = tmp_path_factory.mktemp("pano_run")
    out, path = d / "view.mp4", d / "view.json"
    proc = run([ffmpeg, "-v", "info", "-y", "-i", clip3s, "-vf",
                f"salcrop=projection=equirect:ratio=16/9:fov=90:path={path}", "-c:a", "copy", out])
    return {"out": out, "path": json.loads(path.read_text()), "log": proc.stderr, "src": clip3s}


def test_filter_renders_a_view_keeping_frames_timestamps_and_audio(ffprobe: Path, equirect_run: dict) -> None:
    src, out = equirect_run["src"], equirect_run["out"]
    assert probe_frames(ffprobe, out) == probe_frames(ffprobe, src)
    # Default size: the centre pixel spans a source pixel: 2 tan(45°) * 426 / 2pi = 135.6 -> 136 wide, 16:9.
    assert size_of(ffprobe, out) == (136, 76)
    a_src = run([ffprobe, "-v", "error", "-select_streams", "a:0", "-show_entries", "packet=pts,size", "-of", "csv",
                 src]).stdout
    a_out = run([ffprobe, "-v", "error", "-select_streams", "a:0", "-show_entries", "packet=pts,size", "-of", "csv",
                 out]).stdout
    assert a_src and a_src == a_out  # audio packets untouched


def test_view_path_is_version_3_with_steady_directions(equirect_run: dict) -> None:
    p = equirect_run["path"]
    assert p["version"] == 3 and p["projection"] == "equirect"
    frames = p["frames"]
    assert len(frames) == 90
    yaw = np.unwrap(np.radians([f["yaw"] for f in frames]))
    pitch = np.array([f["pitch"] for f in frames])
    assert all(f["fov"] == 90 for f in frames)
    assert np.all(np.abs(pitch) <= p["output"]["pitch_limit"] + 1e-6)
    # Steady: no frame-to-frame step above 2 degrees (a pan at the planner's top speed moves ~5°/frame at 30 fps
    # only across a whole turn; a still scene should hardly move).
    assert np.max(np.abs(np.diff(np.degrees(yaw)))) < 2.0
    assert np.max(np.abs(np.diff(pitch))) < 2.0


@pytest.mark.parametrize("ratio,size,expect", [("9/16", "", (136, 242)), ("1", "", (136, 136)),
                                               ("16/9", "320x180", (320, 180))])
def test_ratios_and_size(ffmpeg: Path, ffprobe: Path, clip3s: Path, tmp_path: Path, ratio: str, size: str,
                         expect: tuple[int, int]) -> None:
    out = tmp_path / "o.mp4"
    opt = f"salcrop=projection=equirect:ratio={ratio}:fov=90" + (f":size={size}" if size else "")
    run([ffmpeg, "-v", "error", "-y", "-t", "1", "-i", clip3s, "-vf", opt, "-an", out])
    assert size_of(ffprobe, out) == expect


@pytest.mark.parametrize("opts,says", [
    ("projection=equirect:fov=150", "fov: 150 is out of range"),
    ("projection=equirect:fov=20", "fov: 20 is out of range"),
    ("projection=equirect:stereo=lr", "stereo: 'lr' is not one of"),
    ("projection=sphere", "projection: 'sphere' is not one of"),
    ("projection=equirect:front=2", "front: "),
    ("stereo=tb", "needs projection=equirect"),
])
def test_bad_options_fail_clearly(ffmpeg: Path, clip3s: Path, tmp_path: Path, opts: str, says: str) -> None:
    out = tmp_path / "o.mp4"
    proc = run([ffmpeg, "-v", "error", "-y", "-t", "1", "-i", clip3s, "-vf", f"salcrop={opts}", out],
               expect_ok=False)
    assert proc.returncode != 0 and says in proc.stderr
    assert not out.exists() or out.stat().st_size < 1000


def test_flat_frames_are_refused_as_equirect(ffmpeg: Path, shared_videos: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.mp4"
    proc = run([ffmpeg, "-v", "error", "-y", "-t", "1", "-i", shared_videos / "testvideo.mp4", "-vf",
                "salcrop=projection=equirect", out], expect_ok=False)
    assert proc.returncode != 0 and "needs 2:1 equirectangular frames" in proc.stderr


def test_pitch_keyframe_beyond_the_limit_is_refused(ffmpeg: Path, clip3s: Path, tmp_path: Path) -> None:
    keys = tmp_path / "k.json"
    keys.write_text(json.dumps([{"t": 0.5, "yaw": 30, "pitch": 70}]))
    proc = run([ffmpeg, "-v", "error", "-y", "-t", "1", "-i", clip3s, "-vf",
                f"salcrop=projection=equirect:keyframes={keys}", tmp_path / "o.mp4"], expect_ok=False)
    assert proc.returncode != 0 and "beyond the limit" in proc.stderr


def test_keyframes_pin_yaw_across_the_seam(ffmpeg: Path, clip3s: Path, tmp_path: Path) -> None:
    keys, path = tmp_path / "k.json", tmp_path / "p.json"
    keys.write_text(json.dumps([{"frame": 10, "yaw": 170, "pitch": 10}, {"frame": 70, "yaw": -170, "pitch": 0}]))
    run([ffmpeg, "-v", "error", "-y", "-i", clip3s, "-vf",
         f"salcrop=projection=equirect:keyframes={keys}:path={path}", "-an", tmp_path / "o.mp4"])
    frames = json.loads(path.read_text())["frames"]
    assert abs(frames[10]["yaw"] - 170) < 0.3 and abs(frames[10]["pitch"] - 10) < 0.3
    assert abs(frames[70]["yaw"] + 170) < 0.3
    yaw = np.degrees(np.unwrap(np.radians([f["yaw"] for f in frames[10:71]])))
    # From 170 to -170 is 20 degrees to the right through the seam, not 340 to the left.
    assert abs((yaw[-1] - yaw[0]) - 20) < 1.0 and np.all(np.diff(yaw) > -0.5)


def test_top_bottom_stereo_uses_the_top_eye(ffmpeg: Path, clip3s: Path, tmp_path: Path) -> None:
    tb, mono_path, tb_path = tmp_path / "tb.mp4", tmp_path / "m.json", tmp_path / "t.json"
    # A top-bottom layout: the real clip on top, its mirror image below (another eye's picture).
    run([ffmpeg, "-v", "error", "-y", "-i", clip3s, "-filter_complex", "[0:v]split[a][b];[b]hflip[c];[a][c]vstack",
         "-an", "-c:v", "libx264", "-crf", "18", tb])
    run([ffmpeg, "-v", "error", "-y", "-i", tb, "-vf", f"salcrop=projection=equirect:stereo=tb:path={tb_path}",
         tmp_path / "o1.mp4"])
    proc = run([ffmpeg, "-v", "error", "-y", "-i", tb, "-vf", "salcrop=projection=equirect", tmp_path / "o2.mp4"],
               expect_ok=False)
    assert proc.returncode != 0 and "2:1" in proc.stderr  # 426x428 is no equirect frame without stereo=tb
    p = json.loads(tb_path.read_text())
    assert p["source"]["stereo"] == "tb" and len(p["frames"]) == 90


def test_rendered_view_looks_where_it_says(core) -> None:
    """An equirect picture whose red channel encodes yaw and green pitch: the view's centre shows its
    direction, its left and right edges are fov/2 away, and a view across the seam stays continuous."""
    W, H = 720, 360
    u = (np.arange(W) + 0.5) / W * 360 - 180
    v = 90 - (np.arange(H) + 0.5) / H * 180
    U, V = np.meshgrid(u, v)
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[..., 0] = np.round((U + 180) / 360 * 255)
    rgb[..., 1] = np.round((V + 90) / 180 * 255)
    for yaw, pitch in ((90.0, 0.0), (-45.0, 20.0), (0.0, -30.0)):
        view = core.render_equirect_view(rgb, yaw, pitch, 90.0, 161, 91)
        c = view[45, 80].astype(float)
        assert abs(c[0] / 255 * 360 - 180 - yaw) < 2.5
        assert abs(c[1] / 255 * 180 - 90 - pitch) < 2.5
    view = core.render_equirect_view(rgb, 0.0, 0.0, 90.0, 161, 91)
    left, right = view[45, 0, 0] / 255 * 360 - 180, view[45, 160, 0] / 255 * 360 - 180
    assert abs(left + 45) < 2.5 and abs(right - 45) < 2.5
    # Facing the seam: the left half shows yaw ~ +135..180, the right half -180..-135; the red channel jumps
    # at the seam only (the encoding wraps; the pixel on it blends both sides), everything else is smooth.
    seam = core.render_equirect_view(rgb, 180.0, 0.0, 90.0, 161, 91)[45, :, 0].astype(int)
    jumps = np.nonzero(np.abs(np.diff(seam)) > 20)[0]
    assert 1 <= len(jumps) <= 2 and jumps[-1] - jumps[0] <= 1 and abs(jumps[0] - 80) <= 1
    assert np.all(np.abs(np.delete(np.diff(seam), jumps)) <= 2)


def test_in_view_matches_the_rendered_geometry(core) -> None:
    g = core.view_geometry(3840, 1920, "16:9", 90.0)
    assert g["width"] == 1222 and abs(g["vfov"] - 58.72) < 0.01
    yaw = np.array([44.0, 46.0, 0.0, 0.0, 179.0], np.float32)
    pitch = np.array([0.0, 0.0, 29.0, 30.0, 0.0], np.float32)
    assert core.in_view(yaw, pitch, 0.0, 0.0, 90.0, g["vfov"]).tolist() == [True, False, True, False, False]
    with pytest.raises(ValueError, match="2:1"):
        core.view_geometry(1920, 1080, "16:9", 90.0)


def test_python_reframe_and_path_in_roundtrip(clip3s: Path, tmp_path: Path) -> None:
    from salcrop_filter import reframe
    from salcrop_filter.spherepath import SpherePath, load_path

    out = tmp_path / "py.mp4"
    path = reframe(clip3s, out, "16:9", projection="equirect", fov=90)
    assert isinstance(path, SpherePath) and len(path) == 90
    path.frames[45].yaw = 120.0  # a hand edit, rendered as given
    path.save(tmp_path / "edit.json")
    again = reframe(clip3s, tmp_path / "again.mp4", "16:9", path_in=tmp_path / "edit.json")
    assert isinstance(load_path(tmp_path / "edit.json"), SpherePath)
    assert again.frames[45].yaw == 120.0
    with av.open(str(tmp_path / "again.mp4")) as c:
        assert c.streams.video[0].frames == 90 and c.streams.video[0].width == path.output_size()[0]


def test_cli_projection_equirect(clip3s: Path, tmp_path: Path) -> None:
    from salcrop_filter.cli import main

    rc = main([str(clip3s), "-o", str(tmp_path / "c.mp4"), "--ratio", "1:1", "--projection", "equirect", "--fov",
               "100", "--path", str(tmp_path / "c.json"), "-q"])
    assert rc == 0
    p = json.loads((tmp_path / "c.json").read_text())
    assert p["output"]["fov"] == 100 and p["output"]["width"] == p["output"]["height"]
    assert main([str(clip3s), "-o", str(tmp_path / "d.mp4"), "--projection", "equirect", "--fov", "10", "-q"]) != 0


def test_view_follows_a_subject_moving_across_the_seam(tmp_path: Path, shared_videos: Path,
                                                      pano_videos: Path) -> None:
    """bikes.mp4 projected onto the sphere, its centre moving from yaw 110° through 180° to -110° over 8 s."""
    from salcrop_filter import reframe
    from salcrop_filter.evaluation.pano_synthetic import angular_errors, make_clip, wrong_way

    clip = tmp_path / "synth.mp4"
    truth = make_clip(shared_videos / "bikes.mp4", pano_videos / BATTLE, clip)
    path = reframe(clip, tmp_path / "o.mp4", "16:9", projection="equirect", fov=90)  # the default prior
    frames = [{"yaw": f.yaw, "pitch": f.pitch} for f in path.frames]
    err = angular_errors(frames, truth)
    # Issue 28's target: a median under 10° with the default prior (it yields to saliency that moves; measured
    # 8.0°; the multiplicative prior alone stayed at the front, 143.5°).
    assert np.median(err) < 10.0, f"median angular error {np.median(err):.1f} deg"
    assert np.median(err[len(err) // 4:]) < 10.0
    assert not wrong_way(frames, truth)
    # Turning with a subject that moves (~20° a second here) is a pan, never a cut (stop 36).
    assert path.view_cuts() == []


def test_ray_batch_renders_views(clip3s: Path, tmp_path: Path) -> None:
    """The Ray batch path: the same reframe on a worker, the view path coming back; split runs are refused."""
    import ray

    from salcrop_filter.cluster import reframe_many
    from salcrop_filter.pipeline import OptionError
    from salcrop_filter.spherepath import SpherePath

    with pytest.raises(OptionError, match="runs whole"):
        reframe_many([clip3s], tmp_path / "split", "16:9", split_shots=True, projection="equirect")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        res = reframe_many([clip3s], tmp_path / "out", "16:9", projection="equirect", fov=100)
    finally:
        ray.shutdown()
    assert len(res) == 1 and isinstance(res[0].path, SpherePath), res
    assert len(res[0].path.frames) == 90 and res[0].path.frames[0].fov == 100
    with av.open(str(tmp_path / "out" / clip3s.name)) as c:
        assert c.streams.video[0].frames == 90


def test_frames_without_spherical_side_data_stay_flat(clip3s: Path, pano_videos: Path, tmp_path: Path) -> None:
    """The clips carry no spherical metadata (SOURCES.md): reframe without projection crops them as flat video
    (the side data path itself is untested: neither FFmpeg 7.1's CLI nor PyAV can attach it to a new file)."""
    from salcrop_filter import reframe
    from salcrop_filter.croppath import CropPath
    from salcrop_filter.spherepath import spherical_layout

    with av.open(str(pano_videos / SMALL)) as c:
        assert spherical_layout(next(c.decode(video=0))) is None
    assert isinstance(reframe(clip3s, tmp_path / "flat.mp4", "9:16", audio=False), CropPath)


# --- issue 28: a front prior that yields, no oscillation, the vectorised renderer ---------------------------------

def _blob_map(h: int, w: int, yaw: float, pitch: float = 0.0, sigma: float = 12.0) -> np.ndarray:
    """A network-like map on the sphere grid: a Gaussian spot of `sigma` degrees at (yaw, pitch)."""
    lat = np.radians(90 - (np.arange(h) + 0.5) * 180 / h)[:, None]
    lon = np.radians((np.arange(w) + 0.5) * 360 / w - 180)[None, :]
    y, p = math.radians(yaw), math.radians(pitch)
    c = np.sin(lat) * math.sin(p) + np.cos(lat) * math.cos(p) * np.cos(lon - y)
    d = np.degrees(np.arccos(np.clip(c, -1, 1)))
    return np.exp(-0.5 * (d / sigma) ** 2).astype(np.float32)


def _plan(core, raw_maps: list[np.ndarray], front_weight: float | None = None, mode: str = "auto",
          motions: list[np.ndarray] | None = None) -> np.ndarray:
    """The core's prior (SphereSaliency's defaults unless a weight is given) and its planner, one shot, the yaw
    wrapped to (-180, 180] (the subjects here stay off the planning axis' ends at +-180). `motions`: per frame
    the motion map (what motion_map gives between two samples); none: a still."""
    kw = {} if front_weight is None else {"front_weight": front_weight}
    maps = np.stack([core.sphere_map(m, 0, motion=None if motions is None else motions[t], **kw)
                     for t, m in enumerate(raw_maps)])
    yaw, _ = core.plan_sphere(maps, 25.0, "16:9", 90.0, mode, 0.5, 3840, 1920)
    return (np.asarray(yaw) + 180) % 360 - 180


def test_front_prior_yields_to_a_strong_subject_and_rests_at_the_front(core) -> None:
    """Viewers start at the front and drift back when nothing happens; a strong, steady subject elsewhere wins
    with the default prior (the leave-one-scene-out fit: it leaves the front for a direction holding about 0.6
    more of the map than the front view). The subject (a spot of 12°) ends up inside the view with a margin; the
    prior's tail holds the view ~20° towards the front of it (measured 97.9° for 120°)."""
    h, w = 40, 160
    rng = np.random.default_rng(0)
    flat = 0.01 + 0.002 * rng.random((h, w), dtype=np.float32)  # nothing stands out
    for subject in (120.0, -120.0):
        yaw = _plan(core, [flat + _blob_map(h, w, subject) for _ in range(150)])  # 6 s of a subject
        assert np.all(np.abs(yaw[50:] - subject) < 45 - 12), yaw[::10]
    assert np.max(np.abs(_plan(core, [flat] * 150))) < 5
    # A weak spot at 120° (a tenth of the map's mass) does not pull the view off the front.
    assert np.max(np.abs(_plan(core, [20 * flat + _blob_map(h, w, 120.0) for _ in range(150)]))) < 5


def test_two_subjects_far_apart_do_not_make_the_view_oscillate(core) -> None:
    """The planner's choice between subjects (prior off: front_weight 0; a tracking shot planned whole): two
    subjects 180° apart whose strengths take turns every second (near-equal) for 16 s: the view picks one and
    stays; a shot where one subject leads for 6 s and then the other for 6 s: one switch, no return."""
    h, w = 40, 160
    a, b = _blob_map(h, w, -90.0), _blob_map(h, w, 90.0)
    maps = [0.01 + (0.55 if (t // 25) % 2 else 0.45) * a + (0.45 if (t // 25) % 2 else 0.55) * b for t in range(400)]
    yaw = _plan(core, maps, 0.0, "track")
    assert np.all(np.abs(np.abs(yaw) - 90) < 15), yaw[::25]
    assert len(np.nonzero(np.diff(np.sign(yaw)))[0]) == 0, "the view switched between near-equal subjects"
    maps = [0.01 + 0.9 * b + 0.1 * a] * 150 + [0.01 + 0.9 * a + 0.1 * b] * 150
    yaw = _plan(core, maps, 0.0, "track")
    assert len(np.nonzero(np.diff(np.sign(yaw)))[0]) == 1, yaw[::25]
    assert abs(yaw[0] - 90) < 15 and abs(yaw[-1] + 90) < 15, yaw[::25]
    assert np.count_nonzero(np.abs(np.abs(yaw) - 90) > 15) < 40  # the turn itself: about a second


def _moving(blob: np.ndarray) -> np.ndarray:
    """A motion map where the blob is (5% mean difference per cell, over the floor), still elsewhere."""
    return (0.05 * (blob > 0.3)).astype(np.float32)


def _sides(yaw: np.ndarray) -> int:
    """How often the view goes from one side (beyond 30° off the front) to the other."""
    s = np.sign(yaw[np.abs(yaw) > 30])
    return len(np.nonzero(np.diff(s))[0])


def test_prior_yields_to_a_subject_that_moves_not_to_one_that_stands_still(core) -> None:
    """Issue 28: the same subject at 120° (a sixth to two fifths of the map) leaves the view at the front while
    it stands still (a still: the stills' leave-one-scene-out prior) and pulls the view to it when it moves;
    motion everywhere alike (a moving camera) adds nothing."""
    h, w = 40, 160
    rng = np.random.default_rng(0)
    flat = 0.01 + 0.002 * rng.random((h, w), dtype=np.float32)
    shake = np.full((h, w), 0.05, np.float32)
    for strength in (3.0, 5.0, 10.0):
        blob = _blob_map(h, w, 120.0)
        maps = [20 * flat + strength * blob] * 150
        assert np.max(np.abs(_plan(core, maps))) < 5
        assert np.max(np.abs(_plan(core, maps, motions=[shake] * 150))) < 5
        yaw = _plan(core, maps, motions=[_moving(blob)] * 150)
        assert np.all(np.abs(yaw[25:] - 120) < 45 - 12), yaw[::10]  # the subject inside the view


def test_a_still_plans_as_without_the_motion_term(core) -> None:
    """No motion (a shot's first sample, a still) or motion under the floor: the sphere map is the prior's blend
    alone, so the stills' leave-one-scene-out fit is what the product runs."""
    rng = np.random.default_rng(1)
    raw = rng.random((40, 160), dtype=np.float32)
    alone = core.sphere_map(raw, 0)
    np.testing.assert_allclose(core.sphere_map(raw, 0, motion=np.full((40, 160), 0.005, np.float32)), alone,
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(core.sphere_map(raw, 0, motion_weight=0.0,
                                                  motion=np.full((40, 160), 0.5, np.float32)), alone)


def test_two_moving_subjects_whose_strengths_swap_do_not_make_the_view_oscillate(core) -> None:
    """Two moving subjects 100° either side of the front with the default prior: strengths near-equal, taking
    turns every second for 16 s: the view picks one and stays (the planner's hold); one leading for 6 s and
    then the other (or only one moving at a time): one switch, no return."""
    h, w = 40, 160
    rng = np.random.default_rng(0)
    flat = 0.01 + 0.002 * rng.random((h, w), dtype=np.float32)
    a, b = _blob_map(h, w, -100.0), _blob_map(h, w, 100.0)
    both = _moving(a) + _moving(b)
    maps = [20 * flat + 6 * (1.1 if (t // 25) % 2 else 0.9) * a + 6 * (0.9 if (t // 25) % 2 else 1.1) * b
            for t in range(400)]
    for mode in ("auto", "track"):
        yaw = _plan(core, maps, mode=mode, motions=[both] * 400)
        assert np.all(np.abs(np.abs(yaw) - 100) < 35), yaw[::25]  # on one of them, all along
        assert _sides(yaw) == 0, yaw[::25]
    maps = [20 * flat + 10.8 * b + 1.2 * a] * 150 + [20 * flat + 10.8 * a + 1.2 * b] * 150
    for motions in ([both] * 300, [_moving(b)] * 150 + [_moving(a)] * 150):
        yaw = _plan(core, maps, motions=motions)
        assert _sides(yaw) == 1, yaw[::25]
        assert abs(yaw[0] - 100) < 35 and abs(yaw[-1] + 100) < 35, yaw[::25]
        assert np.count_nonzero(np.abs(np.abs(yaw) - 100) > 35) < 40  # the turn itself: about a second


def test_motion_map_measures_the_moving_cells_of_the_sphere(core) -> None:
    """motion_map: two seam-padded inputs that differ in one patch give motion there and nowhere else; the
    padding (a copy of the other side) is not counted twice."""
    mh, mw = 28, 50
    map_pad, in_pad, core_map, core_in = core.seam_padding(400, mw)
    a = np.full((3, 224, 400), 100, np.uint8)
    b = a.copy()
    x0 = in_pad + core_in // 2
    b[:, 100:124, x0:x0 + 16] = 160
    m = core.motion_map(a, b, map_pad, mh, core_map)
    assert m.shape == (mh, core_map)
    r, c = np.unravel_index(np.argmax(m), m.shape)
    assert abs(r - 100 * mh / 224) < 2 and abs(c - core_map / 2) < 2
    assert np.count_nonzero(m) <= 12 and m.max() > 0.1
    assert np.all(core.motion_map(a, a, map_pad, mh, core_map) == 0)


def _real_frame(path: Path, width: int, height: int) -> np.ndarray:
    with av.open(str(path)) as c:
        for k, f in enumerate(c.decode(video=0)):
            if k == 40:
                return f.reformat(width=width, height=height, format="gray").to_ndarray()
    raise AssertionError("short clip")


def test_vectorised_renderer_equals_the_plain_loop_on_real_frames(core, pano_videos: Path) -> None:
    """The AVX2 sampling loop against the plain one (the renderer before issue 28) on real equirect frames at the
    benchmark's size (a 3840x1920 luma plane, its 1920x960 chroma size) and a small one, views across the seam and
    at the pitch limit: within rounding (max abs difference <= 1; it is designed to be bit-identical)."""
    for plane, (ow, oh) in ((_real_frame(pano_videos / BATTLE, 3840, 1920), (1920, 1080)),
                            (_real_frame(pano_videos / BATTLE, 1920, 960), (960, 540)),
                            (_real_frame(pano_videos / SMALL, 426, 214), (136, 76))):
        for yaw, pitch in ((0.0, 0.0), (179.5, 3.0), (-150.0, 39.0), (73.3, -39.0), (180.0, -12.5)):
            fast = core.render_equirect_plane(plane, yaw, pitch, 90.0, ow, oh)
            plain = core.render_equirect_plane(plane, yaw, pitch, 90.0, ow, oh, simd=False)
            diff = np.abs(fast.astype(int) - plain.astype(int))
            assert diff.max() <= 1, (plane.shape, yaw, pitch, int(diff.max()))
            assert fast.std() > 5  # a picture, not a blank


def test_filter_output_is_the_same_with_and_without_the_vectorised_loop(ffmpeg: Path, clip3s: Path,
                                                                        tmp_path: Path) -> None:
    """The real filter on a real clip, SALCROP_RENDER_SIMD=0 (the plain loop) against the default: the same frames."""
    import os

    outs = []
    for simd in ("1", "0"):
        out = tmp_path / f"v{simd}.yuv"
        proc = subprocess.run([str(ffmpeg), "-v", "error", "-y", "-i", str(clip3s), "-vf",
                               "salcrop=projection=equirect:ratio=16/9:fov=100:size=320x180", "-an", "-f", "rawvideo",
                               "-pix_fmt", "yuv420p", str(out)], capture_output=True, text=True, timeout=600,
                              env={**os.environ, "SALCROP_RENDER_SIMD": simd})
        assert proc.returncode == 0, proc.stderr[-2000:]
        outs.append(np.fromfile(out, np.uint8))
    assert outs[0].size == 90 * 320 * 180 * 3 // 2
    assert np.abs(outs[0].astype(int) - outs[1].astype(int)).max() <= 1


# Issue 28 (stop 32): the renderer's row pre-pass, the nodes kept while the view holds still, V rendered with U's
# renderer. The claim is bit-identical output to the plain loop (the renderer before issue 28, kept as the
# reference), so the tolerance is 0: the engine's path (render_view over a sequence of views on kept renderers)
# against a fresh renderer and the plain loop for every plane and view.

# Views: the same view twice (nodes reused), across the seam both ways, beyond the 16:9 pitch limit into the
# clamped top and bottom rows, a turn in pitch alone and in yaw alone, and back to the first after others (the
# kept nodes must follow the view).
_RENDER_VIEWS = [(0.0, 0.0), (0.0, 0.0), (179.9, 3.0), (-179.99, -20.0), (35.0, 60.0), (35.0, 60.0),
                 (35.0, -10.0), (-120.0, -75.0), (90.0, 88.0), (0.0, 0.0), (12.345, -7.5), (-12.345, -7.5)]


def _assert_engine_render_is_the_reference(core, y: np.ndarray, u: np.ndarray, v: np.ndarray,
                                           sizes: tuple[tuple[int, int], ...]) -> None:
    for ow, oh in sizes:
        out = core.render_equirect_yuv420(y, u, v, _RENDER_VIEWS, 90.0, ow, oh)
        for k, (yaw, pitch) in enumerate(_RENDER_VIEWS):
            for plane, got, (w, h) in ((y, out[0][k], (ow, oh)), (u, out[1][k], (ow // 2, oh // 2)),
                                       (v, out[2][k], (ow // 2, oh // 2))):
                ref = core.render_equirect_plane(plane, yaw, pitch, 90.0, w, h, simd=False)
                diff = np.abs(got.astype(int) - ref.astype(int))
                assert diff.max() == 0, (plane.shape, (ow, oh), yaw, pitch, int(diff.max()), int((diff > 0).sum()))
        assert out[0].std() > 5  # pictures, not blanks


def test_engine_render_equals_the_plain_loop_on_a_synthetic_frame(core) -> None:
    """A synthetic 3840x1920 yuv420p frame (noise over gradients: every sample differs from its neighbours), the
    benchmark's 1920x1080 view (the source magnified: the shuffle paths) and a 320x180 one (shrunk: the gathers):
    bit-identical to the reference. Runs without ../shared."""
    rng = np.random.default_rng(28)
    yy, xx = np.mgrid[0:1920, 0:3840]
    y = ((xx * 255 // 3839 + yy * 97 // 1919) // 2 + rng.integers(0, 96, (1920, 3840))).astype(np.uint8)
    u = rng.integers(0, 256, (960, 1920), dtype=np.uint8)
    v = np.ascontiguousarray(u[::-1, ::-1] // 2 + 40)
    _assert_engine_render_is_the_reference(core, y, u, v, ((1920, 1080), (320, 180)))


def test_engine_render_equals_the_plain_loop_on_a_real_frame(core, pano_videos: Path) -> None:
    """The battle clip's frame 40 at the benchmark's 3840x1920 yuv420p, the same views: bit-identical."""
    with av.open(str(pano_videos / BATTLE)) as c:
        for k, f in enumerate(c.decode(video=0)):
            if k == 40:
                planes = f.reformat(width=3840, height=1920, format="yuv420p").to_ndarray()
                break
    y = np.ascontiguousarray(planes[:1920])
    # PyAV stacks yuv420p as (H * 3 / 2, W): U's and V's rows come in pairs of half rows.
    u = np.ascontiguousarray(planes[1920:2400].reshape(960, 1920))
    v = np.ascontiguousarray(planes[2400:].reshape(960, 1920))
    _assert_engine_render_is_the_reference(core, y, u, v, ((1920, 1080),))


# Faces on the sphere (issue 28, stop 31, round 2): YuNet on perspective views of the equirect picture, the
# detections' directions as mass added to the sphere map.

def test_view_point_direction_inverts_the_renderer(core) -> None:
    """A bright dot at a known direction, rendered into views around it (one across the seam, one looking down):
    the pixel where it lands maps back to its direction."""
    W, H = 1440, 720
    for dot_yaw, dot_pitch, view_yaw, view_pitch in ((150.0, 20.0, 140.0, 10.0), (178.0, 0.0, -170.0, 0.0),
                                                     (-60.0, -50.0, -45.0, -45.0)):
        rgb = np.zeros((H, W, 3), np.uint8)
        u = (dot_yaw + 180) / 360 * W - 0.5
        v = (90 - dot_pitch) / 180 * H - 0.5
        yy, xx = np.mgrid[0:H, 0:W]
        rgb[(np.abs(yy - v) <= 1.5) & (np.minimum(np.abs(xx - u), W - np.abs(xx - u)) <= 1.5 / max(
            0.2, math.cos(math.radians(dot_pitch))))] = 255
        view = core.render_equirect_view(rgb, view_yaw, view_pitch, 75.0, 640, 480).astype(float)[..., 0]
        ys, xs = np.nonzero(view > 60)
        wgt = view[ys, xs]
        px, py = float(np.sum((xs + 0.5) * wgt) / wgt.sum()), float(np.sum((ys + 0.5) * wgt) / wgt.sum())
        yaw, pitch = core.view_point_direction(px, py, 640, 480, 75.0, view_yaw, view_pitch)
        assert abs((yaw - dot_yaw + 180) % 360 - 180) < 1.0 and abs(pitch - dot_pitch) < 1.0, (yaw, pitch)


def carphone_face(det, shared_videos: Path) -> tuple[np.ndarray, float]:
    """The driver's face of carphone's first frame with a margin of 0.6 of its width around the detector's box, and
    that box's width."""
    with av.open(str(shared_videos / "carphone_pristine.mp4")) as c:
        frame = next(iter(c.decode(video=0))).to_ndarray(format="rgb24")
    x, y, w, h, _ = det.detect(frame)[0]
    pad = int(0.6 * w)
    return frame[max(0, int(y) - pad): int(y + h) + pad, max(0, int(x) - pad): int(x + w) + pad], w


def test_a_real_face_is_found_on_the_sphere_across_the_seam(core, shared_videos: Path) -> None:
    """carphone's driver pasted onto a grey equirect picture twice: across the seam (yaw 180, pitch 10) and at
    yaw 90, pitch -25 (a seated person, where two of the six views meet): both are found once each, at their
    directions, as faces several degrees wide; a picture without a face has none."""
    det = core.FaceDetector()
    face, w = carphone_face(det, shared_videos)
    fh, fw = face.shape[:2]
    W, H = 1920, 960
    eq = np.full((H, W, 3), 90, np.uint8)
    cols = (np.arange(fw) - fw // 2) % W                        # centred on column 0: yaw -180 = 180
    r0 = int((90 - 10) / 180 * H) - fh // 2
    eq[r0:r0 + fh][:, cols] = face
    c0, r1 = int((90 + 180) / 360 * W) - fw // 2, int((90 + 25) / 180 * H) - fh // 2
    eq[r1:r1 + fh, c0:c0 + fw] = face
    found = core.faces_on_sphere(det, eq)
    assert len(found) == 2, found
    at_seam = [f for f in found if abs(abs(f[0]) - 180) < 5 and abs(f[1] - 10) < 5]
    below = [f for f in found if abs(f[0] - 90) < 5 and abs(f[1] + 25) < 5]
    assert len(at_seam) == 1 and len(below) == 1, found
    assert all(2.0 < f[2] < 20.0 and 0.6 <= f[3] <= 1.0 for f in found)
    assert core.faces_on_sphere(det, np.full((H, W, 3), 90, np.uint8)) == []
    with pytest.raises(ValueError):
        core.faces_on_sphere(det, np.full((144, 176, 3), 90, np.uint8))  # carphone's size: not 2:1


def test_a_near_face_pulls_the_view_a_far_one_does_not(core) -> None:
    """A still whose map has nothing standing out: a face 9° wide at yaw 120 (a person near the camera) takes the
    view there with the default face weight; a face 2° wide (a crowd's) is not counted (no face map); without
    faces the map is the one without the term."""
    h, w = 40, 160
    rng = np.random.default_rng(0)
    raw = 0.01 + 0.002 * rng.random((h, w), dtype=np.float32)

    def plan(faces: list) -> float:
        fm = core.face_sphere_map(faces, h, w)
        sm = core.sphere_map(raw, 0, faces=fm)
        yaw, _ = core.plan_sphere(np.stack([sm] * 50), 25.0, "16:9", 90.0, "auto", 0.5, 3840, 1920)
        return float((np.asarray(yaw)[-1] + 180) % 360 - 180)

    near = plan([(120.0, 5.0, 9.0, 0.8)])
    assert abs(near - 120.0) < 30, near
    assert core.face_sphere_map([(120.0, 5.0, 2.0, 0.9)], h, w) is None
    assert abs(plan([])) < 5
    fm = core.face_sphere_map([(120.0, 5.0, 9.0, 0.8), (-60.0, -20.0, 9.0, 0.7)], h, w)
    assert abs(float(fm.sum()) - 1.0) < 1e-4
    np.testing.assert_allclose(fm[:, :w // 2].sum(), 0.5, atol=0.01)  # two faces, the same mass each
    np.testing.assert_array_equal(core.sphere_map(raw, 0, faces=fm, face_weight=0.0), core.sphere_map(raw, 0))


def face_on_battle(core, shared_videos: Path, pano_videos: Path, path: Path, width_deg: float, frames: int,
                   face_frames: range) -> Path:
    """A still equirect clip of `frames` frames at 25 fps (battle's first frame, 1280x640) with carphone's driver
    pasted at yaw 120, pitch 0, about `width_deg` wide, on the frames in `face_frames` only."""
    from PIL import Image

    det = core.FaceDetector()
    face, w = carphone_face(det, shared_videos)
    with av.open(str(pano_videos / BATTLE)) as c:
        bg = next(iter(c.decode(video=0))).to_ndarray(format="rgb24")
    W, H = 1280, 640
    eq = np.asarray(Image.fromarray(bg).resize((W, H))).copy()
    scale = (width_deg / 360 * W) / w
    fh, fw = int(face.shape[0] * scale), int(face.shape[1] * scale)
    face = np.asarray(Image.fromarray(face).resize((fw, fh)))
    c0, r0 = int((120 + 180) / 360 * W) - fw // 2, H // 2 - fh // 2
    with_face = eq.copy()
    with_face[r0:r0 + fh, c0:c0 + fw] = face
    with av.open(str(path), "w") as out:
        st = out.add_stream("libx264", rate=25)
        st.width, st.height, st.pix_fmt = W, H, "yuv420p"
        for k in range(frames):
            pic = with_face if k in face_frames else eq
            for pkt in st.encode(av.VideoFrame.from_ndarray(pic, format="rgb24")):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)
    return path


def wrapped_yaws(path) -> np.ndarray:
    return np.array([(f.yaw + 180) % 360 - 180 for f in path.frames])


def test_a_near_face_turns_the_360_view_by_default(core, tmp_path: Path, shared_videos: Path,
                                                   pano_videos: Path) -> None:
    """The engine's face term, on by default for a 360° view (issue 28, stop 35): a still equirect clip with a face
    about 10° wide at yaw 120 (a person near the camera): with speakers=off the view stays near the front (the
    prior: a still subject); without the option it turns to the face once two detections have found it. Frames
    kept."""
    from salcrop_filter import reframe

    clip = face_on_battle(core, shared_videos, pano_videos, tmp_path / "face360.mp4", 10.0, 100, range(100))
    plain = reframe(clip, tmp_path / "a.mp4", "16:9", projection="equirect", fov=90, speakers="off")
    faced = reframe(clip, tmp_path / "b.mp4", "16:9", projection="equirect", fov=90)
    assert len(plain.frames) == len(faced.frames) == 100
    yaw_plain, yaw_faced = wrapped_yaws(plain), wrapped_yaws(faced)
    assert np.max(np.abs(yaw_plain)) < 45, yaw_plain[::10]
    assert np.all(np.abs(yaw_faced[60:] - 120) < 30), yaw_faced[::10]


def test_a_far_turn_of_the_360_view_is_a_cut_not_a_sweep(core, tmp_path: Path, shared_videos: Path,
                                                         pano_videos: Path) -> None:
    """Issue 28, stop 36: the view turning ~100° to a face that comes in at 3 s (the build before planned a 1.3 s
    whip round from 6.2 s: more than half the view's width within a second) is an editor's cut. The path has one
    segment of mode `cut`; on every other frame the yaw moves by under 5° (nothing sweeps past); after the cut the
    view is on the face."""
    from salcrop_filter import reframe

    clip = face_on_battle(core, shared_videos, pano_videos, tmp_path / "face360.mp4", 10.0, 200, range(75, 200))
    path = reframe(clip, tmp_path / "b.mp4", "16:9", projection="equirect", fov=90)
    cuts = path.view_cuts()
    assert len(cuts) == 1, path.shots
    yaw = np.degrees(np.unwrap(np.radians([f.yaw for f in path.frames])))
    steps = np.abs(np.diff(yaw))
    assert steps[cuts[0] - 1] > 45, (cuts, yaw[::5])
    assert np.delete(steps, cuts[0] - 1).max() < 5, (cuts, yaw[::5])
    assert np.all(np.abs(wrapped_yaws(path)[cuts[0]:] - 120) < 30), yaw[::5]


def test_reframer_lets_faces_pull_a_360_view_by_default_as_reframe_does(core, tmp_path: Path, shared_videos: Path,
                                                                         pano_videos: Path) -> None:
    """Reframer with projection=equirect and no `speakers` plans what reframe() plans for the same clip (faces on
    the sphere, pipeline.default_speakers): the same yaw on every frame, turned to the face."""
    from salcrop_filter import Reframer, reframe

    clip = face_on_battle(core, shared_videos, pano_videos, tmp_path / "face360.mp4", 10.0, 100, range(100))
    whole = reframe(clip, tmp_path / "a.mp4", "16:9", projection="equirect", fov=90)
    r = Reframer("16:9", fps=25, projection="equirect", fov=90)
    with av.open(str(clip)) as c:
        for frame in c.decode(video=0):
            r.push(frame)
    r.audio_end()
    r.flush()
    np.testing.assert_allclose(wrapped_yaws(r.path), wrapped_yaws(whole), atol=1e-6)
    assert np.all(np.abs(wrapped_yaws(r.path)[60:] - 120) < 30)


def test_the_filter_lets_faces_pull_a_360_view_by_default(ffmpeg: Path, core, tmp_path: Path, shared_videos: Path,
                                                           pano_videos: Path) -> None:
    """The filter decides the default as reframe() does (vf_salcrop.c): projection=equirect without `speakers`
    plans exactly speakers=auto's path (faces on the sphere), which on a face 10° wide at yaw 120 is not off's."""
    clip = face_on_battle(core, shared_videos, pano_videos, tmp_path / "face360.mp4", 10.0, 100, range(100))
    paths = {}
    for name, extra in (("default", ""), ("auto", ":speakers=auto"), ("off", ":speakers=off")):
        paths[name] = tmp_path / f"{name}.json"
        run([ffmpeg, "-v", "error", "-i", clip, "-vf",
             f"salcrop=projection=equirect:ratio=16/9:fov=90{extra}:path={paths[name]}", "-f", "null", "-"])
    assert paths["default"].read_bytes() == paths["auto"].read_bytes()
    yaws = {k: np.array([f["yaw"] for f in json.loads(p.read_text())["frames"]]) for k, p in paths.items()}
    assert np.all(np.abs((yaws["default"][60:] + 180) % 360 - 180 - 120) < 30), yaws["default"][::10]
    assert np.max(np.abs((yaws["off"] + 180) % 360 - 180)) < 45, yaws["off"][::10]


def test_a_face_found_once_or_too_near_the_lens_does_not_move_the_360_view(core, tmp_path: Path,
                                                                           shared_videos: Path,
                                                                           pano_videos: Path) -> None:
    """What the face term ignores (stop 35), through the engine with the default options: a face on the screen
    for under a second, so that one detection at most finds it (a passer-by, a false positive), and a face 20°
    wide (a head within about half a metre: the person holding the camera) leave the view exactly where
    speakers=off puts it."""
    from salcrop_filter import reframe

    for name, width, on in (("once", 10.0, range(20, 40)), ("operator", 20.0, range(100))):
        clip = face_on_battle(core, shared_videos, pano_videos, tmp_path / f"{name}.mp4", width, 100, on)
        plain = reframe(clip, tmp_path / f"{name}-off.mp4", "16:9", projection="equirect", fov=90, speakers="off")
        faced = reframe(clip, tmp_path / f"{name}-auto.mp4", "16:9", projection="equirect", fov=90)
        np.testing.assert_array_equal(wrapped_yaws(faced), wrapped_yaws(plain), err_msg=name)
    det = core.FaceDetector()
    with av.open(str(tmp_path / "operator.mp4")) as c:
        found = core.faces_on_sphere(det, next(iter(c.decode(video=0))).to_ndarray(format="rgb24"))
    assert any(abs(f[0] - 120) < 10 and f[2] > 15 for f in found), found  # found, and too wide to count
