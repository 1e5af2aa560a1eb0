"""The Ray scale-out (cluster.py, shot_segments.py, `salcrop --ray`) on a real local Ray runtime with 2 CPUs.

Everything is real: Ray's scheduler and workers, the ONNX model, PyAV, ffprobe on the results. The crop paths
are compared with the one-machine path (the local CLI's, `salcrop ... --path`) frame for frame.
Ray starts once for the module; the clips are short so the module stays within a few minutes on 2 cores.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import subprocess
import threading
import time
from pathlib import Path

import pytest
import ray

from salcrop_filter import CropPath
from salcrop_filter.cli import main as cli_main

# Short real clips: QCIF (120 frames), 640x360 with mp3 audio (241), 640x272 with several cuts (250).
BATCH = ("carphone_pristine.mp4", "chaplin.mp4", "bikes.mp4")


@pytest.fixture(scope="module")
def ray_runtime():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def videos(shared_videos: Path) -> Path:
    return shared_videos


@pytest.fixture(scope="module")
def local_paths(videos: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, CropPath]:
    """The one-machine crop paths: the local CLI over the batch and testvideo.mp4."""
    out = tmp_path_factory.mktemp("local")
    names = BATCH + ("testvideo.mp4",)
    rc = cli_main([str(videos / n) for n in names] + ["-o", str(out / "v"), "--path", str(out / "p"), "-q"])
    assert rc == 0
    return {n: CropPath.load(out / "p" / (Path(n).stem + ".json")) for n in names}


def _probe_frames(ffprobe: Path, path: Path) -> list[str]:
    """Every video frame's timestamp as ffprobe reads it (decoding the whole file)."""
    out = subprocess.run([str(ffprobe), "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "frame=best_effort_timestamp_time", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return [line.strip().rstrip(",") for line in out.splitlines() if line.strip()]


def _leftovers(folder: Path) -> list[str]:
    """Temporary files and segment parts: anything hidden except the sidecar records."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and not p.name.endswith(".salcrop.json"))


def test_batch_equals_local_cli(ray_runtime, videos, local_paths, ffprobe, tmp_path):
    from salcrop_filter import reframe_many

    results = reframe_many([videos / n for n in BATCH], tmp_path, "9:16", task_cpus=1)
    assert [r.status for r in results] == ["done"] * 3, [r.error for r in results]
    for name, r in zip(BATCH, results):
        assert r.output == tmp_path / name and r.output.is_file()
        assert r.path is not None and r.path.to_dict() == local_paths[name].to_dict(), name
        assert r.frames == len(_probe_frames(ffprobe, r.output)) == len(local_paths[name].frames)
        assert r.node and r.seconds > 0
    assert _leftovers(tmp_path) == []
    # chaplin.mp4's mp3 audio is carried over
    streams = subprocess.run([str(ffprobe), "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0",
                              str(tmp_path / "chaplin.mp4")], capture_output=True, text=True, check=True).stdout
    assert "audio" in streams


def test_split_shots_equals_one_machine_path(ray_runtime, videos, local_paths, ffprobe, tmp_path):
    from salcrop_filter import reframe_many

    src = videos / "testvideo.mp4"
    # 1-second segments: every shot is a segment of its own (three)
    [r] = reframe_many([src], tmp_path, "9:16", split_shots=True, segment_seconds=1, task_cpus=1)
    assert r.status == "done", r.error
    assert r.segments == 3
    assert r.path.to_dict() == local_paths["testvideo.mp4"].to_dict()
    assert _probe_frames(ffprobe, r.output) == _probe_frames(ffprobe, src)  # count and timestamps
    assert _leftovers(tmp_path) == []


def test_split_shots_long_looped_input(ray_runtime, videos, ffmpeg, ffprobe, tmp_path):
    from salcrop_filter import reframe, reframe_many

    # bikes.mp4 (cuts of its own) three times over: a longer input with more segments than workers
    looped = tmp_path / "looped.mp4"
    subprocess.run([str(ffmpeg), "-v", "error", "-stream_loop", "2", "-i", str(videos / "bikes.mp4"), "-c", "copy",
                    str(looped)], check=True)
    one = reframe(looped, tmp_path / "one.mp4", "9:16")
    [r] = reframe_many([looped], tmp_path / "split", "9:16", split_shots=True, segment_seconds=5, task_cpus=1)
    assert r.status == "done", r.error
    assert r.segments >= 4
    assert r.path.to_dict() == one.to_dict()
    input_frames = _probe_frames(ffprobe, looped)
    assert len(input_frames) == 750
    assert _probe_frames(ffprobe, r.output) == input_frames
    assert _leftovers(tmp_path / "split") == []


def test_killed_worker_is_retried_without_partial_files(ray_runtime, videos, ffprobe, tmp_path):
    from salcrop_filter import reframe_many

    names = ("chaplin.mp4", "bikes.mp4")
    box: dict[str, object] = {}
    thread = threading.Thread(target=lambda: box.update(
        results=reframe_many([videos / n for n in names], tmp_path, "9:16", task_cpus=1)))
    thread.start()
    # A worker writes its output as .NAME.salcrop-PID.mp4: kill that process mid-write.
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and time.monotonic() < deadline and thread.is_alive():
        for p in tmp_path.iterdir():
            m = re.fullmatch(r"\.(\w+)\.salcrop-(\d+)\.mp4", p.name)
            if m and p.stat().st_size > 0:
                killed = (m.group(1), int(m.group(2)))
                os.kill(killed[1], signal.SIGKILL)
                break
        time.sleep(0.05)
    thread.join(timeout=300)
    assert killed is not None, "no task was caught writing"
    results = box["results"]
    assert [r.status for r in results] == ["done", "done"], [r.error for r in results]  # type: ignore[union-attr]
    for r, n in zip(results, names):  # type: ignore[arg-type]
        frames = _probe_frames(ffprobe, r.output)
        assert len(frames) == len(_probe_frames(ffprobe, videos / n)) == r.frames
    assert _leftovers(tmp_path) == []


def test_corrupt_input_fails_alone(ray_runtime, videos, tmp_path, capsys):
    bad = tmp_path / "corrupt.mp4"
    data = (videos / "carphone_pristine.mp4").read_bytes()
    bad.write_bytes(data[:64] + bytes(4096))  # a header cut short, the rest zeros
    out = tmp_path / "out"
    rc = cli_main(["--ray", "--task-cpus", "1", str(bad), str(videos / "carphone_pristine.mp4"), "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 1
    assert re.search(r"salcrop: error: .*corrupt\.mp4", err), err
    assert "1 of 2 input(s) failed" in err
    assert (out / "carphone_pristine.mp4").is_file()
    assert not (out / "corrupt.mp4").exists()
    assert _leftovers(out) == []
    # the summary table names both, with the worker's node
    assert re.search(r"carphone_pristine\.mp4\s+120\s+[\d.]+\s+\S+\s+done", err), err


def test_resume_skips_complete_outputs_y_redoes_others_are_refused(ray_runtime, videos, tmp_path, capsys):
    src = str(videos / "carphone_pristine.mp4")
    out = tmp_path / "out"
    args = ["--ray", "--task-cpus", "1", src, "-o", f"{out}/"]  # one input: a folder only when it says so
    assert cli_main(args) == 0
    dst = out / "carphone_pristine.mp4"
    record = json.loads((out / ".carphone_pristine.mp4.salcrop.json").read_text())
    assert record["frames"] == 120 and record["output_size"] == dst.stat().st_size
    assert len(record["model_sha256"]) == 64
    first = dst.stat().st_mtime_ns
    capsys.readouterr()

    assert cli_main(args) == 0  # complete: no work
    assert re.search(r"carphone_pristine\.mp4\s+120\s+0\.0\s+-\s+skipped", capsys.readouterr().err)
    assert dst.stat().st_mtime_ns == first

    # other options: that file is not this run's output, and an existing output is only replaced with -y
    assert cli_main(args + ["--smoothing", "0.8"]) == 1
    assert "exists" in capsys.readouterr().err and dst.stat().st_mtime_ns == first
    assert cli_main(args + ["--smoothing", "0.8", "-y"]) == 0  # redone
    assert dst.stat().st_mtime_ns != first
    second = dst.stat().st_mtime_ns
    capsys.readouterr()

    assert cli_main(args + ["--smoothing", "0.8", "--overwrite"]) == 0  # complete, but --overwrite
    assert "done" in capsys.readouterr().err
    assert dst.stat().st_mtime_ns != second


def test_import_does_not_load_ray():
    code = ("import sys, salcrop_filter; salcrop_filter.reframe; salcrop_filter.CropPath; "
            "assert 'ray' not in sys.modules, 'ray imported'; salcrop_filter.reframe_many; "
            "assert 'ray' not in sys.modules, 'ray imported by the attribute'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_bad_option_value_is_a_usage_error(ray_runtime, videos, tmp_path, capsys):
    # the core refuses it inside the task: the same for every input, so exit 2 as without --ray
    # an input right after --ray is an input, not the cluster's address
    rc = cli_main(["--ray", str(videos / "carphone_pristine.mp4"), "--task-cpus", "1", "-o", str(tmp_path),
                   "--smoothing", "7"])
    assert rc == 2
    assert re.search(r"salcrop: error: .*smoothing", capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []
    assert cli_main(["--ray", str(videos / "carphone_pristine.mp4"), "-o", str(tmp_path), "--ratio", "0:1"]) == 2


def test_split_run_refuses_keyframes(videos, tmp_path):
    from salcrop_filter import OptionError
    from salcrop_filter.shot_segments import reframe_split

    # a segment counts frames and times from its own start; the user's keyframes count from the input's
    with pytest.raises(OptionError, match="keyframes cannot be combined with split runs"):
        reframe_split(videos / "testvideo.mp4", tmp_path / "out.mp4", "9:16", segment_seconds=1,
                      keyframes=[{"frame": 10, "x": 300, "y": 360}])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("split", [False, True], ids=["whole", "split_shots"])
def test_one_input_o_and_path_name_files(ray_runtime, videos, local_paths, ffprobe, tmp_path, split):
    # as without --ray: with one input, -o and --path are the files written, not folders to write into
    src = videos / "testvideo.mp4"
    dst, path = tmp_path / "one.mp4", tmp_path / "p.json"
    extra = ["--split-shots", "--segment-seconds", "1"] if split else []
    rc = cli_main(["--ray", "--task-cpus", "1", str(src), "-o", str(dst), "--path", str(path), "-q"] + extra)
    assert rc == 0
    assert dst.is_file() and path.is_file()
    assert CropPath.load(path).to_dict() == local_paths["testvideo.mp4"].to_dict()
    assert _probe_frames(ffprobe, dst) == _probe_frames(ffprobe, src)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".one.mp4.salcrop.json", "one.mp4", "p.json"]


def test_one_input_o_folder_still_a_folder(ray_runtime, videos, tmp_path):
    # a trailing separator (or an existing folder) keeps meaning a folder, named after the input
    src = videos / "carphone_pristine.mp4"
    assert cli_main(["--ray", "--task-cpus", "1", str(src), "-o", str(tmp_path / "out") + "/", "-q"]) == 0
    assert (tmp_path / "out" / "carphone_pristine.mp4").is_file()


def test_ratio_list_one_pass_per_input(ray_runtime, videos, local_paths, tmp_path, capsys):
    from salcrop_filter import reframe

    src = videos / "carphone_pristine.mp4"
    square = reframe(src, tmp_path / "square.mp4", "1:1")
    out, paths = tmp_path / "out", tmp_path / "paths"
    rc = cli_main(["--ray", "--task-cpus", "1", str(src), "--ratio", "9:16,1:1", "-o", str(out), "--path", str(paths),
                   "-q"])
    assert rc == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == \
        ["carphone_pristine.1x1.mp4", "carphone_pristine.9x16.mp4"]
    assert CropPath.load(paths / "carphone_pristine.9x16.json").to_dict() == \
        local_paths["carphone_pristine.mp4"].to_dict()
    assert CropPath.load(paths / "carphone_pristine.1x1.json").to_dict() == square.to_dict()
    assert _leftovers(out) == []
    # complete: a rerun skips the input (both outputs have their record)
    assert cli_main(["--ray", "--task-cpus", "1", str(src), "--ratio", "9:16,1:1", "-o", str(out)]) == 0
    assert re.search(r"carphone_pristine\.mp4\s+120\s+0\.0\s+-\s+skipped", capsys.readouterr().err)
    # one pass per input cannot be cut into segments planned apart
    assert cli_main(["--ray", str(src), "--ratio", "9:16,1:1", "--split-shots", "-o", str(tmp_path / "x")]) == 2
    assert "split_shots" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
