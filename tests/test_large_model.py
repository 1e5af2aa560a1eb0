"""The two model sizes from one training code: the size presets, their checkpoints and exports, and the large
model (models/salcrop-large.onnx, 224x400) through the core, the FFmpeg filter and the CUDA default."""

from __future__ import annotations

import dataclasses
import pathlib
import re
import subprocess

import numpy as np
import onnx
import pytest
import torch

from salcrop_filter.export import export_onnx, parity
from salcrop_filter.training.model import SIZES, ModelConfig, SalCropNet, load_checkpoint
from test_model import _clip  # the first frames of a real clip

REPO = pathlib.Path(__file__).resolve().parents[1]
LARGE = REPO / "models" / "salcrop-large.onnx"
LARGE_CHECKPOINT = REPO / "models" / "salcrop-large.pt"


def _meta(path: pathlib.Path) -> dict[str, str]:
    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


def test_small_preset_is_todays_model_and_large_doubles_the_input():
    assert ModelConfig.preset("small") == ModelConfig() and ModelConfig().size_name == "small"
    large = ModelConfig.preset("large")
    assert (large.input_height, large.input_width, large.map_height, large.map_width) == (224, 400, 28, 50)
    # The camera-shift search keeps its relative range: twice the stride at twice the width.
    assert large.motion_stride == 2 * ModelConfig().motion_stride and large.size_name == "large"
    with pytest.raises(ValueError):
        ModelConfig.preset("huge")
    # One network: the same weights fit both sizes (the large model may start from the small one).
    small_keys = {k: v.shape for k, v in SalCropNet(SIZES["small"]).state_dict().items()}
    assert small_keys == {k: v.shape for k, v in SalCropNet(large).state_dict().items()}


def test_large_preset_round_trips_through_checkpoint_and_export(tmp_path):
    torch.manual_seed(0)
    net = SalCropNet(SIZES["large"]).eval()
    record = {"training_data_sha256": "0" * 64, "trained": "2026-12-02"}
    ckpt = tmp_path / "salcrop.pt"
    # What train.py writes: every config field plus the preset's name.
    torch.save({"state_dict": net.state_dict(), "config": {**net.config.as_dict(), "size": "large"},
                "record": record}, ckpt)
    back, _ = load_checkpoint(ckpt)
    assert back.config == SIZES["large"]
    x = torch.rand(1, 3, 224, 400)
    with torch.no_grad():
        a, _ = net(x, x.flip(-1), net.zero_state(1))
        b, _ = back(x, x.flip(-1), back.zero_state(1))
    assert torch.equal(a, b)
    path = export_onnx(tmp_path / "salcrop-large.onnx", checkpoint=ckpt)
    meta = _meta(path)
    assert (meta["input_height"], meta["input_width"], meta["map_height"], meta["map_width"]) == ("224", "400", "28", "50")
    assert parity(path, back) < 1e-5
    # A checkpoint that claims a preset it is not is refused rather than rebuilt as the wrong network.
    bad = tmp_path / "bad.pt"
    torch.save({"state_dict": net.state_dict(), "config": {**dataclasses.asdict(SIZES["small"]), "size": "large"},
                "record": record}, bad)
    with pytest.raises(ValueError):
        load_checkpoint(bad)


def test_shipped_large_model_matches_its_checkpoint():
    net, record = load_checkpoint(LARGE_CHECKPOINT)
    assert net.config == SIZES["large"]
    meta = _meta(LARGE)
    assert (meta["input_height"], meta["input_width"], meta["map_height"], meta["map_width"]) == ("224", "400", "28", "50")
    assert meta["trained"] == record["trained"] and meta["training_data_sha256"] == record["training_data_sha256"]
    assert "--size large" in record["command"]
    assert LARGE.stat().st_size <= 20 * 1024 * 1024
    rng = np.random.default_rng(3)
    frames = rng.random((3, 3, 224, 400), dtype=np.float32)
    assert parity(LARGE, net, frames) < 1e-5


def test_large_model_runs_through_the_core_with_its_own_sizes(shared_videos: pathlib.Path):
    from salcrop_filter.saliency import SaliencyModel

    sm = SaliencyModel(str(LARGE), device="cpu", threads=1)
    assert sm.input_size == (224, 400) and sm.map_size == (28, 50)
    maps = sm.predict(_clip(shared_videos / "chaplin.mp4", 4))
    assert maps.shape == (4, 28, 50) and (maps >= 0).all()
    np.testing.assert_allclose(maps.sum(axis=(1, 2)), 1.0, atol=1e-3)


def test_cuda_default_prefers_the_large_model_and_the_cpu_keeps_int8():
    from salcrop_filter import _core

    assert pathlib.Path(_core.default_model_path(gpu=True)).name == "salcrop-large.onnx"
    assert pathlib.Path(_core.default_model_path()).name == "salcrop-int8.onnx"


def test_filter_runs_the_large_model_on_the_cpu(ffmpeg: pathlib.Path, shared_videos: pathlib.Path,
                                                tmp_path: pathlib.Path) -> None:
    path_json = tmp_path / "path.json"
    proc = subprocess.run([str(ffmpeg), "-nostdin", "-hide_banner", "-y", "-i", str(shared_videos / "chaplin.mp4"),
                           "-vf", f"salcrop=ratio=9/16:model={LARGE}:device=cpu:path={path_json}",
                           "-frames:v", "24", "-f", "null", "-"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    said = [line for line in proc.stderr.splitlines() if "salcrop" in line and "model" in line]
    # The filter names the model it loaded and the sizes it read from that file's metadata.
    assert any("salcrop-large.onnx" in line and re.search(r"input 400x224, map 50x28", line) for line in said), said
    assert path_json.is_file()
