"""The shipped saliency model: accuracy against real fixations, ONNX export fidelity, contract metadata, size."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import onnx
import onnxruntime as ort
import torch

from salcrop_filter.training import datasets  # noqa: E402
from salcrop_filter.evaluation.saliency import OnnxSaliency, evaluate_images, fit_centre_sigma  # noqa: E402
from salcrop_filter.export import export_onnx, parity  # noqa: E402
from salcrop_filter.training.model import load_checkpoint  # noqa: E402
from salcrop_filter.evaluation.metrics import all_metrics, auc_judd, cc  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]
MODEL = REPO / "models" / "salcrop.onnx"
CHECKPOINT = REPO / "models" / "salcrop.pt"
CONTRACT_KEYS = ("salcrop_model_version", "input_height", "input_width", "layout", "normalization",
                 "state_channels", "map_height", "map_width", "training_data_sha256", "trained")


def _clip(path: pathlib.Path, count: int) -> np.ndarray:
    """The first ``count`` frames of a real clip (from conftest's shared_videos or real_clip) as uint8 RGB [T,H,W,3]."""
    import av
    frames = []
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            frames.append(f.to_ndarray(format="rgb24"))
            if len(frames) == count:
                break
    return np.stack(frames)


def _model_input(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    t = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255
    return torch.nn.functional.interpolate(t, size=(height, width), mode="bilinear", antialias=True,
                                           align_corners=False).numpy()


def test_shipped_model_beats_centre_bias_on_held_out_images(shared_data):
    assert (shared_data / "osie").is_dir(), f"the eye-tracking data is missing under {shared_data}"
    model = OnnxSaliency(MODEL)
    train, held = datasets.split(datasets.load_all(shared_data))
    subset = held[::3]  # 57 of 170 images keeps this under a minute on 2 cores
    res = evaluate_images(model, subset, fit_centre_sigma(train, count=60))
    assert res["model"]["CC"] >= res["centre bias"]["CC"] + 0.15, res
    assert res["model"]["NSS"] > res["centre bias"]["NSS"], res


def test_training_never_saw_the_held_out_split():
    split = (REPO / "models" / "split.json").read_text()
    import json

    assert json.loads(split)["held_out"] == datasets.held_out_keys()
    assert sum(len(v) for v in datasets.held_out_keys().values()) == sum(datasets.HELD_OUT.values())


def test_export_round_trips_on_real_frames(tmp_path, real_clip):
    path = export_onnx(tmp_path / "m.onnx", checkpoint=CHECKPOINT)
    net, _ = load_checkpoint(CHECKPOINT)
    cfg = net.config
    frames = _model_input(_clip(real_clip("bigbuckbunny.mp4"), 4), cfg.input_height, cfg.input_width)
    assert parity(path, net, frames) < 1e-5


def test_export_other_input_size_follows_metadata(tmp_path):
    path = export_onnx(tmp_path / "small.onnx", height=96, width=160, checkpoint=CHECKPOINT)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    meta = sess.get_modelmeta().custom_metadata_map
    assert (meta["input_height"], meta["input_width"], meta["map_height"], meta["map_width"]) == ("96", "160", "12", "20")
    c = int(meta["state_channels"])
    x = np.random.default_rng(0).random((2, 3, 96, 160), dtype=np.float32)
    sal, state = sess.run(None, {"frame": x, "prev_frame": x, "state": np.zeros((2, c, 12, 20), np.float32)})
    assert sal.shape == (2, 1, 12, 20) and state.shape == (2, c, 12, 20)
    np.testing.assert_allclose(sal.sum(axis=(1, 2, 3)), 1.0, atol=1e-4)


def test_shipped_metadata_matches_tensors_and_checkpoint():
    model = onnx.load(str(MODEL))
    meta = {p.key: p.value for p in model.metadata_props}
    assert set(CONTRACT_KEYS) <= set(meta), set(CONTRACT_KEYS) - set(meta)
    assert meta["salcrop_model_version"] == "1" and meta["layout"] == "NCHW" and meta["normalization"] == "rgb/255"
    h, w = int(meta["input_height"]), int(meta["input_width"])
    mh, mw, c = int(meta["map_height"]), int(meta["map_width"]), int(meta["state_channels"])
    assert (mh, mw) == (h // 8, w // 8)

    def dims(values):
        return {v.name: [d.dim_value or d.dim_param for d in v.type.tensor_type.shape.dim] for v in values}

    ins, outs = dims(model.graph.input), dims(model.graph.output)
    assert ins == {"frame": ["N", 3, h, w], "prev_frame": ["N", 3, h, w], "state": ["N", c, mh, mw]}
    assert outs == {"saliency": ["N", 1, mh, mw], "state_out": ["N", c, mh, mw]}
    _, record = load_checkpoint(CHECKPOINT)
    assert meta["training_data_sha256"] == record["training_data_sha256"]
    assert meta["trained"] == record["trained"]


def test_shipped_model_is_small():
    assert MODEL.stat().st_size <= 20 * 1024 * 1024


def test_metrics_rank_a_perfect_prediction_above_a_flat_one():
    rng = np.random.default_rng(1)
    # Fixations clustered on three "objects", like real gaze.
    centres = np.array([[16, 12], [40, 30], [55, 10]])
    pts = np.clip(centres[rng.integers(0, 3, 300)] + rng.normal(0, 3, (300, 2)), 0, [63.9, 47.9]).astype(np.float32)
    dense, fix = datasets.dense_map(pts, 48, 64), datasets.fixation_map(pts, 48, 64)
    good, flat = all_metrics(dense, dense, fix), all_metrics(np.ones_like(dense), dense, fix)
    assert good["CC"] == pytest.approx(1.0) and good["KLD"] < 1e-6
    # A flat map ranks fixated pixels at random (ties broken by jitter): chance level.
    assert abs(auc_judd(np.ones_like(dense), fix) - 0.5) < 0.06
    assert good["NSS"] > flat["NSS"] + 1 and good["AUC-Judd"] > flat["AUC-Judd"] + 0.2
    assert cc(dense[::-1], dense) < 0.9


def test_saliency_model_predicts_normalised_maps_through_the_core(shared_videos):
    from salcrop_filter.saliency import SaliencyModel

    frames = _clip(shared_videos / "chaplin.mp4", 6)
    sm = SaliencyModel(str(MODEL), device="cpu")
    maps = sm.predict(frames)
    h, w = sm.map_size
    assert maps.shape == (6, h, w) and maps.dtype == np.float32
    assert (maps >= 0).all()
    np.testing.assert_allclose(maps.sum(axis=(1, 2)), 1.0, atol=1e-3)
    # The core's own resize may differ slightly from ours, but the maps must be the same model's.
    ref = OnnxSaliency(MODEL).run(_model_input(frames, *sm.input_size))
    assert min(cc(a, b) for a, b in zip(maps, ref)) > 0.9


INT8 = REPO / "models" / "salcrop-int8.onnx"


def test_int8_model_is_what_quantize_makes_from_the_float_model(tmp_path, shared_data):  # calibrates on OSIE
    """Up to CPU rounding, not byte for byte: calibration's float maths differs between x86-64 CPUs."""
    from salcrop_filter.training.quantize import differences, quantize_model

    out = quantize_model(MODEL, tmp_path / "int8.onnx")
    assert differences(INT8, out) == [], "models/salcrop-int8.onnx is stale: rerun python -m salcrop_filter.quantize"


def _edited(src: pathlib.Path, dst: pathlib.Path, edit) -> pathlib.Path:
    """``src`` with ``edit(name, array) -> array | None`` applied to its initialisers, saved as ``dst``."""
    from onnx import numpy_helper

    m = onnx.load(str(src))
    for i, t in enumerate(m.graph.initializer):
        new = edit(t.name, numpy_helper.to_array(t))
        if new is not None:
            m.graph.initializer[i].CopyFrom(numpy_helper.from_array(new.astype(numpy_helper.to_array(t).dtype), t.name))
    onnx.save(m, str(dst))
    return dst


def test_int8_check_passes_cpu_rounding_and_catches_a_changed_model(tmp_path):
    """What another CPU's calibration moves (scales by 1e-6, a zero point or bias by one step) passes; a weight two
    steps off, a scale 1% off or a missing node is a different model."""
    from salcrop_filter.training.quantize import _roles, differences

    roles = _roles(onnx.load(str(INT8)))
    scales = [n for n, r in roles.items() if r == "scale"]
    zero_points = [n for n, r in roles.items() if r == "zero_point"]
    weights = [n for n, r in roles.items() if r == "quantized"]

    def rounding(name, a):
        if name in scales:
            return a * (1 + 1e-6)
        if name == zero_points[3]:
            return np.clip(a.astype(np.int64) + 1, np.iinfo(a.dtype).min, np.iinfo(a.dtype).max)
        return None

    assert differences(INT8, _edited(INT8, tmp_path / "rounded.onnx", rounding)) == []
    stale_weight = _edited(INT8, tmp_path / "w.onnx", lambda n, a: a.astype(np.int64) // 2 if n == weights[5] else None)
    assert any(weights[5] in d for d in differences(INT8, stale_weight))
    stale_scale = _edited(INT8, tmp_path / "s.onnx", lambda n, a: a * 1.01 if n == scales[7] else None)
    assert any(scales[7] in d for d in differences(INT8, stale_scale))
    m = onnx.load(str(INT8))
    del m.graph.node[-1]
    onnx.save(m, str(tmp_path / "n.onnx"))
    assert any("graph differs" in d for d in differences(INT8, tmp_path / "n.onnx"))


def test_int8_check_catches_the_quantization_of_a_changed_float_model(tmp_path, shared_data):  # calibrates on OSIE
    """A float model one fine-tuning step away (the first convolution's weights 2% larger) quantizes to a stale model:
    per channel, its int8 weights stay the same and their scales move by the 2%, and the ranges seen downstream move."""
    from salcrop_filter.training.quantize import differences, quantize_model

    fp = onnx.load(str(MODEL))
    conv = next(n for n in fp.graph.node if n.op_type == "Conv")
    changed = _edited(MODEL, tmp_path / "changed.onnx", lambda n, a: a * 1.02 if n == conv.input[1] else None)
    diffs = differences(INT8, quantize_model(changed, tmp_path / "int8.onnx"), limit=1000)
    assert any(d.startswith(conv.input[1]) and "(scale" in d for d in diffs), diffs


def test_int8_model_keeps_the_contract_and_the_float_model_metadata():
    fp, q = onnx.load(str(MODEL)), onnx.load(str(INT8))
    meta_fp = {p.key: p.value for p in fp.metadata_props}
    meta_q = {p.key: p.value for p in q.metadata_props}
    assert meta_q == {**meta_fp, "precision": "int8"}
    assert [i.name for i in q.graph.input] == [i.name for i in fp.graph.input]
    assert [o.name for o in q.graph.output] == [o.name for o in fp.graph.output]
    assert any(n.op_type == "QuantizeLinear" for n in q.graph.node), "no quantized nodes"
    assert INT8.stat().st_size < MODEL.stat().st_size / 2


def test_int8_model_matches_the_float_model_on_held_out_images_and_video(shared_data, shared_videos):
    train, held = datasets.split(datasets.load_all(shared_data))
    subset, sigma = held[::3], fit_centre_sigma(train, count=60)
    fp = evaluate_images(OnnxSaliency(MODEL), subset, sigma)["model"]
    q = evaluate_images(OnnxSaliency(INT8), subset, sigma)["model"]
    assert q["CC"] >= fp["CC"] - 0.01 and q["NSS"] >= fp["NSS"] - 0.05, (fp, q)
    # KLD punishes zeros: the float read-out keeps the 8-bit maps free of them.
    assert q["KLD"] <= fp["KLD"] + 0.05, (fp, q)
    frames = _clip(shared_videos / "basketball.mp4", 8)
    h, w = OnnxSaliency(MODEL).input_hw
    x = _model_input(frames, h, w)
    maps_fp, maps_q = OnnxSaliency(MODEL).run(x), OnnxSaliency(INT8).run(x)
    assert min(cc(a, b) for a, b in zip(maps_fp, maps_q)) > 0.95


def test_core_default_model_is_int8_on_cpu_and_the_large_float_model_on_cuda():
    from salcrop_filter import _core
    from salcrop_filter.saliency import SaliencyModel

    assert pathlib.Path(_core.default_model_path()).name == "salcrop-int8.onnx"
    # The large float model is installed beside the others (CMakeLists.txt), so CUDA gets it (tests/test_large_model.py).
    assert pathlib.Path(_core.default_model_path(gpu=True)).name == "salcrop-large.onnx"
    assert pathlib.Path(SaliencyModel(device="cpu").path).name == "salcrop-int8.onnx"


def test_int8_model_gives_the_same_maps_without_avx512_vnni(tmp_path, shared_videos):
    # ONNX Runtime's 8-bit kernels differ by CPU: with AVX-512 VNNI (this project's machines) and without (AVX2,
    # where products are summed in 16 bits and full-range weights saturate). valgrind's CPU has no AVX-512, so the
    # same frames run through both paths; the 7-bit weights of quantize.py make them agree.
    import shutil
    import subprocess
    import sys

    valgrind = shutil.which("valgrind")
    assert valgrind, "valgrind is missing (scripts/setup.sh installs it)"
    frames = _model_input(_clip(shared_videos / "chaplin.mp4", 3), *OnnxSaliency(INT8).input_hw)
    np.save(tmp_path / "frames.npy", frames)
    code = (
        "import sys, numpy as np, onnxruntime as ort\n"
        "x = np.load(sys.argv[2]); so = ort.SessionOptions(); so.intra_op_num_threads = 1\n"
        "s = ort.InferenceSession(sys.argv[1], so, providers=['CPUExecutionProvider'])\n"
        "st = np.zeros([1] + s.get_inputs()[2].shape[1:], np.float32)\n"
        "np.save(sys.argv[3], np.stack([s.run(['saliency'], {'frame': f[None], 'prev_frame': f[None], 'state': st})[0]"
        " for f in x]))\n")
    script = tmp_path / "run.py"
    script.write_text(code)
    subprocess.run([sys.executable, script, INT8, tmp_path / "frames.npy", tmp_path / "native.npy"], check=True,
                   timeout=300)
    subprocess.run([valgrind, "--tool=none", "-q", sys.executable, script, INT8, tmp_path / "frames.npy",
                    tmp_path / "avx2.npy"], check=True, timeout=600)
    native, avx2 = np.load(tmp_path / "native.npy"), np.load(tmp_path / "avx2.npy")
    assert min(cc(a[0, 0], b[0, 0]) for a, b in zip(native, avx2)) > 0.999
