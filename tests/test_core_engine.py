"""The streaming engine end to end on real clips, through `_core.Engine`, with the real model.

The model is the core's default (models/salcrop-int8.onnx on the CPU, or what SALCROP_MODEL names).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import av
import numpy as np
import pytest

from salcrop_filter import _core

MODEL = Path(_core.default_model_path())
MODES = {"stationary", "pan", "track"}


@pytest.fixture(scope="session")
def videos(shared_videos: Path) -> Path:
    """The real clips (conftest's shared_videos)."""
    return shared_videos


class Clip:
    """Decoded RGB frames of a clip with their times and rate."""

    def __init__(self, path: Path, limit: int | None = None, fmt: str = "rgb24") -> None:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            self.fps = float(stream.average_rate)
            self.frames: list[np.ndarray] = []
            self.times: list[float] = []
            for frame in container.decode(stream):
                self.frames.append(frame.to_ndarray(format=fmt))
                self.times.append(float(frame.time))
                if limit is not None and len(self.frames) == limit:
                    break
        self.height, self.width = (self.frames[0].shape[0] * 2 // 3, self.frames[0].shape[1]) if fmt == "yuv420p" \
            else self.frames[0].shape[:2]


@pytest.fixture(scope="session")
def bikes(videos: Path) -> Clip:
    return Clip(videos / "bikes.mp4")


def run(engine: _core.Engine, clip: Clip) -> tuple[list, int]:
    """Pushes every frame, collecting decisions as they come; returns them and the largest lag seen."""
    decisions: list = []
    worst = 0
    for i, (frame, t) in enumerate(zip(clip.frames, clip.times)):
        engine.push_rgb(frame, t)
        decisions += engine.pop()
        worst = max(worst, i + 1 - len(decisions))
    decisions += engine.flush()
    return decisions, worst


def shot_starts(decisions: list) -> list[int]:
    return [d.frame for i, d in enumerate(decisions) if i == 0 or d.shot != decisions[i - 1].shot]


def test_decisions_do_not_depend_on_when_the_model_worker_finishes(bikes: Clip) -> None:
    # The model runs on the engine's worker thread. Pushing as fast as possible (the worker falls behind, push
    # waits only at max_delay) and pushing slowly (the worker is always done) must give the same decisions.
    import time

    def decide(pause: float) -> list:
        engine = _core.Engine(bikes.width, bikes.height, bikes.fps, ratio="9:16", lookahead=1.0)
        out = []
        for frame, t in zip(bikes.frames, bikes.times):
            engine.push_rgb(frame, t)
            if pause:
                time.sleep(pause)
                out += engine.pop()
        return out + engine.pop() + engine.flush()

    fast, slow = decide(0.0), decide(0.02)
    key = [(d.frame, d.x, d.y, d.shot, d.mode) for d in fast]
    assert len(key) == len(bikes.frames)
    assert key == [(d.frame, d.x, d.y, d.shot, d.mode) for d in slow]


def test_one_decision_per_frame_in_order_within_the_delay_bound(bikes: Clip) -> None:
    engine = _core.Engine(bikes.width, bikes.height, bikes.fps, ratio="9:16", threads=2)
    ow, oh = engine.output_size
    assert (ow, oh) == (154, 272)
    decisions, worst = run(engine, bikes)
    assert [d.frame for d in decisions] == list(range(len(bikes.frames)))
    assert [d.t for d in decisions] == bikes.times
    assert worst <= engine.max_delay
    for d in decisions:
        assert (d.w, d.h) == (ow, oh) and not d.padded
        assert 0 <= d.x <= bikes.width - d.w and 0 <= d.y <= bikes.height - d.h
        assert d.mode in MODES
    # Shots are the detector's, and a stationary shot does not move.
    assert shot_starts(decisions) == [0, 30, 76, 137, 187, 242]
    for start, end in zip([0, 30, 76, 137, 187, 242], [30, 76, 137, 187, 242, 250]):
        shot = decisions[start:end]
        assert len({d.mode for d in shot}) == 1
        if shot[0].mode == "stationary":
            assert len({(d.x, d.y) for d in shot}) == 1
    assert "CPUExecutionProvider" in engine.describe() or "CUDAExecutionProvider" in engine.describe()


def test_path_json_follows_the_crop_path_schema(bikes: Clip) -> None:
    engine = _core.Engine(bikes.width, bikes.height, bikes.fps, ratio="4:5", threads=2)
    decisions, _ = run(engine, bikes)
    doc = json.loads(engine.path_json())
    assert set(doc) == {"version", "source", "ratio", "frames", "shots"}
    assert doc["version"] == 2
    assert doc["source"] == {"width": 640, "height": 272, "fps": 25}
    assert doc["ratio"] == "4:5"
    assert len(doc["frames"]) == len(decisions)
    for entry, d in zip(doc["frames"], decisions):
        assert set(entry) == {"t", "x", "y", "w", "h", "shot", "speaker"}
        assert all(isinstance(entry[k], int) for k in ("x", "y", "w", "h", "shot"))
        assert entry["speaker"] == d.speaker  # the face track followed because it speaks (no audio here: None)
        assert (entry["x"], entry["y"], entry["w"], entry["h"], entry["shot"]) == (d.x, d.y, d.w, d.h, d.shot)
        assert entry["t"] == pytest.approx(d.t, abs=1e-6)
    shots = doc["shots"]
    assert shots[0]["start"] == 0 and shots[-1]["end"] == len(decisions)
    assert all(a["end"] == b["start"] for a, b in zip(shots, shots[1:]))
    assert [s["start"] for s in shots] == shot_starts(decisions)
    assert {s["mode"] for s in shots} <= MODES
    # Why each shot's path is what it is: planned for the map's mass, or held below the floor (with the masses).
    assert all(s["reason"] == "planned" or re.match(r"hold: path kept [0-9.]+ of the map", s["reason"])
               for s in shots), [s["reason"] for s in shots]
    # Version 2: each shot's segments tile it and agree with the decisions' own labels.
    for shot in shots:
        segments = shot["segments"]
        assert segments[0]["start"] == shot["start"] and segments[-1]["end"] == shot["end"]
        assert all(a["end"] == b["start"] for a, b in zip(segments, segments[1:]))
        for seg in segments:
            assert {d.segment for d in decisions[seg["start"]:seg["end"]]} == {seg["mode"]}


def test_yuv420p_input_finds_the_fades_of_testvideo(videos: Path) -> None:
    clip = Clip(videos / "testvideo.mp4", limit=450, fmt="yuv420p")
    w, h = clip.width, clip.height
    engine = _core.Engine(w, h, clip.fps, threads=2, stride=5)
    decisions = []
    for frame, t in zip(clip.frames, clip.times):
        y, u, v = frame[:h], frame[h:h + h // 4].reshape(h // 2, w // 2), frame[h + h // 4:].reshape(h // 2, w // 2)
        engine.push_yuv420p(y, u, v, t)
        decisions += engine.pop()
    decisions += engine.flush()
    assert [d.frame for d in decisions] == list(range(450))
    assert shot_starts(decisions) == [0, 201, 382]


def test_long_shot_planned_in_chunks_moves_smoothly(videos: Path) -> None:
    # basketball.mp4 is one 11 s shot of fast play; a 1 s lookahead forces chunked planning.
    clip = Clip(videos / "basketball.mp4")
    engine = _core.Engine(clip.width, clip.height, clip.fps, lookahead=1.0, threads=2)
    decisions, worst = run(engine, clip)
    # The bound: the lookahead, plus up to 2 s while a fade through black is open, plus the longest gap between
    # two runs of the model (0.5 s on a still picture) three times: the frames after the last one, and two more
    # runs the model's worker thread may be behind.
    assert worst <= engine.max_delay <= 3.0 * clip.fps + 3 * round(0.5 * clip.fps) + 4
    x = np.array([d.x for d in decisions], float)
    # The planner's limits at smoothing 0.5 (csrc/src/planner.cpp), plus even-pixel rounding.
    vmax = 0.4 * clip.width / clip.fps
    amax = 0.4 * 1.75 * clip.width / clip.fps**2
    assert np.abs(np.diff(x)).max() <= vmax + 2, "no jump, also where chunks meet"
    assert np.abs(np.diff(x, 2)).max() <= amax + 4, "no kink where chunks meet"
    # Auto mode never turns the window back within a second of a move, across chunks too.
    v = np.diff(x)
    moving = np.flatnonzero(v)
    turns = [b for a, b in zip(moving, moving[1:]) if np.sign(v[a]) != np.sign(v[b]) and b - a < clip.fps]
    assert not turns, f"the window turns back within a second at frames {turns}"
    assert {d.segment for d in decisions} <= {"stationary", "pan", "ease"}


def test_debug_view_and_padded_rendering(bikes: Clip) -> None:
    engine = _core.Engine(bikes.width, bikes.height, bikes.fps, keep_maps=True, pad="black", threads=2)
    ow, oh = engine.output_size
    decision = None
    for frame, t in zip(bikes.frames[:40], bikes.times[:40]):
        engine.push_rgb(frame, t)
        for decision in engine.pop():
            pass
    for decision in engine.flush():
        pass
    assert decision is not None and decision.frame == 39
    view = bikes.frames[39].copy()
    engine.draw_debug(decision, view)
    assert (view != bikes.frames[39]).any()
    # The window's left edge is drawn green.
    edge = view[decision.y + decision.h // 2, decision.x]
    assert edge[1] > 200 and edge[0] < 60 and edge[2] < 60
    out = engine.render_padded(decision, bikes.frames[39])
    assert out.shape == (oh, ow, 3) and out.dtype == np.uint8
    if decision.padded:
        # A region wider than the output ratio: scaled to the output's width, black above and below.
        assert decision.w / decision.h > ow / oh
        band = round(oh - decision.h * ow / decision.w) // 2
        assert band > 2 and (out[: band - 1] == 0).all() and (out[oh - band + 1:] == 0).all()
        assert out[oh // 2].any()
    else:
        # A region of the output ratio fills the output: it is the crop itself.
        crop = bikes.frames[39][decision.y:decision.y + decision.h, decision.x:decision.x + decision.w]
        assert np.abs(out.astype(int) - crop).mean() < 2


def test_debug_view_needs_keep_maps(bikes: Clip) -> None:
    engine = _core.Engine(bikes.width, bikes.height, bikes.fps, threads=2)
    engine.push_rgb(bikes.frames[0], 0.0)
    (decision,) = engine.flush()
    with pytest.raises(ValueError, match="keep_maps"):
        engine.draw_debug(decision, bikes.frames[0].copy())


def test_buffer_check_against_this_machines_memory(bikes: Clip, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SALCROP_MEMORY_LIMIT_MB", raising=False)
    engine = _core.Engine(bikes.width, bikes.height, bikes.fps, max_memory=-1)  # no budget: the machine's memory
    engine.check_buffer(bikes.width * bikes.height * 3 // 2)  # a few hundred frames of 640x272 fit anywhere
    assert engine.frames_in_memory == engine.max_delay
    with pytest.raises(ValueError, match=r"more than .*(machine|container|SALCROP_MEMORY_LIMIT_MB)"):
        engine.check_buffer(10**12)  # a terabyte per frame fits nowhere
    with pytest.raises(ValueError, match="positive"):
        engine.check_buffer(0)


def test_memory_budget_says_how_many_frames_stay_in_memory(bikes: Clip) -> None:
    """Under the budget (max_memory, default 448 MB) the engine keeps its lookahead and tells the caller how many
    of the frames awaiting their decision fit; the description says what the budget did."""
    engine = _core.Engine(bikes.width, bikes.height, bikes.fps)
    engine.check_buffer(bikes.width * bikes.height * 3 // 2)  # 640x272: every frame fits the default budget
    assert engine.frames_in_memory == engine.max_delay
    assert "max_memory" not in engine.describe()
    engine = _core.Engine(bikes.width, bikes.height, bikes.fps, max_memory=10)
    engine.check_buffer(2**20)
    assert engine.frames_in_memory == 10 < engine.usual_delay < engine.max_delay
    assert f"up to {engine.max_delay} frames" in engine.describe() and "10 stay in memory" in engine.describe()
    engine = _core.Engine(bikes.width, bikes.height, bikes.fps)
    engine.check_buffer(600 * 2**20)  # larger than the default budget: none stays in memory, nothing is refused
    assert engine.frames_in_memory == 0
    engine = _core.Engine(bikes.width, bikes.height, bikes.fps)
    with pytest.raises(ValueError, match="lookahead"):  # a terabyte per frame fits no machine, whatever the budget
        engine.check_buffer(10**12)


def test_frame_of_the_wrong_size_is_refused(bikes: Clip) -> None:
    engine = _core.Engine(bikes.width + 2, bikes.height, bikes.fps)
    with pytest.raises(ValueError, match="size"):
        engine.push_rgb(bikes.frames[0], 0.0)


def test_saliency_runner_follows_the_model_contract(bikes: Clip) -> None:
    runner = _core.SaliencyRunner(device="cpu", threads=2)
    h, w = runner.input_size
    mh, mw = runner.map_size
    assert (mh * 8, mw * 8) == (h, w)
    assert runner.provider == "CPUExecutionProvider"
    assert runner.metadata["salcrop_model_version"] == "1"
    maps = runner.predict(np.stack(bikes.frames[:4]))
    assert maps.shape == (4, mh, mw) and maps.dtype == np.float32
    assert (maps >= 0).all() and np.allclose(maps.sum(axis=(1, 2)), 1, atol=1e-3)
    # Temporal state: the same frames continued (reset=False) need not repeat the fresh result,
    # but running fresh twice must.
    again = runner.predict(np.stack(bikes.frames[:4]))
    assert np.allclose(maps, again, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs,option",
    [({"ratio": "0"}, "ratio"), ({"ratio": "-4:5"}, "ratio"), ({"ratio": "tall"}, "ratio"),
     ({"ratio": "1/1000"}, "ratio"), ({"stride": 0}, "stride"), ({"stride": 31}, "stride"),
     ({"lookahead": 0.05}, "lookahead"), ({"lookahead": 61.0}, "lookahead"), ({"device": "gpu"}, "device"),
     ({"mode": "zoom"}, "mode"), ({"pad": "white"}, "pad"), ({"smoothing": -0.1}, "smoothing"),
     ({"scene_threshold": -1.0}, "scene_threshold"), ({"threads": -2}, "threads"), ({"fps": 0.0}, "fps"),
     ({"width": 0}, "width")],
)
def test_bad_options_are_refused_with_the_option_named(kwargs: dict, option: str) -> None:
    args = {"width": 640, "height": 360, "fps": 25.0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=option) as info:
        _core.Engine(**args)
    assert "valid" in str(info.value)


def test_missing_model_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.onnx"
    with pytest.raises(RuntimeError, match="nope.onnx"):
        _core.Engine(640, 360, 25.0, model=str(missing))


def test_corrupt_model_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "corrupt.onnx"
    bad.write_bytes(b"this is not an onnx model" * 10)
    with pytest.raises(RuntimeError, match="corrupt.onnx"):
        _core.SaliencyRunner(model=str(bad), device="cpu")


def test_model_breaking_the_contract_is_refused(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    # A valid ONNX graph with the contract's metadata but an input named "image" instead of "frame".
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, 16, 16])
    y = helper.make_tensor_value_info("saliency", TensorProto.FLOAT, ["N", 3, 16, 16])
    graph = helper.make_graph([helper.make_node("Identity", ["image"], ["saliency"])], "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    meta = {"salcrop_model_version": "1", "input_height": "16", "input_width": "16", "layout": "NCHW",
            "normalization": "rgb/255", "state_channels": "4", "map_height": "2", "map_width": "2",
            "training_data_sha256": "0" * 64, "trained": "never"}
    for k, v in meta.items():
        model.metadata_props.add(key=k, value=v)
    path = tmp_path / "wrong.onnx"
    onnx.save(model, str(path))
    with pytest.raises(RuntimeError, match="image"):
        _core.SaliencyRunner(model=str(path), device="cpu")
    del model.metadata_props[:]
    onnx.save(model, str(path))
    with pytest.raises(RuntimeError, match="metadata"):
        _core.SaliencyRunner(model=str(path), device="cpu")
