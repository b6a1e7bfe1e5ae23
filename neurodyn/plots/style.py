"""One figure style for every neurodyn figure.

Use :func:`apply` (or the :func:`figure` helper) before drawing and :func:`save` to write
PNG + PDF together.  Colour maps: ``SIGNED`` (diverging, centred on 0) for quantities that
can be negative (weights, correlations), ``NONNEG`` (sequential) for non-negative ones
(affinities, rates); ``PALETTE`` is the Okabe–Ito colour-blind-safe categorical palette.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

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


def apply() -> None:
    """Set the project's rcParams."""
    plt.rcParams.update(RC)


def figure(*args, **kwargs):
    """``plt.subplots`` with the project style applied and constrained layout."""
    apply()
    kwargs.setdefault("layout", "constrained")
    return plt.subplots(*args, **kwargs)


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
    for ext in (".png", ".pdf"):
        target = base.with_suffix(ext)
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=ext[1:], bbox_inches="tight")
        written.append(target)
    plt.close(fig)
    return written
