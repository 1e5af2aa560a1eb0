"""What issue 27 (stops 31 and 32) changed in salcrop's per-frame and start-up cost must not change what is computed.

The shot detector's thumbnail (every frame's one pass over the source) has vectorised box sums, HSV and colour
conversion (AVX2 where the CPU has it); the portable loops are the reference, and the thumbnail, which decides the
shots and the network's sampling, must equal theirs bit for bit on real frames, also when it is summed from the
finer box sums of stop 32 (Thumbnailer keep_sums). Those sums could give the network its input without a second
pass over the frame: close to the direct resampling, not equal
(test_model_input_from_the_thumbnail_sums_is_close_to_the_direct_one); the engine does not use them, as the crop
paths they gave lost up to 1.9 points on hevc-gaze clips (BENCHMARKS.md). ONNX Runtime's usage telemetry is off: a
run writes nothing into the user's home.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

from salcrop_filter import _core


def yuv_frames(path: Path, every: int, limit: int, size: tuple[int, int] | None = None):
    """(y, u, v, full_range, colorspace) of every `every`-th of the first `limit` frames, optionally scaled."""
    out = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for i, frame in enumerate(container.decode(stream)):
            if i >= limit:
                break
            if i % every:
                continue
            if size is not None:
                frame = frame.reformat(width=size[0], height=size[1], format="yuv420p")
            planes = frame.to_ndarray(format="yuv420p")
            h, w = frame.height, frame.width
            ch, cw = (h + 1) // 2, (w + 1) // 2
            y = planes[:h]
            uv = planes[h:].reshape(-1)
            u = uv[: ch * cw].reshape(ch, cw)
            v = uv[ch * cw: 2 * ch * cw].reshape(ch, cw)
            out.append((np.ascontiguousarray(y), u.copy(), v.copy()))
    return out


@pytest.mark.parametrize(
    ("clip", "size", "every"),
    [
        ("testvideo.mp4", None, 7),           # 1280x720: box factors 8 (Y) and 4 (chroma), finer sums of 4 and 2
        ("bikes.mp4", None, 7),               # its own size
        ("basketball.mp4", (1920, 1080), 7),  # factors 12 and 6 (finer 6 and 3): vertical pass vectorised
        ("testvideo.mp4", (3840, 2160), 40),  # factors 24 and 12
        ("testvideo.mp4", (640, 360), 7),     # factors 4 and 2 (finer 2 and 1)
        ("testvideo.mp4", (320, 180), 7),     # factors 2 and 1 (1: the face detector's chroma at 720p)
        ("testvideo.mp4", (1000, 562), 7),    # not whole pixels: the weighted resampler for both
    ],
)
def test_thumbnail_equals_the_portable_loops_bit_for_bit(shared_videos: Path, clip: str, size, every: int) -> None:
    frames = yuv_frames(shared_videos / clip, every=every, limit=120, size=size)
    assert len(frames) >= 3
    for full_range, colorspace in ((False, -1), (True, 0)):
        for y, u, v in frames:
            ref, ref_mean = _core.thumbnail_yuv420p(y, u, v, full_range, colorspace, portable=True)
            for keep_sums in (False, True):
                fast, fast_mean = _core.thumbnail_yuv420p(y, u, v, full_range, colorspace, keep_sums=keep_sums)
                assert fast.shape == ref.shape == (3, *_thumb_shape(y.shape))
                # Bits, not values: the detector's sums and thresholds see exactly the same numbers.
                assert fast.tobytes() == ref.tobytes()
                assert fast_mean == ref_mean
            assert 0 <= ref[0].min() and ref[0].max() <= 180 and ref[2].max() <= 255


def _thumb_shape(yshape: tuple[int, int]) -> tuple[int, int]:
    h, w = yshape
    tw = min(w, 160)
    return max(1, round(h * tw / w)), tw


def test_thumbnail_of_synthetic_extremes_equals_the_portable_loops() -> None:
    """Greys, saturated primaries, near-black and ties between channels (the HSV conversion's edge cases)."""
    rng = np.random.default_rng(27)
    h, w = 720, 1280
    y = rng.integers(0, 256, (h, w), dtype=np.uint8)
    u = rng.integers(0, 256, (h // 2, w // 2), dtype=np.uint8)
    v = rng.integers(0, 256, (h // 2, w // 2), dtype=np.uint8)
    y[:, :320] = 0            # black: no hue, no saturation
    u[:, :160] = v[:, :160] = 128
    y[:, 320:640] = 200       # grey: channels tie
    u[:, 160:320] = v[:, 160:320] = 128
    u[:, 320:400] = 255       # saturated, clipped channels
    v[:, 400:480] = 0
    for full_range in (False, True):
        fast, fast_mean = _core.thumbnail_yuv420p(y, u, v, full_range)
        ref, ref_mean = _core.thumbnail_yuv420p(y, u, v, full_range, portable=True)
        assert fast.tobytes() == ref.tobytes()
        assert fast_mean == ref_mean
    assert ref[2, :, :40].max() < 1  # the black strip is black (its hue and saturation are rounding noise)


@pytest.mark.parametrize(
    ("clip", "size", "fine"),
    [
        ("testvideo.mp4", None, True),            # 1280x720: finer sums 320x180
        ("basketball.mp4", (1920, 1080), True),
        ("testvideo.mp4", (3840, 2160), True),
        ("testvideo.mp4", (832, 480), False),     # thumbnail 160x92: not whole pixels, the picture is resampled
        ("testvideo.mp4", (1000, 562), False),
    ],
)
def test_model_input_from_the_thumbnail_sums_is_close_to_the_direct_one(shared_videos: Path, clip: str, size,
                                                                         fine: bool) -> None:
    """The network's 200x112 input from the thumbnail's finer sums (an area average of 4x4 or 6x6 box sums)
    against the engine's, the area average of the picture itself: the same picture, softer at sharp edges. Measured
    on these frames (stop 32): 0.76-0.88 grey levels mean absolute difference, 28-31 at most (a one-pixel line's
    weight spread over a four-pixel box)."""
    frames = yuv_frames(shared_videos / clip, every=15, limit=120, size=size)
    assert len(frames) >= 3
    means = []
    for y, u, v in frames:
        got, used = _core.model_input_yuv420p(y, u, v, 200, 112)
        ref, direct = _core.model_input_yuv420p(y, u, v, 200, 112, from_thumbnail=False)
        assert used == fine and not direct
        assert got.shape == ref.shape == (3, 112, 200)
        diff = np.abs(got - ref) * 255
        assert diff.max() < (45 if fine else 1e-9), diff.max()
        assert 0 <= got.min() and got.max() <= 1
        means.append(diff.mean())
    if fine:  # not the same computation (a flat first frame differs by float rounding only)
        assert 0.05 < max(means) and np.mean(means) < 1.5, means


def test_model_input_of_a_flat_picture_is_the_direct_one() -> None:
    """Where the picture is flat the finer sums' average is the picture's: no offset, no colour shift."""
    h, w = 720, 1280
    for yv, uv, vv in ((16, 128, 128), (235, 128, 128), (90, 60, 200)):
        y = np.full((h, w), yv, dtype=np.uint8)
        u = np.full((h // 2, w // 2), uv, dtype=np.uint8)
        v = np.full((h // 2, w // 2), vv, dtype=np.uint8)
        got, used = _core.model_input_yuv420p(y, u, v, 200, 112)
        ref, _ = _core.model_input_yuv420p(y, u, v, 200, 112, from_thumbnail=False)
        assert used
        np.testing.assert_allclose(got, ref, atol=1e-5)


def test_onnx_runtime_telemetry_stays_off(ffmpeg: Path, tmp_path: Path) -> None:
    """ONNX Runtime 1.32 on Linux would open and grow ~/.cache/Microsoft/DeveloperTools/.onnxruntime/onnxruntime.db
    on every run; salcrop turns that off unless the user set ORT_DISABLE_TELEMETRY."""
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env["HOME"] = str(tmp_path)
    env["XDG_CACHE_HOME"] = str(tmp_path / ".cache")
    run = subprocess.run([str(ffmpeg), "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                          "testsrc2=s=320x180:d=0.2", "-vf", "salcrop=ratio=9/16", "-f", "null", "-"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    written = [str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")]
    assert not any("onnxruntime" in p or "Microsoft" in p for p in written), written


MODELS = Path(__file__).resolve().parents[1] / "models"


@pytest.mark.parametrize("name", sorted(p.name for p in MODELS.glob("*.onnx")))
def test_model_metadata_read_without_onnx_runtime_is_the_files(name: str) -> None:
    """Stop 37: the engine knows the model's sizes from the file's metadata_props, read by the core's own protobuf
    walk, and builds the ONNX Runtime session on a thread meanwhile. What it reads must be what onnx reads."""
    import onnx

    path = MODELS / name
    want = {e.key: e.value for e in onnx.load(str(path), load_external_data=False).metadata_props}
    assert _core.onnx_metadata(str(path)) == want


def test_model_metadata_of_a_file_that_is_not_a_model_is_none(tmp_path: Path) -> None:
    """Random bytes, a truncated model (cut inside the graph and inside the metadata), an empty file, a missing
    one, and a well-formed ModelProto without a graph: None, and the session built at once says what is wrong."""
    import random

    import onnx

    whole = (MODELS / "salcrop-int8.onnx").read_bytes()
    cases = {"random": random.Random(0).randbytes(4096), "empty": b"", "cut-graph": whole[: len(whole) // 2],
             "cut-metadata": whole[:-5], "no-graph": onnx.ModelProto(ir_version=8).SerializeToString()}
    for name, data in cases.items():
        path = tmp_path / f"{name}.onnx"
        path.write_bytes(data)
        assert _core.onnx_metadata(str(path)) is None, name
    assert _core.onnx_metadata(str(tmp_path / "missing.onnx")) is None
