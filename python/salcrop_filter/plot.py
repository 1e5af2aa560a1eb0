"""A picture of a crop path: where the window went, shot by shot (matplotlib, Agg, no display needed)."""

from __future__ import annotations

import os

from .croppath import CropPath

__all__ = ["plot_path", "MODE_COLOURS"]

MODE_COLOURS = {"stationary": "#4c72b0", "pan": "#dd8452", "track": "#55a868", "ease": "#c44e52", "cut": "#8172b3"}


def plot_path(path: CropPath, dst: str | os.PathLike[str], *, title: str | None = None,
              size: tuple[float, float] = (12.0, 6.0), dpi: int = 100) -> None:
    """Plot the window's horizontal and vertical extent over time to an image file (PNG, SVG, PDF...).

    Two panels (x over the source width, y over the source height): the window as a band with its centre
    line, dashed lines at shot boundaries, and each segment (version 2: stationary, pan, ease) shaded in its
    mode's colour; a version 1 path without segments shades each shot in its mode's colour.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import Patch
    except ImportError:
        raise RuntimeError("plotting needs matplotlib: pip install matplotlib") from None

    t = [f.t for f in path.frames]
    # A figure without pyplot: no global state, no GUI backend, safe in threads and servers.
    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 1, sharex=True)
    end_t = t[-1] + 1.0 / path.source.fps
    # What is shaded: the segments where the path has them, else the shots.
    spans = [(g.start, g.end, g.mode) for shot in path.shots for g in shot.segments] or \
        [(shot.start, shot.end, shot.mode) for shot in path.shots]

    def at(frame: int) -> float:
        return path.frames[frame].t if frame < len(path.frames) else end_t
    for ax, lo, ext, limit, name in (
        (axes[0], [f.x for f in path.frames], [f.w for f in path.frames], path.source.width, "x (px)"),
        (axes[1], [f.y for f in path.frames], [f.h for f in path.frames], path.source.height, "y (px)"),
    ):
        for start, end, mode in spans:
            ax.axvspan(at(start), at(end), color=MODE_COLOURS.get(mode, "#999999"), alpha=0.18, lw=0)
        for shot in path.shots[1:]:
            ax.axvline(at(shot.start), color="#333333", ls="--", lw=0.8)
        hi = [a + b for a, b in zip(lo, ext)]
        ax.fill_between(t, lo, hi, color="#222222", alpha=0.25, step="post", lw=0)
        ax.plot(t, [(a + b) / 2 for a, b in zip(lo, hi)], color="#111111", lw=1.4)
        ax.set_ylim(limit, 0)  # image coordinates: 0 at the top/left edge, drawn at the top
        ax.set_xlim(t[0], end_t)
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    axes[1].set_xlabel("time (s)")
    used = [m for m in MODE_COLOURS if any(mode == m for _, _, mode in spans)]
    axes[0].legend(handles=[Patch(color=MODE_COLOURS[m], alpha=0.4, label=m) for m in used]
                   + [Patch(color="#222222", alpha=0.25, label="window")], loc="upper right", fontsize=8)
    src = path.source
    axes[0].set_title(title or f"crop path {path.ratio} of a {src.width}x{src.height} source, "
                                f"{len(path.frames)} frames, {len(path.shots)} shot(s)")
    fig.tight_layout()
    fig.savefig(os.fspath(dst))
