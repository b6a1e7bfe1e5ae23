"""One figure style for every neurodyn figure.

Figures are explicit :class:`matplotlib.figure.Figure` objects, never pyplot's global
figures, and the style is applied through :func:`matplotlib.rc_context` only while a
figure is drawn: importing or using :mod:`neurodyn.plots` changes neither the user's
backend nor their rcParams, so inline plotting in notebooks keeps working (a returned
Figure displays itself in Jupyter).

Draw with :func:`figure` (a styled ``Figure`` and its axes) inside a function decorated
with :func:`styled`, and write PNG + PDF together with :func:`save`.  Colour maps:
``SIGNED`` (diverging, centred on 0) for quantities that can be negative (weights,
correlations), ``NONNEG`` (sequential) for non-negative ones (affinities, rates);
``PALETTE`` is the Okabe–Ito colour-blind-safe categorical palette.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

SIGNED = "RdBu_r"
NONNEG = "viridis"
# Okabe & Ito (2008), "Color Universal Design".
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]

RC = {
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "figure.dpi": 110,
    "savefig.dpi": 200,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "image.cmap": NONNEG,
    "pdf.fonttype": 42,
    "svg.fonttype": "none",
}


def styled(draw):
    """Decorator: run a drawing function with the project's rcParams, restoring them after."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(RC):
            return draw(*args, **kwargs)

    return wrapper


def figure(*args, figsize=None, layout="constrained", **kwargs):
    """A new ``Figure`` (not registered with pyplot) and its ``subplots(*args, **kwargs)``.

    Returns ``(fig, axes)`` as pyplot's ``subplots`` does; the axes are created with the project's
    rcParams (call it inside a :func:`styled` function so that text drawn later is too).
    """
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=figsize, layout=layout)
        return fig, fig.subplots(*args, **kwargs)


def signed_limits(values) -> dict:
    """``vmin``/``vmax`` symmetric around 0 for a signed colour map."""
    import numpy as np

    m = float(np.nanmax(np.abs(values))) if np.size(values) else 1.0
    m = m if m > 0 else 1.0
    return {"vmin": -m, "vmax": m, "cmap": SIGNED}


def save(fig, path: str | os.PathLike) -> list[Path]:
    """Save ``fig`` as PNG and PDF (``path`` with either suffix, or none), atomically.

    Returns the two written paths.
    """
    from neurodyn.io import atomic_path

    base = Path(path)
    if base.suffix.lower() in {".png", ".pdf"}:
        base = base.with_suffix("")
    written = []
    with matplotlib.rc_context(RC):
        for ext in (".png", ".pdf"):
            target = base.with_suffix(ext)
            with atomic_path(target) as tmp:
                fig.savefig(tmp, format=ext[1:], bbox_inches="tight")
            written.append(target)
    return written
