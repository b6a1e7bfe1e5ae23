"""Figures of the rich vs. lazy learning experiments (Liu et al., ICLR 2024).

Every function takes a saved result (``xarray.Dataset`` from
:mod:`neurodyn.circuits.rich_lazy` or :mod:`neurodyn.circuits.linear_theory`) and returns
a matplotlib figure; :data:`PLOTS` maps figure names to them.
"""

from __future__ import annotations

import numpy as np

from neurodyn.plots.style import PALETTE, figure, styled

REGIME_PANELS = (
    ("weight_change", "weight change ‖ΔW_h‖_F / ‖W_h(0)‖_F"),
    ("representation_alignment", "representation alignment (RA)"),
    ("kernel_alignment", "tangent-kernel alignment (KA)"),
    ("final_accuracy", "final accuracy (decision step)"),
)


def _mean_sd(da, dim: str = "replicate"):
    mean = da.mean(dim)
    sd = da.std(dim, ddof=1) if da.sizes.get(dim, 1) > 1 else mean * 0
    return mean.values, sd.values


@styled
def plot_rank_sweep(ds):
    """Weight change, RA, KA and accuracy vs. rank of ``W_h(0)``, one line per task.

    Error bars: s.d. over seeds.  Rich = low RA/KA, lazy = RA/KA near 1.
    """
    fig, axes = figure(1, len(REGIME_PANELS), figsize=(3.0 * len(REGIME_PANELS), 2.6))
    ranks = ds["rank"].values
    norms = [str(v) for v in ds["normalisation"].values] if "normalisation" in ds.dims else [None]
    for ax, (name, label) in zip(axes, REGIME_PANELS):
        for i, task in enumerate(ds["task"].values):
            for j, norm in enumerate(norms):
                da = ds[name].sel(task=task) if norm is None else ds[name].sel(task=task, normalisation=norm)
                mean, sd = _mean_sd(da)
                ax.errorbar(ranks, mean, yerr=sd, marker="o", ms=3, capsize=2, color=PALETTE[i % len(PALETTE)],
                            ls=("-", "--", ":")[j % 3], label=str(task) if norm is None else f"{task}, {norm}")
        ax.set_xscale("log")
        if name == "weight_change":  # one rich seed can be 10x the others
            ax.set_yscale("log")
        ax.set_xlabel("rank of W_h(0)")
        ax.set_ylabel(label)
    axes[0].legend(title="task", frameon=False)
    n = int(ds["n_hidden"].max())
    n_seeds = ds.sizes["replicate"]
    fig.suptitle(f"Rank sweep (N = {n}, {n_seeds} seed{'s' if n_seeds > 1 else ''}, mean ± s.d. over seeds)")
    return fig


def _smooth(y: np.ndarray, width: int) -> np.ndarray:
    if width <= 1 or y.size < width:
        return y
    kernel = np.ones(width) / width
    return np.convolve(y, kernel, mode="valid")


@styled
def plot_loss_curves(ds):
    """Training loss vs. iteration for every rank, one panel per task (mean over seeds)."""
    tasks = ds["task"].values
    fig, axes = figure(1, len(tasks), figsize=(3.0 * len(tasks), 2.6), squeeze=False)
    n_iter = ds.sizes["iteration"]
    width = max(1, n_iter // 50)
    first = {"normalisation": ds["normalisation"].values[0]} if "normalisation" in ds.dims else {}
    for ax, task in zip(axes[0], tasks):
        for i, rank in enumerate(ds["rank"].values):
            curve = ds["loss"].sel(task=task, rank=rank, **first).mean("replicate").values
            curve = _smooth(curve[np.isfinite(curve)], width)
            ax.plot(np.arange(curve.size) + width // 2, curve, color=PALETTE[i % len(PALETTE)], lw=1,
                    label=f"rank {rank}")
        ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_ylabel("cross-entropy loss (nats)")
        ax.set_title(str(task))
    axes[0][0].legend(frameon=False)
    return fig


@styled
def plot_init_spectra(ds):
    """Normalised singular values ``σ_i/σ_1`` of every initial ``W_h`` vs. ``i/N``."""
    fig, axes = figure(1, 2, figsize=(7.0, 2.8))
    for i, init in enumerate(ds["init"].values):
        sv = ds["singular_values"].sel(init=init).values
        sv = sv[np.isfinite(sv)]
        ax = axes[0] if str(init).startswith("rank_") else axes[1]
        er = float(ds["effective_rank"].sel(init=init))
        style = "--" if "gaussian" in str(init) else (":" if "shuffled" in str(init) else "-")
        ax.plot(np.arange(1, sv.size + 1) / sv.size, sv / sv[0], style, color=PALETTE[i % len(PALETTE)], lw=1,
                label=f"{init} (eff. rank {er:.3f})")
    for ax, title in zip(axes, ("rank-r Gaussian (matched norm)", "biological inits and controls")):
        ax.set_yscale("log")
        ax.set_ylim(1e-3, 1.5)
        ax.set_xlabel("singular value index i / N")
        ax.set_ylabel("σ_i / σ_1")
        ax.set_title(title)
        ax.legend(frameon=False, fontsize=6)
    return fig


@styled
def plot_init_comparison(ds):
    """Weight change, RA, KA and accuracy per initialisation (bars: mean ± s.d. over seeds)."""
    inits = [str(i) for i in ds["init"].values]
    fig, axes = figure(1, len(REGIME_PANELS), figsize=(3.0 * len(REGIME_PANELS), 3.0))
    x = np.arange(len(inits))
    colors = [PALETTE[0] if "gaussian" in i else PALETTE[1] if "shuffled" in i else PALETTE[3] for i in inits]
    norms = [str(v) for v in ds["normalisation"].values] if "normalisation" in ds.dims else [None]
    width = 0.8 / len(norms)
    for ax, (name, label) in zip(axes, REGIME_PANELS):
        for j, norm in enumerate(norms):
            da = ds[name].isel(task=0) if norm is None else ds[name].isel(task=0).sel(normalisation=norm)
            mean, sd = _mean_sd(da)
            ax.bar(x + (j - (len(norms) - 1) / 2) * width, mean, width=width, yerr=sd, color=colors, capsize=2,
                   alpha=1.0 - 0.3 * j, label=norm)
        if name == "weight_change":
            ax.set_yscale("log")
        ax.set_xticks(x, inits, rotation=60, ha="right")
        ax.set_ylabel(label)
    task = str(ds["task"].values[0])
    fig.suptitle(f"Initial connectivity vs. learning regime ({task}; red: structured, blue: Gaussian "
                 "control, orange: shuffled control; bars left to right: " + ", ".join(map(str, norms)) + ")")
    return fig


def _aligned_errorbars(ax, x, mean, sd, aligned, labels):
    """Mean ± s.d. against ``x``: rank-r inits as circles, the aligned init as squares."""
    for mask, fmt, ms, colour, label in ((~aligned, "o", 3, PALETTE[0], labels[0]),
                                         (aligned, "s", 4, PALETTE[3], labels[1])):
        ax.errorbar(x[mask], mean[mask], yerr=sd[mask], fmt=fmt, ms=ms, capsize=2, color=colour, label=label)


@styled
def plot_linear_theory(ds):
    """Simulated kernel alignment vs. the theory ``√PR(M0)/d``, and KA vs. PR."""
    fig, axes = figure(1, 2, figsize=(6.5, 2.8))
    theory = ds["theory"].values
    mean, sd = _mean_sd(ds["kernel_alignment"], "task")
    pr = ds["participation_ratio"].values
    names = [str(i) for i in ds["init"].values]
    aligned = np.array([n == "aligned" for n in names])
    ax = axes[0]
    ax.plot([0, 1], [0, 1], color="0.6", lw=0.8, label="identity")
    _aligned_errorbars(ax, theory, mean, sd, aligned, ("rank-r init", "aligned rank 1"))
    ax.set_xlabel("theory √PR(M0) / d")
    ax.set_ylabel("simulated kernel alignment")
    ax.legend(frameon=False)
    ax = axes[1]
    d = int(ds.attrs.get("d", 0)) or None
    grid = np.linspace(1, pr[~aligned].max(), 100)
    if d:
        ax.plot(grid, np.sqrt(grid) / d, color="0.4", lw=1, label="√PR / d")
    _aligned_errorbars(ax, pr, mean, sd, aligned, ("simulation", "aligned"))
    ax.set_xlabel("participation ratio PR(W1(0)ᵀW1(0))")
    ax.set_ylabel("kernel alignment (init vs. trained)")
    ax.legend(frameon=False)
    fig.suptitle(f"Two-layer linear network (d = {d}, σ = {ds.attrs.get('sigma')}, "
                 f"{ds.sizes['task']} random tasks)")
    return fig


PLOTS = {
    "rank_sweep": plot_rank_sweep,
    "loss_curves": plot_loss_curves,
    "init_spectra": plot_init_spectra,
    "init_comparison": plot_init_comparison,
    "linear_theory": plot_linear_theory,
}


def plot_rank_vs_alignment(ds):
    """Effective rank of ``W_h(0)`` against KA (and RA) for every init and control.

    The central comparison of Liu et al. (ICLR 2024): lower effective rank, richer learning
    (lower alignment).  One panel per normalisation (``frobenius``: equal ‖W‖_F;
    ``spectral``: equal top singular value; ``stable``: σ_1 < 1), mean ± s.d. over seeds;
    colour = family (Gaussian/rank 1, C. elegans, V1), marker = control.
    """
    norms = [str(v) for v in ds["normalisation"].values] if "normalisation" in ds.dims else [None]
    fig, axes = figure(2, len(norms), figsize=(3.2 * len(norms), 5.6), squeeze=False)
    markers = {"": "o", "gaussian": "s", "shuffled": "^", "rotated": "D", "outlier": "v", "rank": "*"}
    for j, norm in enumerate(norms):
        sub = ds.isel(task=0) if norm is None else ds.isel(task=0).sel(normalisation=norm)
        for row, metric in enumerate(("kernel_alignment", "representation_alignment")):
            ax = axes[row][j]
            for init in [str(i) for i in sub["init"].values]:
                family, _, control = init.partition("_")
                if family in ("gaussian", "rank", "aligned"):
                    colour, control = PALETTE[0], ("" if family == "gaussian" else "rank")
                else:
                    colour = PALETTE[1] if family == "celegans" else PALETTE[3]
                er, _ = _mean_sd(sub["init_effective_rank"].sel(init=init))
                mean, sd = _mean_sd(sub[metric].sel(init=init))
                if not np.isfinite(mean):
                    continue
                ax.errorbar(er, mean, yerr=sd, fmt=markers.get(control, "o"), color=colour, ms=4, capsize=2)
                ax.annotate(init, (float(er), float(mean)), fontsize=5, xytext=(2, 2), textcoords="offset points")
            ax.set_xscale("log")
            ax.set_xlabel("effective rank Σσ/(σ₁N) of W_h(0)")
            ax.set_ylabel("KA" if metric == "kernel_alignment" else "RA")
            ax.set_title(f"{norm or 'frobenius'} normalisation", fontsize=8)
    fig.suptitle("Effective rank vs. alignment for every init and control (low = rich)")
    return fig


PLOTS["rank_vs_alignment"] = plot_rank_vs_alignment
