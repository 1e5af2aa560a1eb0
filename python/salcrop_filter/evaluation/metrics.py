"""Saliency metrics with the MIT saliency benchmark's definitions (Bylinskii et al., "What do different evaluation
metrics tell us about saliency models?", TPAMI 2019).

``sal`` is a predicted map, ``dense`` a ground-truth fixation density of the same shape, ``fix`` a map of fixation
counts (non-zero where someone fixated). Every function returns a float; higher is better except KLD.
"""

from __future__ import annotations

import numpy as np

#: MATLAB's eps, as the benchmark code uses for KLD.
_EPS = 2.220446049250313e-16


def _normalise(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    return (x - x.mean()) / (x.std() + 1e-12)


def cc(sal: np.ndarray, dense: np.ndarray) -> float:
    """Pearson linear correlation coefficient between the two maps."""
    a, b = _normalise(sal), _normalise(dense)
    return float((a * b).mean())


def nss(sal: np.ndarray, fix: np.ndarray) -> float:
    """Normalised scanpath saliency: mean of the standardised map at the fixated pixels (each fixation counted)."""
    z = _normalise(sal)
    w = fix.astype(np.float64)
    return float((z * w).sum() / w.sum())


def sim(sal: np.ndarray, dense: np.ndarray) -> float:
    """Similarity (histogram intersection) of the two maps, each scaled to sum 1."""
    a = sal.astype(np.float64) - sal.min()
    b = dense.astype(np.float64) - dense.min()
    a /= a.sum() + 1e-12
    b /= b.sum() + 1e-12
    return float(np.minimum(a, b).sum())


def kld(sal: np.ndarray, dense: np.ndarray) -> float:
    """KL divergence of the prediction from the ground truth (both scaled to sum 1); lower is better."""
    p = sal.astype(np.float64) / (sal.sum() + _EPS)
    q = dense.astype(np.float64) / (dense.sum() + _EPS)
    return float((q * np.log(_EPS + q / (p + _EPS))).sum())


def auc_judd(sal: np.ndarray, fix: np.ndarray, jitter: bool = True, seed: int = 0) -> float:
    """AUC-Judd: thresholds at the saliency of each fixated pixel; TP = fixated pixels above, FP = other pixels above.

    As in the benchmark code, a tiny jitter breaks ties so that flat maps (a constant prediction) score 0.5.
    """
    s = sal.astype(np.float64).ravel()
    if jitter:
        s = s + np.random.default_rng(seed).random(s.shape) * 1e-7
    s = (s - s.min()) / (s.max() - s.min() + 1e-12)
    f = fix.ravel() > 0
    n_fix, n_pix = int(f.sum()), s.size
    if n_fix == 0:
        raise ValueError("auc_judd: no fixations")
    thresholds = np.sort(s[f])[::-1]
    all_sorted = np.sort(s)[::-1]
    # Number of pixels with saliency >= each threshold, by binary search in the descending order.
    above = np.searchsorted(-all_sorted, -thresholds, side="right")
    tp = np.concatenate([[0.0], np.arange(1, n_fix + 1) / n_fix, [1.0]])
    fp = np.concatenate([[0.0], (above - np.arange(1, n_fix + 1)) / (n_pix - n_fix), [1.0]])
    return float(np.trapezoid(tp, fp))


METRICS = ("CC", "NSS", "SIM", "AUC-Judd", "KLD")


def all_metrics(sal: np.ndarray, dense: np.ndarray, fix: np.ndarray) -> dict[str, float]:
    """The five metrics of one map, keyed as in :data:`METRICS`."""
    return {"CC": cc(sal, dense), "NSS": nss(sal, fix), "SIM": sim(sal, dense),
            "AUC-Judd": auc_judd(sal, fix), "KLD": kld(sal, dense)}
