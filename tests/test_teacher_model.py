"""The video teacher (UNISAL) as a model users can pick: ``model=teacher`` in the core's contract."""

from __future__ import annotations

import pathlib

import numpy as np
import onnx
import pytest

from salcrop_filter.training import teacher, teacher_onnx

REPO = pathlib.Path(__file__).resolve().parents[1]
TEACHER = REPO / "models" / "salcrop-teacher.onnx"


def test_shipped_teacher_is_what_the_export_makes_and_keeps_its_licence(tmp_path):
    """Exported again from the sha256-checked weights, the maps and states agree with the shipped file's."""
    import onnxruntime as ort

    meta = {p.key: p.value for p in onnx.load(str(TEACHER)).metadata_props}
    assert meta == teacher_onnx.metadata(256, 448)
    notice = (REPO / "models" / "NOTICE-teacher.md").read_text()
    assert "Apache License" in notice and "Richard Droste" in notice
    fresh = teacher_onnx.export_teacher(tmp_path / "t.onnx")
    rng = np.random.default_rng(1)
    feeds = {"frame": rng.random((1, 3, 256, 448), dtype=np.float32),
             "state": rng.standard_normal((1, teacher_onnx.STATE_CHANNELS, 32, 56)).astype(np.float32)}
    feeds["prev_frame"] = feeds["frame"]
    a = ort.InferenceSession(str(TEACHER), providers=["CPUExecutionProvider"]).run(None, feeds)
    b = ort.InferenceSession(str(fresh), providers=["CPUExecutionProvider"]).run(None, feeds)
    for x, y in zip(a, b):
        assert np.abs(x - y).max() <= 1e-4 * max(1.0, float(np.abs(x).max()))


def test_model_teacher_names_the_installed_teacher_and_its_maps_are_the_teachers(shared_videos: pathlib.Path):
    """``model="teacher"`` loads salcrop-teacher.onnx through the core; on a real clip its maps (state carried)
    match the PyTorch teacher's at the same size."""
    import av
    import cv2
    import torch

    from salcrop_filter import _core

    runner = _core.SaliencyRunner(model="teacher", device="cpu", threads=1)
    assert pathlib.Path(runner.path).name == "salcrop-teacher.onnx"
    frames = []
    with av.open(str(shared_videos / "basketball.mp4")) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i % 5 == 0:
                frames.append(cv2.resize(f.to_ndarray(format="rgb24"), (448, 256), interpolation=cv2.INTER_AREA))
            if len(frames) == 3:
                break
    rgb = np.stack(frames)
    core_maps = np.asarray(runner.predict(rgb))
    torch.set_num_threads(1)
    net = teacher_onnx.TeacherContract(teacher.load_teacher(), 256, 448).eval()
    state = torch.zeros(1, teacher_onnx.STATE_CHANNELS, 32, 56)
    with torch.no_grad():
        for k in range(len(rgb)):
            x = torch.from_numpy(rgb[k]).permute(2, 0, 1)[None].float() / 255
            sal, state = net(x, x, state)
            m = sal[0, 0].numpy()
            c = core_maps[k].reshape(m.shape)
            assert np.corrcoef(c.ravel() / c.sum(), m.ravel())[0, 1] > 0.999, k


def test_an_unknown_model_name_is_a_clear_error():
    from salcrop_filter import _core

    with pytest.raises(RuntimeError, match="no installed salcrop-nosuch.onnx"):
        _core.SaliencyRunner(model="nosuch", device="cpu")
