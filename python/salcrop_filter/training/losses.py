"""The losses a saliency map is trained with: against fixations (stills, gaze clips) and against the teacher's maps.

Below both :mod:`.train` (images, virtual camera) and :mod:`.video_train` (video, distillation), so neither imports
the other's internals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from .virtual_camera import View

NSS_WEIGHT = 0.1
EPS = 1e-8
#: Targets are built at this multiple of the map resolution, blurred, then averaged down (less quantisation).
TARGET_OVERSAMPLE = 4


def _gaussian_kernel(sigma: float) -> torch.Tensor:
    r = max(1, int(3 * sigma + 0.5))
    x = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def targets(views: list[View], map_hw: tuple[int, int], frame_hw: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Dense target maps [N,h,w] (sum 1, zero where a view shows no fixation) and fixation counts [N,h,w]."""
    h, w = map_hw
    oh, ow = h * TARGET_OVERSAMPLE, w * TARGET_OVERSAMPLE
    dense = torch.zeros(len(views), h, w)
    counts = torch.zeros(len(views), h, w)
    for i, v in enumerate(views):
        if len(v.points) == 0:
            continue
        p = torch.from_numpy(v.points)
        for grid, gh, gw in ((counts, h, w), (None, oh, ow)):
            xi = (p[:, 0] * gw / frame_hw[1]).long().clamp(0, gw - 1)
            yi = (p[:, 1] * gh / frame_hw[0]).long().clamp(0, gh - 1)
            m = torch.zeros(gh * gw).index_add_(0, yi * gw + xi, torch.ones(len(p))).view(1, 1, gh, gw)
            if grid is not None:
                grid[i] = m[0, 0]
                continue
            k = _gaussian_kernel(v.sigma * gw / frame_hw[1])
            m = F.conv2d(m, k.view(1, 1, 1, -1), padding=(0, len(k) // 2))
            m = F.conv2d(m, k.view(1, 1, -1, 1), padding=(len(k) // 2, 0))
            m = F.avg_pool2d(m, TARGET_OVERSAMPLE)[0, 0]
            dense[i] = m / m.sum().clamp_min(EPS)
    return dense, counts


def saliency_loss(pred: torch.Tensor, dense: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Mean over the views that show fixations of KLD + (1 - CC) - NSS_WEIGHT * NSS."""
    p = pred.flatten(1)
    q = dense.flatten(1)
    c = counts.flatten(1)
    valid = c.sum(1) > 0
    if not valid.any():
        return pred.sum() * 0
    p, q, c = p[valid], q[valid], c[valid]
    kld = (q * torch.log(EPS + q / (p + EPS))).sum(1)
    pc, qc = p - p.mean(1, keepdim=True), q - q.mean(1, keepdim=True)
    cc = (pc * qc).sum(1) / (pc.norm(dim=1) * qc.norm(dim=1) + EPS)
    z = pc / (p.std(1, keepdim=True) + EPS)
    nss = (z * c).sum(1) / c.sum(1)
    return (kld + (1 - cc) - NSS_WEIGHT * nss).mean()


def distill_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """KLD(target || pred) + (1 - CC) over the maps whose target is not empty ([N,h,w] each)."""
    p, q = pred.flatten(1), target.flatten(1)
    valid = q.sum(1) > 0
    if not valid.any():
        return pred.sum() * 0
    p, q = p[valid], q[valid]
    kld = (q * torch.log(EPS + q / (p + EPS))).sum(1)
    pc, qc = p - p.mean(1, keepdim=True), q - q.mean(1, keepdim=True)
    c = (pc * qc).sum(1) / (pc.norm(dim=1) * qc.norm(dim=1) + EPS)
    return (kld + 1 - c).mean()
