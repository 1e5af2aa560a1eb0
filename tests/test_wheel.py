"""The published form: scripts/build_wheel.sh's manylinux wheel, installed into a fresh virtualenv from PyPI.

The venv has none of the repository: no build/ (so neither our FFmpeg nor libsalcrop.so), no .venv, PyPI's PyAV
(no salcrop filter inside), PyPI's onnxruntime; the package finds libonnxruntime inside that wheel and the Clp
libraries auditwheel put inside its own. There it reframes a real clip from the command line, with reframe(), with
Reframer in a PyAV loop and for several ratios at once. The venv is cached by the wheel's sha256 (it holds only
what pip installed from that wheel); the wheel by the hash of its inputs (build_wheel.sh).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO

CACHE = Path(os.environ.get("SALCROP_CACHE", Path.home() / ".cache" / "salcrop"))
TAG = f"cp{sys.version_info[0]}{sys.version_info[1]}"


def _run(cmd: list, timeout: float = 1800, **kw) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n"
                    f"{proc.stderr[-5000:]}", pytrace=False)
    return proc


def _clean_env() -> dict[str, str]:
    """The environment of a user who only ran pip: nothing of the repository on any search path."""
    keep = ("HOME", "LANG", "LC_ALL", "TMPDIR", "PIP_CONFIG_FILE", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL",
            "PIP_FIND_LINKS", "PIP_CERT", "PIP_DEFAULT_TIMEOUT", "PIP_DISABLE_PIP_VERSION_CHECK", "SSL_CERT_FILE")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PATH"] = "/usr/bin:/bin"
    return env


@pytest.fixture(scope="module")
def wheel() -> Path:
    out = _run(["bash", REPO / "scripts" / "build_wheel.sh", sys.executable], cwd=REPO, timeout=3600)
    path = Path(out.stdout.split()[-1])
    if not path.is_absolute():
        path = REPO / path
    assert path.name.startswith("salcrop_filter-") and f"-{TAG}-{TAG}-manylinux_" in path.name, path.name
    return path


@pytest.fixture(scope="module")
def venv(wheel: Path) -> Path:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()[:16]
    home = CACHE / "wheel-venvs" / f"{TAG}-{digest}"
    if not (home / ".complete").exists():  # made in place (a venv's scripts name its path), marked when whole
        _run(["rm", "-rf", home])
        _run([sys.executable, "-m", "venv", home], env=_clean_env())
        # --no-cache-dir keeps pip from reusing a locally built PyAV: PyPI's own wheel, as a user gets it.
        _run([home / "bin" / "pip", "install", "-q", "--no-cache-dir", wheel], env=_clean_env())
        (home / ".complete").write_text(wheel.name + "\n")
    return home


def test_the_wheel_holds_the_core_its_libraries_and_the_default_models_only(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("salcrop_filter/_core.") for n in names)
    libs = [n for n in names if n.startswith("salcrop_filter.libs/")]
    assert any("libClp" in n for n in libs) and any("libCoinUtils" in n for n in libs), libs
    assert not any("onnxruntime" in n for n in libs), "ONNX Runtime comes from its own wheel, not vendored"
    models = sorted(Path(n).name for n in names if n.endswith((".onnx", ".pt")))
    # The saliency default, the float model and its checkpoint; speakers=auto's face detector and voice activity.
    assert models == ["face-yunet.onnx", "salcrop-int8.onnx", "salcrop.onnx", "salcrop.pt", "silero-vad.onnx"], models
    assert {"NOTICE-faces.md", "NOTICE-silero-vad.md"} <= {Path(n).name for n in names}
    assert wheel.stat().st_size < 30 * 1024 * 1024


def test_fresh_venv_has_pypis_pyav_and_none_of_the_repository(venv: Path) -> None:
    code = ("import av, json, onnxruntime, salcrop_filter, salcrop_filter._core as c\n"
            "print(json.dumps({'filter': 'salcrop' in av.filter.filters_available, 'av': av.__file__,\n"
            "  'pkg': salcrop_filter.__file__, 'model': c.default_model_path()}))")
    info = json.loads(_run([venv / "bin" / "python", "-c", code], env=_clean_env(), cwd="/").stdout)
    assert info["filter"] is False, "PyAV from PyPI has no salcrop filter; this one was built against our FFmpeg"
    for key in ("av", "pkg", "model"):
        assert info[key].startswith(str(venv)), info
    assert Path(info["model"]).name == "salcrop-int8.onnx"


def test_the_salcrop_command_reframes_a_real_clip(venv: Path, real_clip, tmp_path: Path) -> None:
    src = real_clip("bikes.mp4")
    out = tmp_path / "vertical.mp4"
    _run([venv / "bin" / "salcrop", src, "-o", out, "-q"], env=_clean_env(), cwd=tmp_path, timeout=600)
    again = subprocess.run([venv / "bin" / "salcrop", src, "-o", out, "-q"], env=_clean_env(), capture_output=True,
                           text=True, timeout=600)
    assert again.returncode == 2 and "exists" in again.stderr, "an existing output is kept without -y"
    code = ("import av, sys\n"
            "with av.open(sys.argv[1]) as a, av.open(sys.argv[2]) as b:\n"
            "    va, vb = a.streams.video[0], b.streams.video[0]\n"
            "    print(sum(1 for _ in a.decode(va)), sum(1 for _ in b.decode(vb)), vb.width, vb.height, va.height)")
    counted = _run([venv / "bin" / "python", "-c", code, src, out], env=_clean_env()).stdout
    n_in, n_out, w, h, h_in = map(int, counted.split())
    assert n_out == n_in > 100
    assert h == h_in // 2 * 2 and abs(w / h - 9 / 16) < 0.02, (w, h)


def test_reframe_reframer_and_several_ratios_from_python(venv: Path, real_clip, tmp_path: Path) -> None:
    src = real_clip("bikes.mp4")
    code = f"""
import av, json, sys
from salcrop_filter import Reframer, reframe
src, d = sys.argv[1], sys.argv[2]
path = reframe(src, d + "/one.mp4", "1:1")
paths = reframe(src, {{"9:16": d + "/a.mp4", "4:5": d + "/b.mp4"}})
r, n = Reframer("9:16"), 0
with av.open(src) as c:
    for frame in c.decode(video=0):
        n += len(r.push(frame))
n += len(r.flush())
print(json.dumps({{"one": len(path.frames), "ratios": sorted(paths), "lens": [len(p.frames) for p in paths.values()],
                  "loop": n, "loop_path": len(r.path.frames)}}))
"""
    got = json.loads(_run([venv / "bin" / "python", "-c", code, src, tmp_path], env=_clean_env(), timeout=900).stdout)
    n = got["one"]
    assert n > 100 and got["lens"] == [n, n] and got["loop"] == got["loop_path"] == n, got
    assert got["ratios"] == ["4:5", "9:16"]
    assert {p.name for p in tmp_path.iterdir()} >= {"one.mp4", "a.mp4", "b.mp4"}


def test_speakers_auto_finds_its_models_in_the_wheel(venv: Path) -> None:
    """speakers=auto loads the face detector and the voice-activity model: both ship in the wheel."""
    code = ("from salcrop_filter import _core\n"
            "print(_core.Engine(640, 360, 25.0, speakers='auto').describe())")
    described = _run([venv / "bin" / "python", "-c", code], env=_clean_env()).stdout
    assert "faces: " in described and "face-yunet.onnx" in described, described


def test_review_without_its_extra_names_the_extra(venv: Path, real_clip) -> None:
    proc = subprocess.run([venv / "bin" / "salcrop", "review", real_clip("bikes.mp4"), "--no-browser"],
                          env=_clean_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "salcrop_filter[review]" in proc.stderr, proc.stderr
