"""Figure creation and saving (matplotlib imported only here, on use)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable


def new_axes(ax=None, *, figsize=(7.5, 5.0)):
    """Return ``ax`` or the axes of a new pyplot-free Figure.

    A bare ``matplotlib.figure.Figure`` needs no GUI backend and leaves no
    global state behind, so plotting works the same in scripts, tests and
    worker processes.
    """
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig.add_subplot()


def save_figure(fig, path_without_suffix, *, dpi: int = 150,
                formats: Iterable[str] = ("png", "pdf")) -> list[Path]:
    """Write ``fig`` as ``<path>.png`` and ``<path>.pdf`` (parents created).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure (``ax.figure`` for an axes returned by the plot functions).
    path_without_suffix : str or path-like
        Target path without extension, e.g. ``"out/up_plane"``.
    dpi : int, keyword-only
        Resolution of raster formats.
    formats : iterable of str, keyword-only
        File types to write.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    base = Path(path_without_suffix)
    if base.suffix.lower() in {".png", ".pdf", ".svg"}:
        raise ValueError(f"path_without_suffix must not end in a file type; got {str(base)!r}. "
                         f"Pass {str(base.with_suffix(''))!r}: both .png and .pdf are written.")
    base.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = base.with_name(f"{base.name}.{fmt}")
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
        written.append(path)
    return written
