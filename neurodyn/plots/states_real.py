"""Figures of the real-worm brain states (:func:`neurodyn.states.real.analyse_cohort` outputs).

Every function takes saved results and returns an explicit
:class:`matplotlib.figure.Figure` (no pyplot state); :func:`save` writes PNG + PDF.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

__all__ = ["state_raster", "heldout_ami", "anatomy_roc", "selection", "save"]

# Okabe & Ito (2008) colour-blind-safe palette.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
MODEL_LABELS = {"hmmglm": "HMM-GLM", "gaussian_hmm": "Gaussian HMM", "kmeans": "k-means"}
SCORE_LABELS = {"couplings": "HMM-GLM couplings", "prior_connection": "learned prior",
                "correlation": "|corr| of differences"}


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained", dpi=110)
    return fig


def _style(ax):
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.tick_params(labelsize=7)


def state_raster(fit) -> Figure:
    """Viterbi state of the final fit over time per worm, with the reversal periods below."""
    animals = [str(a) for a in fit["animal"].values]
    t = np.asarray(fit["time"].values, float)
    S = int(fit.attrs["n_states"])
    fig = _figure(6.5, 0.8 + 0.7 * len(animals))
    axes = fig.subplots(len(animals), 1, sharex=True, squeeze=False)[:, 0]
    from matplotlib.colors import ListedColormap

    cmap = ListedColormap(PALETTE[:S])
    for ax, a, i in zip(axes, animals, range(len(animals))):
        z = fit["viterbi_state"].values[i]
        rev = (fit["behavior_reversal"].values[i].astype(float) if "behavior_reversal" in fit
               else np.zeros_like(t))  # no reversal behaviour recorded: the lower band stays empty
        ax.imshow(np.vstack([z, z]), aspect="auto", cmap=cmap, vmin=-0.5, vmax=S - 0.5, interpolation="nearest",
                  extent=(t[0], t[-1], 1.0, 2.0))
        ax.fill_between(t, 0.0, 0.9 * rev, step="mid", color="0.3", lw=0)
        ax.set_ylim(0, 2)
        ax.set_yticks([0.45, 1.5], ["reversal", "state"], fontsize=6)
        ax.set_title(a, fontsize=7, loc="left")
        _style(ax)
    axes[-1].set_xlabel("time (s)", fontsize=8)
    fig.suptitle(f"HMM-GLM states (S = {S}, states ordered by reversal time)", fontsize=8)
    return fig


def heldout_ami(behaviour) -> Figure:
    """AMI of the states with reversals on each held-out worm, per model."""
    models = list(dict.fromkeys(behaviour["model"]))
    worms = list(dict.fromkeys(behaviour["heldout_animal"]))
    fig = _figure(max(3.4, 0.9 * len(worms) + 1.5), 2.6)
    ax = fig.subplots()
    width = 0.8 / len(models)
    x = np.arange(len(worms))
    for k, m in enumerate(models):
        sub = behaviour[behaviour["model"] == m].set_index("heldout_animal")
        ax.bar(x + (k - (len(models) - 1) / 2) * width, [sub.loc[w, "ami_reversal"] for w in worms], width,
               color=PALETTE[k % len(PALETTE)], label=MODEL_LABELS.get(m, m))
    ax.set_xticks(x, worms, rotation=30, ha="right", fontsize=6)
    ax.set_ylabel("AMI with reversals (held-out worm)", fontsize=7)
    ax.axhline(0, color="k", lw=0.5)
    ax.legend(fontsize=6, frameon=False)
    _style(ax)
    return fig


def _roc(y, s):
    order = np.argsort(-s, kind="stable")
    y = y[order]
    tpr = np.concatenate([[0], np.cumsum(y) / max(y.sum(), 1)])
    fpr = np.concatenate([[0], np.cumsum(~y) / max((~y).sum(), 1)])
    return fpr, tpr


def anatomy_roc(fit, connectome: str = "witvliet_2020_8") -> Figure:
    """ROC curves of the pair scores for any anatomical contact (unordered pairs)."""
    from neurodyn.data.anatomy import connectome_matrix, connectome_neurons
    from neurodyn.states.baselines import auroc
    from neurodyn.states.real import coupling_scores

    names = [str(n) for n in fit["pre"].values]
    keep = np.array([n in set(connectome_neurons(connectome)) for n in names])
    sub = [n for n, k in zip(names, keep) if k]
    C = connectome_matrix(sub, name=connectome, kind="any")
    adj = (C + C.T) > 0
    iu = np.triu_indices(len(sub), 1)
    scores = {"couplings": coupling_scores(fit["weights"].values), "prior_connection": fit["prior_connection"].values,
              "correlation": fit["correlation"].values}
    fig = _figure(3.2, 3.0)
    ax = fig.subplots()
    for k, (name, M) in enumerate(scores.items()):
        M = np.asarray(M, float)[np.ix_(keep, keep)]
        M = 0.5 * (M + M.T)
        y, s = adj[iu], M[iu]
        fpr, tpr = _roc(y, s)
        ax.plot(fpr, tpr, color=PALETTE[k], lw=1, label=f"{SCORE_LABELS.get(name, name)} ({auroc(y, s):.2f})")
    ax.plot([0, 1], [0, 1], color="0.6", lw=0.5, ls="--")
    ax.set_xlabel("false positive rate", fontsize=7)
    ax.set_ylabel("true positive rate", fontsize=7)
    ax.set_title(f"any contact, {connectome} ({len(sub)} neurons)", fontsize=7)
    ax.legend(fontsize=6, frameon=False, loc="lower right")
    _style(ax)
    return fig


def selection(table) -> Figure:
    """Held-out log-likelihood of every candidate on the training worms, per fold."""
    t = table[table["model"] == "hmmglm"].copy()
    t["label"] = [f"{r.representation[:5]} τ{r.smooth_s:g} S{r.n_states} l1={r.l1:g}" for r in t.itertuples()]
    labels = list(dict.fromkeys(t["label"]))
    folds = list(dict.fromkeys(t["heldout_animal"]))
    fig = _figure(max(3.4, 0.3 * len(labels) + 1.5), 2.8)
    ax = fig.subplots()
    for k, f in enumerate(folds):
        sub = t[t["heldout_animal"] == f].set_index("label")
        ax.plot(range(len(labels)), [sub.loc[lab, "heldout_ll_per_entry"] for lab in labels], "o-", ms=3, lw=0.8,
                color=PALETTE[k % len(PALETTE)], label="all worms" if f.startswith("none") else f"without {f}")
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=5)
    ax.set_ylabel("held-out LL (nats / neuron-bin)", fontsize=7)
    ax.legend(fontsize=5, frameon=False)
    _style(ax)
    return fig


def save(fig: Figure, path: str | os.PathLike) -> list[Path]:
    """Write ``fig`` as PNG and PDF next to each other (``path`` with either suffix), atomically."""
    from neurodyn.io import atomic_path

    base = Path(path)
    if base.suffix.lower() in {".png", ".pdf"}:
        base = base.with_suffix("")
    written = []
    for ext in (".png", ".pdf"):
        target = base.with_suffix(ext)
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=ext[1:], bbox_inches="tight", dpi=200)
        written.append(target)
    return written
