"""The `salcrop` command line, run as a user runs it (a real process, real clips, real core and model)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from salcrop_filter import CropPath



@pytest.fixture(scope="session")
def videos(shared_videos: Path) -> Path:
    """The real clips (tests/conftest.py)."""
    return shared_videos


def salcrop(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "salcrop_filter", *map(str, args)],
                          capture_output=True, text=True, timeout=900)


def frames_of(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def assert_user_error(r: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert r.returncode == code, r.stderr
    assert "Traceback" not in r.stderr
    assert "salcrop: error:" in r.stderr
    for w in words:
        assert w in r.stderr, r.stderr


def test_single_file_with_every_extra_output(videos: Path, tmp_path: Path) -> None:
    src = videos / "chaplin.mp4"  # 640x360, 241 frames, MP3 audio
    out, pj, prev, png = tmp_path / "out.mp4", tmp_path / "p.json", tmp_path / "preview.mp4", tmp_path / "path.png"
    r = salcrop(src, "-o", out, "--ratio", "9:16", "--path", pj, "--preview", prev, "--plot", png)
    assert r.returncode == 0, r.stderr
    # progress on stderr: a bar with frames/s and ETA, then a summary
    assert "fps ETA" in r.stderr and "241 frames in" in r.stderr

    path = CropPath.load(pj)
    # and the core's line on what the camera did (the filter logs the same at the end)
    shots = len({f.shot for f in path.frames})
    assert f"salcrop: chaplin.mp4: 9:16: 241 frames in {shots} shot" in r.stderr, r.stderr[-1000:]
    w, h = path.output_size()
    assert (w, h) == (202, 360)
    got = frames_of(out)
    assert len(got) == len(path.frames) == 241 and got[0].shape == (h, w, 3)
    with av.open(str(out)) as c:
        assert len(c.streams.audio) == 1

    # preview: source (640 wide) | gutter | result scaled to 360 high; same frame count; a real picture
    pv = frames_of(prev)
    assert len(pv) == 241
    assert pv[0].shape[0] == 360 and 640 + w < pv[0].shape[1] <= 640 + 16 + w
    assert pv[100].std() > 20
    # the left half is the source with drawings on it, not the bare source
    with av.open(str(src)) as c:
        src100 = [f for i, f in zip(range(101), c.decode(video=0))][-1].to_ndarray(format="rgb24")
    assert np.abs(pv[100][:, :640].astype(int) - src100).mean() > 2

    import matplotlib.image

    img = matplotlib.image.imread(str(png))
    assert img.shape[0] >= 400 and img.shape[1] >= 800
    assert img[..., :3].std() > 0.05


def test_several_inputs_into_a_folder(videos: Path, tmp_path: Path) -> None:
    outdir = tmp_path / "vertical"
    r = salcrop(videos / "carphone_pristine.mp4", videos / "bikes.mp4", "-o", f"{outdir}/", "--ratio", "4:5",
                "--path", f"{tmp_path / 'paths'}/", "-q")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # --quiet
    assert sorted(p.name for p in outdir.iterdir()) == ["bikes.mp4", "carphone_pristine.mp4"]
    for name, count, height in (("bikes", 250, 272), ("carphone_pristine", 120, 144)):
        frames = frames_of(outdir / f"{name}.mp4")
        assert len(frames) == count and frames[0].shape[0] == height
        path = CropPath.load(tmp_path / "paths" / f"{name}.json")
        assert len(path.frames) == count and path.ratio.replace("/", ":") == "4:5"


def test_path_in_renders_the_edited_path_exactly(videos: Path, tmp_path: Path) -> None:
    src = videos / "bikes.mp4"
    r = salcrop(src, "-o", tmp_path / "a.mp4", "--path", tmp_path / "p.json", "-q")
    assert r.returncode == 0, r.stderr
    d = json.loads((tmp_path / "p.json").read_text())
    for f in d["frames"]:  # pin the window to the right edge, as a person editing the file might
        f["x"] = 640 - f["w"]
    (tmp_path / "edited.json").write_text(json.dumps(d))
    r = salcrop(src, "-o", tmp_path / "b.mp4", "--path-in", tmp_path / "edited.json", "--path", tmp_path / "b.json", "-q")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "b.json").read_text())["frames"] == d["frames"]
    got = frames_of(tmp_path / "b.mp4")
    with av.open(str(src)) as c:
        want = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    w = d["frames"][0]["w"]
    for i in (0, 60, 125, 249):
        diff = np.abs(got[i].astype(int) - want[i][:, 640 - w :].astype(int)).mean()
        assert diff < 4, f"frame {i}: mean difference {diff}"


def test_missing_input_is_a_usage_error(tmp_path: Path) -> None:
    r = salcrop(tmp_path / "nope.mp4", "-o", tmp_path / "o.mp4")
    assert_user_error(r, 2, "nope.mp4", "no such file")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, words", [
    (["--mode", "diagonal"], ["--mode", "diagonal"]),
    (["--stride", "many"], ["--stride"]),
    (["--ratio", "tall"], ["ratio"]),
    (["--stride", "0"], ["stride"]),
])
def test_bad_option_is_a_usage_error(videos: Path, tmp_path: Path, args: list[str], words: list[str]) -> None:
    r = salcrop(videos / "carphone_pristine.mp4", "-o", tmp_path / "o.mp4", *args)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    for w in words:
        assert w in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_keyframes_file_reaches_the_planner(videos: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys" / "k.json"
    keys.parent.mkdir()
    keys.write_text('[{"frame": 5, "x": 20, "y": 72}]')  # the window's centre at the left edge of a 176 px frame
    r = salcrop(videos / "carphone_pristine.mp4", "-o", tmp_path / "o.mp4", "--ratio", "1:2", "--keyframes", keys,
                "--path", tmp_path / "p.json", "-q")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "p.json").read_text())["frames"][5]["x"] == 0
    keys.write_text('[{"frame": 5, "x": 20}]')
    r = salcrop(videos / "carphone_pristine.mp4", "-o", tmp_path / "o2.mp4", "--keyframes", keys)
    assert r.returncode == 2 and "keyframe 0" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "o2.mp4").exists()


def test_corrupt_input_fails_cleanly(videos: Path, tmp_path: Path) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes((videos / "bikes.mp4").read_bytes()[:3000])  # a truncated file: header, no frames
    outdir = tmp_path / "out"
    r = salcrop(bad, videos / "carphone_pristine.mp4", "-o", f"{outdir}/", "-q")
    assert_user_error(r, 1, "broken.mp4", "1 of 2 input(s) failed")
    # the good input is still done; nothing partial of the broken one
    assert sorted(p.name for p in outdir.iterdir()) == ["carphone_pristine.mp4"]


def test_bad_path_in_is_a_usage_error(videos: Path, tmp_path: Path) -> None:
    (tmp_path / "e.json").write_text('{"version": 1, "source": {"width": 176}}')
    r = salcrop(videos / "carphone_pristine.mp4", "-o", tmp_path / "o.mp4", "--path-in", tmp_path / "e.json")
    assert_user_error(r, 2, "e.json", "lacks")
    assert not (tmp_path / "o.mp4").exists()


def test_help_and_module_entry_point() -> None:
    r = salcrop("--help")
    assert r.returncode == 0
    for opt in ("--ratio", "--model", "--device", "--mode", "--stride", "--lookahead", "--scene-threshold",
                "--smoothing", "--pad", "--threads", "--path", "--path-in", "--preview", "--plot"):
        assert opt in r.stdout


# --- one command: subcommands, and no output replaced without -y


def test_an_existing_output_is_kept_unless_y(real_clip, tmp_path: Path) -> None:
    src = real_clip("carphone_pristine.mp4")
    out, pj = tmp_path / "out.mp4", tmp_path / "p.json"
    out.write_bytes(b"the user's own file")
    r = salcrop(src, "-o", out, "--path", pj)
    assert_user_error(r, 2, str(out), "exists", "-y")
    assert out.read_bytes() == b"the user's own file" and not pj.exists()
    r = salcrop("reframe", src, "-o", out, "--path", pj, "-y", "-q")  # the explicit name of the default command
    assert r.returncode == 0, r.stderr
    with av.open(str(out)) as c:
        assert c.streams.video[0].frames > 0
    # The extras count as outputs too: the path JSON now exists, so a rerun without -y is refused again.
    out.unlink()
    assert_user_error(salcrop(src, "-o", out, "--path", pj), 2, str(pj), "exists")
    assert not out.exists()


def test_overwrite_is_the_same_flag_with_and_without_ray(real_clip, tmp_path: Path) -> None:
    """--overwrite is -y's long name: accepted without --ray (it used to be refused), listed once in --help."""
    src = real_clip("carphone_pristine.mp4")
    out = tmp_path / "o.mp4"
    out.write_bytes(b"x")
    r = salcrop(src, "-o", out, "--overwrite", "-q")
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 1000
    help_text = salcrop("--help").stdout
    assert "-y, --overwrite" in help_text and help_text.count("--overwrite") == 1


def test_ray_batch_refuses_an_existing_file_it_did_not_write(real_clip, tmp_path: Path) -> None:
    pytest.importorskip("ray")
    from salcrop_filter.cluster import reframe_many

    dst = tmp_path / "out" / "clip.mp4"
    dst.parent.mkdir()
    dst.write_bytes(b"someone else's")
    [res] = reframe_many([real_clip("carphone_pristine.mp4")], [dst], "9:16")
    assert not res.ok and "exists" in res.error and "overwrite" in res.error, res
    assert dst.read_bytes() == b"someone else's"


def test_every_subcommand_has_help_with_an_example() -> None:
    from salcrop_filter.commands import SUBCOMMANDS

    main_help = salcrop("--help")
    assert main_help.returncode == 0 and "examples:" in main_help.stdout
    for name in SUBCOMMANDS:
        assert f"  {name} " in main_help.stdout, name
        r = salcrop(name, "--help")
        assert r.returncode == 0, (name, r.stderr)
        # reframing is the default command: its name is optional, in the usage line and in its examples
        usage, example = ("salcrop [reframe]", r"salcrop \S+\.mp4") if name == "reframe" else (
            f"salcrop {name}", rf"salcrop {re.escape(name)}\b")
        assert f"usage: {usage}" in r.stdout and "example" in r.stdout, (name, r.stdout)
        assert re.search(rf"^\s+{example}", r.stdout, re.M), (name, r.stdout)  # a real command line of it


@pytest.mark.parametrize("module", ["split", "export", "quantize", "train", "evaluate_saliency", "crop_eval"])
def test_the_python_m_entry_points_stay_as_aliases(module: str) -> None:
    r = subprocess.run([sys.executable, "-m", f"salcrop_filter.{module}", "--help"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0 and "usage: salcrop " in r.stdout, r.stderr


def test_a_subcommand_whose_extra_is_missing_names_the_extra(tmp_path: Path) -> None:
    """A stand-in for a wheel without the train extra: torch made unimportable for that one process."""
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("raise ImportError('No module named torch', name='torch')\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    r = subprocess.run([sys.executable, "-m", "salcrop_filter", "export", "--help"], capture_output=True, text=True,
                       timeout=300, env=env)
    assert r.returncode == 1 and "pip install 'salcrop_filter[train]'" in r.stderr, r.stderr
