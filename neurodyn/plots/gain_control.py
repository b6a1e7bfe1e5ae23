"""Figures of the recurrent gain-control simulations (Duong et al. 2023; Benucci et al. 2013).

Every function takes saved results (the Datasets of
:func:`neurodyn.circuits.gain_control.simulate_adaptation` /
:func:`~neurodyn.circuits.gain_control.tradeoff_curves`) and returns a matplotlib Figure.
"""

from __future__ import annotations

import numpy as np

from neurodyn.plots import style

MODEL_LABELS = {"recurrent": "recurrent gains", "feedforward": "gains, W = 0", "synaptic": "synaptic (homeostatic W)"}
CONDITION_LABELS = {"uniform": "uniform", "biased_unadapted": "biased, unadapted", "biased_adapted": "biased, adapted"}


def _by_probability(datasets):
    return sorted(datasets, key=lambda ds: ds.attrs["adapter_probability"])


def _sorted_by_distance(ds, name):
    order = np.argsort(ds["distance"].values)
    return ds["distance"].values[order], ds[name].values[order]


def _colours(n):
    import matplotlib

    return matplotlib.colormaps[style.NONNEG](np.linspace(0.1, 0.85, n))


@style.styled
def plot_tuning_curves(datasets):
    """Tuning curves of every channel before (dashed) and after (solid) adaptation.

    One panel per adapter probability; colour = channel preference; the adapter is marked.
    """
    datasets = _by_probability(datasets)
    fig, axes = style.figure(1, len(datasets), figsize=(3.0 * len(datasets), 2.8), sharey=True, squeeze=False)
    for ax, ds in zip(axes[0], datasets):
        theta = ds["orientation"].values
        colours = _colours(ds.sizes["neuron"])
        order = np.argsort(theta)
        for i in range(ds.sizes["neuron"]):
            ax.plot(theta[order], ds["tuning_unadapted"].values[i, order], ls="--", lw=0.6, color=colours[i])
            ax.plot(theta[order], ds["tuning_adapted"].values[i, order], lw=0.9, color=colours[i])
        adapter = float(ds["preferred"].values[np.argmin(np.abs(ds["distance"].values))])
        ax.axvline(adapter, color="k", lw=0.6, ls=":")
        ax.set_title(f"{MODEL_LABELS[ds.attrs['model']]}, π = {ds.attrs['adapter_probability']:.2f}")
        ax.set_xlabel("stimulus orientation (deg)")
        ax.set_xticks([0, 45, 90, 135, 180])
    axes[0, 0].set_ylabel("steady-state response (a.u.)")
    axes[0, -1].plot([], [], "k--", lw=0.6, label="unadapted")
    axes[0, -1].plot([], [], "k-", lw=0.9, label="adapted")
    axes[0, -1].legend(loc="upper right", frameon=False)
    return fig


def _profile_panels(datasets_by_model, variables, ylabel, reference=None):
    models = list(datasets_by_model)
    fig, axes = style.figure(1, len(models), figsize=(3.0 * len(models), 2.6), sharey=True, squeeze=False)
    for ax, model in zip(axes[0], models):
        runs = _by_probability(datasets_by_model[model])
        colours = _colours(len(runs))
        for colour, ds in zip(colours, runs):
            for name, ls in variables:
                x, y = _sorted_by_distance(ds, name)
                ax.plot(x, y, ls=ls, marker="o", ms=2, lw=1, color=colour,
                        label=f"π = {ds.attrs['adapter_probability']:.2f}" if ls == "-" else None)
        if reference is not None:
            ax.axhline(reference, color="k", lw=0.5)
        ax.axvline(0, color="k", lw=0.5, ls=":")
        ax.set_title(MODEL_LABELS[model])
        ax.set_xlabel("preferred orientation − adapter (deg)")
        ax.set_xticks([-90, -45, 0, 45, 90])
    axes[0, 0].set_ylabel(ylabel)
    axes[0, -1].legend(frameon=False, loc="best")
    return fig


@style.styled
def plot_gain_profile(datasets_by_model):
    """Adapted / unadapted single-neuron gain vs the neuron's preference relative to the adapter."""
    return _profile_panels(datasets_by_model, [("gain_ratio", "-")], "gain ratio adapted / unadapted", 1.0)


@style.styled
def plot_max_min_ratios(datasets_by_model):
    """Ratios of tuning-curve maxima (solid) and minima (dashed), adapted / unadapted."""
    fig = _profile_panels(datasets_by_model, [("max_ratio", "-"), ("min_ratio", "--")],
                          "response ratio adapted / unadapted", 1.0)
    fig.axes[0].plot([], [], "k-", label="maximum")
    fig.axes[0].plot([], [], "k--", label="minimum")
    fig.axes[0].legend(frameon=False, loc="best")
    return fig


@style.styled
def plot_repulsion(datasets_by_model):
    """Shift of preferred orientation vs distance from the adapter (positive: away)."""
    return _profile_panels(datasets_by_model, [("repulsion", "-")], "shift away from adapter (deg)", 0.0)


@style.styled
def plot_covariances(datasets, variable: str = "covariance"):
    """Population covariance (or correlation) under the uniform ensemble, the biased ensemble
    before adaptation and after it; one row per adapter probability, shared colour scale."""
    datasets = _by_probability(datasets)
    conditions = list(datasets[0]["condition"].values)
    fig, axes = style.figure(len(datasets), len(conditions), figsize=(2.3 * len(conditions), 2.1 * len(datasets)),
                             squeeze=False)
    limits = style.signed_limits(np.concatenate([ds[variable].values.ravel() for ds in datasets]))
    names = datasets[0]["neuron"].values
    ticks = np.arange(0, len(names), max(1, len(names) // 5))
    image = None
    for row, ds in zip(axes, datasets):
        for ax, condition in zip(row, conditions):
            image = ax.imshow(ds[variable].sel(condition=condition).values, **limits)
            ax.set_title(f"{CONDITION_LABELS[condition]}, π = {ds.attrs['adapter_probability']:.2f}", fontsize=7)
            ax.set_xticks(ticks, names[ticks], rotation=90, fontsize=5)
            ax.set_yticks(ticks, names[ticks], fontsize=5)
    fig.colorbar(image, ax=axes, shrink=0.6, label=f"response {variable} (a.u.²)" if variable == "covariance"
                 else "response correlation")
    fig.suptitle(MODEL_LABELS[datasets[0].attrs["model"]])
    return fig


@style.styled
def plot_tradeoff(curves, default_tradeoff: float | None = None):
    """Representation error vs activity of the optimal gains as the trade-off weight λ varies.

    One panel per model; curves for the uniform ensemble and each biased ensemble; the
    default λ is marked.
    """
    models = list(curves["model"].values)
    fig, axes = style.figure(1, len(models), figsize=(3.2 * len(models), 2.8), squeeze=False)
    probabilities = curves["adapter_probability"].values
    colours = _colours(len(probabilities))
    lam = curves["tradeoff"].values
    for ax, model in zip(axes[0], models):
        sel = curves.sel(model=model)
        uni = sel.isel(adapter_probability=0).sel(ensemble="uniform")
        ax.plot(uni["activity"], uni["error"], "k-", lw=1.2, label="uniform")
        for colour, pi in zip(colours, probabilities):
            b = sel.sel(adapter_probability=pi, ensemble="biased")
            ax.plot(b["activity"], b["error"], "-", color=colour, lw=1, label=f"biased π = {pi:.2f}")
            if default_tradeoff is not None:
                k = int(np.argmin(np.abs(np.log(lam) - np.log(default_tradeoff))))
                ax.plot(b["activity"][k], b["error"][k], "o", color=colour, ms=3)
        if default_tradeoff is not None:
            k = int(np.argmin(np.abs(np.log(lam) - np.log(default_tradeoff))))
            ax.plot(uni["activity"][k], uni["error"][k], "ko", ms=3, label=f"λ = {lam[k]:.3g}")
        ax.set_xscale("log")
        ax.set_xlabel("activity Σ p ‖r‖² (a.u.²)")
        ax.set_title(MODEL_LABELS[model])
    axes[0, 0].set_ylabel("representation error Σ q ‖f − r‖² (a.u.²)")
    axes[0, -1].legend(frameon=False, fontsize=6)
    return fig


def plot_stimulus_specific(datasets_by_model):
    """Stimulus-specific suppression and the separable fit ``r_after/r_before ≈ a(φ) b(θ)``.

    Rows: population response ratio per stimulus (Σ_i r_i after / before), the
    responsivity factor a against the neuron's preference, the stimulus factor b against
    the stimulus (geometric mean 1); columns: models; colours: adapter probability.  The
    variance of the log ratios explained by the separable fit is in each title.
    """
    models = list(datasets_by_model)
    fig, axes = style.figure(3, len(models), figsize=(3.0 * len(models), 6.6), sharex=True, squeeze=False)
    for j, model in enumerate(models):
        runs = [ds for ds in _by_probability(datasets_by_model[model]) if "stimulus_factor" in ds]
        explained = [float("nan")]
        for colour, ds in zip(_colours(len(runs)), runs):
            label = f"π = {ds.attrs['adapter_probability']:.2f}"
            offset = (ds["stimulus"].values - float(ds.attrs["adapter_deg"]) + 90.0) % 180.0 - 90.0
            order = np.argsort(offset)
            axes[0, j].plot(offset[order], ds["population_ratio"].values[order], marker="o", ms=2, lw=1,
                            color=colour, label=label)
            x, a = _sorted_by_distance(ds, "responsivity")
            axes[1, j].plot(x, a, marker="o", ms=2, lw=1, color=colour)
            axes[2, j].plot(offset[order], ds["stimulus_factor"].values[order], marker="o", ms=2, lw=1, color=colour)
            explained.append(ds.attrs["separable_variance_explained"])
        for ax in axes[:, j]:
            ax.axhline(1.0, color="k", lw=0.5)
            ax.axvline(0, color="k", lw=0.5, ls=":")
        explained = [e for e in explained if e == e] or [float("nan")]
        axes[0, j].set_title(f"{MODEL_LABELS[model]}\nseparable fit R² {min(explained):.3f}–{max(explained):.3f}",
                             fontsize=8)
        axes[2, j].set_xlabel("orientation − adapter (deg)")
        axes[2, j].set_xticks([-90, -45, 0, 45, 90])
    axes[0, 0].set_ylabel("population response\nafter / before")
    axes[1, 0].set_ylabel("responsivity a(φ)")
    axes[2, 0].set_ylabel("stimulus factor b(θ)")
    axes[0, -1].legend(frameon=False, loc="best", fontsize=6)
    return fig
