"""Memory safety of the core and the filter, checked by tools rather than by outputs.

- scripts/sanitize.sh asan: the core built with -fsanitize=address,undefined runs the C ABI CTest and a
  real clip (pieces of ../shared/videos/testvideo.mp4 as raw frames, seven pixel formats and sizes) through
  push/pop/flush, render_padded, draw_debug and path_json;
- scripts/fuzz.sh: the C ABI fuzz target for a bounded time (libFuzzer with clang, else the seeded random
  driver), random options and frames of random sizes, formats, linesizes and contents;
- scripts/sanitize.sh tsan: the core built with -fsanitize=thread runs real frames through the C ABI, so that
  the caller's thread and the engine's model worker thread are checked for data races;
- scripts/sanitize.sh valgrind: a full build/bin/ffmpeg run with four salcrop instances (crop + path JSON,
  debug view, padded rendering, two ratios from one engine) under memcheck (a few minutes: ONNX Runtime under
  memcheck).
Each script exits non-zero on any report; these tests run them and show the end of their output.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FUZZ_SECONDS = int(os.environ.get("SALCROP_FUZZ_SECONDS", "45"))


def script(*args: str, timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["bash", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(args)} exited {proc.returncode}:\n{output[-8000:]}", pytrace=False)
    return proc


def clip_env(shared_videos: Path) -> dict[str, str]:
    """The clip sanitize.sh cuts its pieces from, handed to it from conftest's shared_videos."""
    return {"SALCROP_SANITIZE_CLIP": str(shared_videos / "testvideo.mp4")}


def test_core_under_address_and_undefined_sanitizers(shared_videos: Path) -> None:
    # The sanitized build is cached in build/sanitize; a cold one takes about 3 minutes on 2 cores.
    proc = script("scripts/sanitize.sh", "asan", timeout=1200, env=clip_env(shared_videos))
    out = proc.stdout + proc.stderr
    runs = re.findall(r"run_clip: (\d+) frames (\d+x\d+) (\w+) -> (\d+x\d+), (\d+) padded, 0 failures", out)
    assert len(runs) == 7, out[-4000:]
    assert all(int(frames) == 36 for frames, *_ in runs), runs
    assert "asan: all clean" in out


def test_engine_threads_under_thread_sanitizer(shared_videos: Path) -> None:
    # The engine runs its model on a worker thread: a thread-sanitized core pushes real frames through the C ABI.
    proc = script("scripts/sanitize.sh", "tsan", timeout=1200, env=clip_env(shared_videos))
    out = proc.stdout + proc.stderr
    runs = re.findall(r"run_clip: (\d+) frames 320x180 yuv420p -> 102x180, 0 padded, 0 failures", out)
    assert [int(n) for n in runs] == [36, 60], out[-4000:]
    assert "tsan: all clean" in out


def test_fuzz_c_api() -> None:
    # The seeded random driver by default: it reuses the gcc sanitizer build above and a seed makes the run
    # repeatable; SALCROP_FUZZ_ENGINE=libfuzzer (or auto) selects libFuzzer where clang is installed.
    engine = os.environ.get("SALCROP_FUZZ_ENGINE", "random")
    proc = script("scripts/fuzz.sh", str(FUZZ_SECONDS), "1", timeout=FUZZ_SECONDS + 1200,
                  env={"SALCROP_FUZZ_ENGINE": engine})
    out = proc.stdout + proc.stderr
    if "libFuzzer" in out:
        runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", out)
        assert runs and int(runs.group(1)) > 20, out[-3000:]
    else:
        m = re.search(r"(\d+) inputs, (\d+) engines created, (\d+) pushes \((\d+) refused\), (\d+) decisions", out)
        assert m, out[-3000:]
        inputs, engines, pushes, refused, decisions = map(int, m.groups())
        # The run explored the streaming part, not only option errors.
        assert engines >= 10 and pushes - refused >= 100 and decisions >= 100, m.group(0)


@pytest.mark.skipif(shutil.which("valgrind") is None and os.geteuid() != 0,
                    reason="valgrind is not installed and cannot be installed without root")
def test_ffmpeg_filter_under_valgrind(shared_videos: Path) -> None:
    proc = script("scripts/sanitize.sh", "valgrind", timeout=1800, env=clip_env(shared_videos))
    out = proc.stdout + proc.stderr
    assert "ERROR SUMMARY: 0 errors" in out and "definitely lost: 0 bytes" in out, out[-4000:]
    assert "valgrind: all clean" in out
