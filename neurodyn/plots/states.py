"""Figures of the brain-state analysis (HMM-GLMs; Li et al., ICLR 2024).

Every function takes saved results (the ``fit_brain_states`` Dataset or the model
selection table) and returns a matplotlib figure; :func:`neurodyn.plots.style.save`
writes it.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import ListedColormap

from neurodyn.plots.style import NONNEG, PALETTE, figure, signed_limits, styled

__all__ = ["state_raster", "state_weights", "prior_vs_connectome", "heldout_ll_vs_states"]


def _state_cmap(S):
    return ListedColormap([PALETTE[i % len(PALETTE)] for i in range(S)])


@styled
def state_raster(result):
    """Viterbi states (and posterior of the most reversing state) over time, with the
    reversal periods and velocity of each animal underneath."""
    animals = [str(a) for a in result["animal"].values]
    S = int(result.attrs["n_states"])
    t = result["time"].values
    fig, axes = figure(3 * len(animals), 1, figsize=(7.0, 2.2 * len(animals)), sharex=True,
                       gridspec_kw={"height_ratios": [1.0, 0.6, 1.0] * len(animals)})
    cmap = _state_cmap(S)
    for i, a in enumerate(animals):
        ax_s, ax_r, ax_v = axes[3 * i : 3 * i + 3]
        z = result["viterbi_state"].values[i]
        ax_s.imshow(z[None], aspect="auto", cmap=cmap, vmin=-0.5, vmax=S - 0.5, interpolation="nearest",
                    extent=(t[0], t[-1], 0, 1))
        ax_s.plot(t, result["posterior"].values[i, :, S - 1], color="k", lw=0.6)
        ax_s.set_yticks([])
        ax_s.set_ylabel("state", rotation=0, ha="right", va="center")
        ax_s.set_title(f"animal {a}: Viterbi states (colour), p(state {S - 1}) (black line)", loc="left")
        rev = result["behavior_reversal"].values[i].astype(float)
        ax_r.fill_between(t, 0, rev, step="mid", color=PALETTE[3], lw=0)
        ax_r.set_yticks([])
        ax_r.set_ylabel("reversal", rotation=0, ha="right", va="center")
        ax_v.plot(t, result["behavior_velocity"].values[i], color=PALETTE[0], lw=0.6)
        ax_v.axhline(0, color="0.6", lw=0.5)
        ax_v.set_ylabel("velocity\n(mm/s)")
    handles = [
        __import__("matplotlib.patches", fromlist=["Patch"]).Patch(color=cmap(s), label=f"state {s}") for s in range(S)
    ]
    axes[0].legend(handles=handles, ncol=S, loc="lower right", bbox_to_anchor=(1, 1.25), frameon=False)
    axes[-1].set_xlabel("time (s)")
    return fig


@styled
def state_weights(result):
    """Per-state coupling matrices ``W_s`` (post × pre) with neuron names."""
    W = result["weights"].values
    names = [str(n) for n in result["pre"].values]
    S = W.shape[0]
    fig, axes = figure(1, S, figsize=(2.6 * S + 0.8, 3.0), squeeze=False)
    # Colour scale from the couplings between neurons: the self-history (diagonal) terms
    # of autoregressive emissions are much larger and are shown clipped.
    off = ~np.eye(W.shape[1], dtype=bool)
    lim = signed_limits(W[:, off] if np.any(W[:, off]) else W)
    for s, ax in enumerate(axes[0]):
        im = ax.imshow(W[s], **lim)
        ax.set_title(f"state {s} (diagonal clipped)")
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=5)
        ax.set_yticks(range(len(names)), names if s == 0 else [], fontsize=5)
        ax.set_xlabel("presynaptic (history of)")
    axes[0, 0].set_ylabel("postsynaptic (predicted)")
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="coupling weight (a.u.)")
    return fig


@styled
def prior_vs_connectome(result, connectome, connectome_name: str, auroc: float | None = None):
    """Learned prior connection probability ``1 − α_none`` next to the anatomical contacts.

    Parameters
    ----------
    result : xarray.Dataset
    connectome : ndarray (N, N)
        Contact counts ``[pre, post]`` among ``result.pre`` (e.g. from
        :func:`neurodyn.data.anatomy.connectome_matrix`).
    connectome_name : str
    auroc : float, optional
        Shown in the title.
    """
    names = [str(n) for n in result["pre"].values]
    P = result["prior_connection"].values.copy()
    np.fill_diagonal(P, np.nan)
    C = np.log1p(np.asarray(connectome, float).T)  # -> [post, pre]
    fig, axes = figure(1, 2, figsize=(7.0, 3.4))
    im0 = axes[0].imshow(P, cmap=NONNEG, vmin=0, vmax=1)
    axes[0].set_title("learned prior: p(connection) = 1 − α_none")
    im1 = axes[1].imshow(C, cmap=NONNEG)
    title = f"anatomy ({connectome_name}): log(1 + contacts)"
    axes[1].set_title(title if auroc is None else f"{title}\nAUROC = {auroc:.2f}")
    for ax in axes:
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=5)
        ax.set_yticks(range(len(names)), names, fontsize=5)
        ax.set_xlabel("presynaptic")
    axes[0].set_ylabel("postsynaptic")
    fig.colorbar(im0, ax=axes[0], shrink=0.7, label="probability")
    fig.colorbar(im1, ax=axes[1], shrink=0.7, label="log(1 + contacts)")
    return fig


@styled
def heldout_ll_vs_states(selection):
    """Held-out log-likelihood per bin and BIC against the number of states."""
    fig, ax = figure(figsize=(3.4, 2.6))
    ax.plot(selection["n_states"], selection["heldout_ll_per_bin"], "o-", color=PALETTE[0])
    ax.set_xlabel("number of states S")
    ax.set_ylabel("held-out log-likelihood (nats / bin)", color=PALETTE[0])
    ax.set_xticks(list(selection["n_states"]))
    ax2 = ax.twinx()
    ax2.plot(selection["n_states"], selection["bic"], "s--", color=PALETTE[1])
    ax2.set_ylabel("BIC (training data)", color=PALETTE[1])
    ax2.spines["right"].set_visible(True)
    return fig
