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
    for ax, (name, label) in zip(axes, REGIME_PANELS):
        for i, task in enumerate(ds["task"].values):
            mean, sd = _mean_sd(ds[name].sel(task=task))
            ax.errorbar(ranks, mean, yerr=sd, marker="o", ms=3, capsize=2, color=PALETTE[i % len(PALETTE)],
                        label=str(task))
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
    for ax, task in zip(axes[0], tasks):
        for i, rank in enumerate(ds["rank"].values):
            curve = ds["loss"].sel(task=task, rank=rank).mean("replicate").values
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
    for ax, (name, label) in zip(axes, REGIME_PANELS):
        mean, sd = _mean_sd(ds[name].isel(task=0))
        ax.bar(x, mean, yerr=sd, color=colors, capsize=2)
        if name == "weight_change":
            ax.set_yscale("log")
        ax.set_xticks(x, inits, rotation=60, ha="right")
        ax.set_ylabel(label)
    task = str(ds["task"].values[0])
    fig.suptitle(f"Initial connectivity vs. learning regime ({task}; red: structured, blue: Gaussian "
                 "control, orange: shuffled control)")
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
