"""Eye-tracking data sets (OSIE, NUS-Scene): loaders, the fixed held-out split and a resized cache.

Both sets hold still images with real human fixations (see ``/work/shared/data/SOURCES.md``). The loaders
check the layout of each ``.mat`` file and the range of every fixation and raise on anything unexpected, because a
silent x/y swap or an off-by-one in a coordinate convention would train a model on wrong targets without any error.

Coordinates used everywhere in this package are continuous pixel coordinates: ``(0, 0)`` is the top-left corner of
the top-left pixel, ``(W, H)`` the bottom-right corner of the image.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pathlib

import numpy as np
import scipy.io
from scipy.ndimage import gaussian_filter

#: Images are cached with their longer side at most this many pixels (OSIE's 800x600 becomes 320x240).
CACHE_MAX_SIDE = 320
#: Dense fixation maps: Gaussian sigma as a fraction of the image width (about one degree of visual angle).
SIGMA_FRACTION = 0.035
#: The held-out split: this many images per data set, picked by a seeded hash of their names.
HELD_OUT = {"osie": 100, "nus-scene": 70}
SPLIT_SEED = "salcrop-split-v1"
CACHE_VERSION = 1


@dataclasses.dataclass
class Stimulus:
    """One image with its fixations, in the resolution it is stored at."""

    dataset: str
    name: str
    image: np.ndarray  # uint8 [H, W, 3] RGB
    points: np.ndarray  # float32 [K, 2] (x, y) continuous pixel coordinates

    @property
    def key(self) -> str:
        """``dataset/name``, the identity used by the split."""
        return f"{self.dataset}/{self.name}"


def data_root() -> pathlib.Path:
    """The eye-tracking data folder: ``$SALCROP_DATA`` or ``../shared/data`` beside the repository."""
    env = os.environ.get("SALCROP_DATA")
    if env:
        return pathlib.Path(env)
    return repo_root().parent / "shared" / "data"


def _is_checkout(path: pathlib.Path) -> bool:
    return (path / "pyproject.toml").is_file() and (path / "python" / "salcrop_filter").is_dir()


def repo_root() -> pathlib.Path:
    """The source checkout the developer tools (training, evaluation, export) work in.

    The package's own folder when it runs from ``python/`` in a checkout; for the copy installed in ``.venv`` (which
    lies nowhere near the data), the current directory when it is the checkout. Falls back to the package's grandparent.
    """
    here = pathlib.Path(__file__).resolve().parents[3]
    if _is_checkout(here):
        return here
    cwd = pathlib.Path.cwd()
    return cwd if _is_checkout(cwd) else here


def _image_size(path: pathlib.Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as im:
        return im.size


def _check_points(key: str, pts: np.ndarray, width: int, height: int) -> np.ndarray:
    """MATLAB pixel indices (1-based, centre of pixel i at i) -> continuous coordinates; raise if out of the image."""
    if pts.ndim != 2 or pts.shape[1] != 2 or not np.all(np.isfinite(pts)):
        raise ValueError(f"{key}: fixations must be a finite [K, 2] array, got shape {pts.shape}")
    # A fixation inside the image lies in [0.5, W + 0.5] in 1-based pixel units.
    bad = (pts[:, 0] < 0) | (pts[:, 0] > width + 1) | (pts[:, 1] < 0) | (pts[:, 1] > height + 1)
    if bad.any():
        raise ValueError(f"{key}: {int(bad.sum())} of {len(pts)} fixations lie outside the {width}x{height} image "
                         f"(first: {pts[bad][0]}); coordinate layout not as expected")
    cont = pts - 0.5
    cont[:, 0] = np.clip(cont[:, 0], 0.0, width - 1e-3)
    cont[:, 1] = np.clip(cont[:, 1], 0.0, height - 1e-3)
    return cont.astype(np.float32)


def load_osie(root: pathlib.Path) -> list[tuple[str, pathlib.Path, np.ndarray]]:
    """OSIE: 700 images; ``fixations`` is a 700x1 cell of structs {img, subjects{fix_x, fix_y, fix_duration}}."""
    mat = scipy.io.loadmat(root / "osie" / "data" / "eye" / "fixations.mat")
    fix = mat.get("fixations")
    if fix is None or fix.shape != (700, 1) or fix.dtype != object:
        raise ValueError(f"OSIE fixations.mat: expected a 700x1 cell 'fixations', got {getattr(fix, 'shape', None)}")
    out = []
    for i in range(fix.shape[0]):
        rec = fix[i, 0]
        if rec.dtype.names != ("img", "subjects"):
            raise ValueError(f"OSIE record {i}: fields {rec.dtype.names}, expected ('img', 'subjects')")
        rec = rec[0, 0]
        name = str(rec["img"][0])
        path = root / "osie" / "data" / "stimuli" / name
        width, height = _image_size(path)
        if (width, height) != (800, 600):
            raise ValueError(f"OSIE {name}: size {width}x{height}, expected 800x600")
        pts = []
        for subj in rec["subjects"].ravel():
            s = subj[0, 0]
            x = np.ravel(s["fix_x"]).astype(np.float64)
            y = np.ravel(s["fix_y"]).astype(np.float64)
            if x.shape != y.shape:
                raise ValueError(f"OSIE {name}: fix_x and fix_y differ in length")
            pts.append(np.stack([x, y], 1))
        pts = np.concatenate(pts, 0)
        if len(pts) == 0:
            raise ValueError(f"OSIE {name}: no fixations")
        out.append((name, path, _check_points(f"osie/{name}", pts, width, height)))
    return out


def load_nus_scene(root: pathlib.Path) -> list[tuple[str, pathlib.Path, np.ndarray]]:
    """NUS-Scene: 500 images of varied sizes; ``fixations`` is a 500x12 cell (image x subject) of [row col t dur].

    The first column is the row (y) and the second the column (x): with (x, y) order about 7 % of the fixations fall
    outside their images, with (y, x) none do. Images are in file-name order.
    """
    mat = scipy.io.loadmat(root / "nus-scene" / "data" / "tidy" / "fixations.mat")
    fix = mat.get("fixations")
    if fix is None or fix.ndim != 2 or fix.shape[0] != 500 or fix.dtype != object:
        raise ValueError(f"NUS-Scene fixations.mat: expected a 500xS cell 'fixations', got {getattr(fix, 'shape', None)}")
    stim = root / "nus-scene" / "data" / "stimuli"
    names = sorted(p.name for p in stim.glob("*.jpg"))
    if names != [f"{i:03d}.jpg" for i in range(1, 501)]:
        raise ValueError("NUS-Scene stimuli: expected 001.jpg .. 500.jpg")
    out = []
    for i, name in enumerate(names):
        cells = [c for c in fix[i] if c.size]
        if not cells:
            raise ValueError(f"NUS-Scene {name}: no fixations")
        for c in cells:
            if c.ndim != 2 or c.shape[1] != 4:
                raise ValueError(f"NUS-Scene {name}: a subject's cell has shape {c.shape}, expected [K, 4]")
        rc = np.concatenate(cells, 0)[:, :2].astype(np.float64)
        width, height = _image_size(stim / name)
        pts = rc[:, ::-1].copy()  # (row, col) -> (x, y)
        out.append((name, stim / name, _check_points(f"nus-scene/{name}", pts, width, height)))
    return out


def data_files(root: pathlib.Path) -> list[pathlib.Path]:
    """Every file the training data consists of: stimuli and fixation files of both sets."""
    files = [root / "osie" / "data" / "eye" / "fixations.mat", root / "nus-scene" / "data" / "tidy" / "fixations.mat"]
    files += sorted((root / "osie" / "data" / "stimuli").glob("*.jpg"))
    files += sorted((root / "nus-scene" / "data" / "stimuli").glob("*.jpg"))
    return files


def data_sha256(root: pathlib.Path | None = None) -> str:
    """sha256 over the relative path and sha256 of each data file (the training record's data identity)."""
    root = data_root() if root is None else root
    h = hashlib.sha256()
    for f in data_files(root):
        h.update(str(f.relative_to(root)).encode() + b"\0" + hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def held_out_keys() -> dict[str, list[str]]:
    """The fixed held-out split: per data set, the names with the smallest seeded sha256 (no data needed)."""
    names = {"osie": None, "nus-scene": [f"{i:03d}.jpg" for i in range(1, 501)]}
    # OSIE's names are 1001.jpg .. 1700.jpg (checked by the loader through the .mat file).
    names["osie"] = [f"{i}.jpg" for i in range(1001, 1701)]
    split = {}
    for ds, count in HELD_OUT.items():
        ranked = sorted(names[ds], key=lambda n: hashlib.sha256(f"{SPLIT_SEED}:{ds}/{n}".encode()).hexdigest())
        split[ds] = sorted(ranked[:count])
    return split


def write_split(path: pathlib.Path) -> None:
    """Write the held-out split with the rule that produced it."""
    doc = {"rule": f"per data set, the names with the smallest sha256('{SPLIT_SEED}:<dataset>/<name>')",
           "counts": HELD_OUT, "held_out": held_out_keys()}
    path.write_text(json.dumps(doc, indent=1) + "\n")


def _resize(path: pathlib.Path, max_side: int) -> tuple[np.ndarray, float, float]:
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")
        w, h = im.size
        s = min(1.0, max_side / max(w, h))
        nw, nh = max(1, round(w * s)), max(1, round(h * s))
        if (nw, nh) != (w, h):
            im = im.resize((nw, nh), Image.Resampling.LANCZOS)
        return np.asarray(im, dtype=np.uint8).copy(), nw / w, nh / h


def dense_map(points: np.ndarray, height: int, width: int, sigma_fraction: float = SIGMA_FRACTION) -> np.ndarray:
    """Fixation density: one count per fixation, Gaussian blur of sigma ``sigma_fraction * width``, sum 1."""
    m = fixation_map(points, height, width).astype(np.float64)
    m = gaussian_filter(m, sigma_fraction * width, mode="constant")
    return (m / max(m.sum(), 1e-12)).astype(np.float32)


def fixation_map(points: np.ndarray, height: int, width: int) -> np.ndarray:
    """Counts of fixations per pixel (continuous coordinates floored to pixel indices)."""
    m = np.zeros((height, width), np.float32)
    xi = np.clip(np.floor(points[:, 0]).astype(int), 0, width - 1)
    yi = np.clip(np.floor(points[:, 1]).astype(int), 0, height - 1)
    np.add.at(m, (yi, xi), 1.0)
    return m


def cache_dir() -> pathlib.Path:
    """``$SALCROP_DATA_CACHE`` or the git-ignored ``.cache/saliency-data`` in the repository."""
    env = os.environ.get("SALCROP_DATA_CACHE")
    return pathlib.Path(env) if env else repo_root() / ".cache" / "saliency-data"


def load_all(root: pathlib.Path | None = None, cache: pathlib.Path | None = None) -> list[Stimulus]:
    """All stimuli of both sets, resized to at most ``CACHE_MAX_SIDE``; built once into an .npz cache."""
    root = data_root() if root is None else root
    cache = cache_dir() if cache is None else cache
    file = cache / f"stimuli-v{CACHE_VERSION}-{CACHE_MAX_SIDE}.npz"
    if not file.exists():
        cache.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        for ds, items in (("osie", load_osie(root)), ("nus-scene", load_nus_scene(root))):
            for name, path, pts in items:
                img, sx, sy = _resize(path, CACHE_MAX_SIDE)
                arrays[f"{ds}|{name}|image"] = img
                arrays[f"{ds}|{name}|points"] = (pts * np.array([sx, sy], np.float32)).astype(np.float32)
        tmp = file.with_suffix(".tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(file)
    out = []
    with np.load(file) as z:
        for key in z.files:
            ds, name, kind = key.split("|")
            if kind == "image":
                out.append(Stimulus(ds, name, z[key], z[f"{ds}|{name}|points"]))
    if len(out) != 1200:
        raise ValueError(f"{file}: {len(out)} stimuli, expected 1200; delete the cache to rebuild it")
    return sorted(out, key=lambda s: s.key)


def split(stimuli: list[Stimulus]) -> tuple[list[Stimulus], list[Stimulus]]:
    """(training, held-out) according to :func:`held_out_keys`."""
    held = {f"{ds}/{n}" for ds, names in held_out_keys().items() for n in names}
    train = [s for s in stimuli if s.key not in held]
    test = [s for s in stimuli if s.key in held]
    if len(test) != sum(HELD_OUT.values()):
        raise ValueError(f"held-out split matched {len(test)} stimuli, expected {sum(HELD_OUT.values())}")
    return train, test
