"""Figures of the dynamic functional connectome (Dyballa et al., ICLR 2024, Figs. 2–4).

Every function takes saved results (tables, Datasets) and returns a matplotlib figure;
nothing is refitted here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from neurodyn.connectome.communities import primary_method
from neurodyn.connectome.tensor import fold_pairs
from neurodyn.plots.style import NONNEG, PALETTE, figure, styled


@styled
def rank_selection(summary: pd.DataFrame, metrics: pd.DataFrame | None = None):
    """Training and held-out error (replicates and mean ± s.d.) and run-to-run similarity
    against rank, with the one-SE band of the held-out error and the chosen rank marked.

    A sweep without held-out errors (fits not cross-validated) shows the full-data error
    of every restart and of the best one per rank instead.
    """
    fig, axes = figure(1, 2, figsize=(6.8, 2.7))
    ranks = summary["rank"].to_numpy()
    has_cv = "test_error" in summary and np.isfinite(summary["test_error"].to_numpy(dtype=float)).any()
    ax = axes[0]
    if has_cv:
        for col, sd, color, label, dx in (("train_error", "train_sd", PALETTE[0], "train", -0.08),
                                          ("test_error", "test_sd", PALETTE[2], "held out", 0.08)):
            if metrics is not None and col in metrics:
                ax.scatter(metrics["rank"] + dx, metrics[col], s=8, color=color, alpha=0.35, lw=0, zorder=1)
            ax.errorbar(ranks + dx, summary[col], yerr=summary[sd], fmt="o-", color=color, ms=3.5, capsize=2,
                        label=f"{label} (mean ± s.d.)", zorder=2)
        if "test_threshold" in summary:
            n_se = float(summary["n_se"].iloc[0]) if "n_se" in summary else 1.0
            ax.axhline(float(summary["test_threshold"].iloc[0]), color=PALETTE[2], ls=":", lw=1,
                       label=f"held-out min + {n_se:g} s.e.")
        ax.set_ylabel("relative error (replicates)")
    else:
        if metrics is not None:
            ax.scatter(metrics["rank"], metrics["rel_error"], s=10, color="0.6", label="restarts", zorder=1)
        ax.plot(ranks, summary["best_error"], "o-", color=PALETTE[0], label="best restart", zorder=2)
        ax.set_ylabel("relative reconstruction error")
    ax.set_xlabel("rank (components)")
    ax = axes[1]
    if metrics is not None:
        others = metrics[~metrics["is_best"]]
        ax.scatter(others["rank"], others["similarity_to_best"], s=10, color="0.6", label="restarts")
    ax.plot(ranks, summary["similarity"], "o-", color=PALETTE[1], label="mean")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("rank (components)")
    ax.set_ylabel("similarity to best restart")
    if "chosen" in summary:
        r = int(summary.loc[summary["chosen"], "rank"].iloc[0])
        rule = str(summary["selection"].iloc[0]) if "selection" in summary else ""
        for a in axes:
            a.axvline(r, color=PALETTE[3], ls="--", lw=1, label=f"chosen rank {r}" + (f" ({rule})" if rule else ""))
        axes[1].legend(frameon=False, loc="lower left")
    axes[0].legend(frameon=False, fontsize=6)
    for a in axes:
        a.set_xticks(ranks)
    warning = summary["warning"].dropna().astype(str) if "warning" in summary else pd.Series([], dtype=str)
    if (warning != "").any():
        # The rank chosen is the top of the sweep: say so on the figure the report shows.
        import textwrap

        fig.suptitle("\n".join(textwrap.wrap("Warning: " + warning[warning != ""].iloc[0], 110)),
                     fontsize=6, color=PALETTE[3])
    return fig


def _shade(ax, behavior_time, behavior, epochs, t_max):
    if behavior is not None:
        b = np.asarray(behavior, dtype=float)
        ax.fill_between(behavior_time, 0, b, step="mid", color="0.85", lw=0, zorder=0,
                        transform=ax.get_xaxis_transform(), label="reversal (fraction of animals)")
    if epochs is not None:
        for e, (start, end, label) in enumerate(epochs):
            if e % 2 == 0:
                ax.axvspan(start, min(end, t_max), color="0.9", lw=0, zorder=0)
            if label:
                ax.text((start + min(end, t_max)) / 2, 0.98, label, transform=ax.get_xaxis_transform(),
                        ha="center", va="top", fontsize=6, color="0.35")


@styled
def components(ntf, *, behavior_time=None, behavior=None, epochs=None, communities: pd.DataFrame | None = None,
               max_neuron_labels: int = 120):
    """One row per component: temporal profile, per-animal loadings, the N × N pair factor.

    Parameters
    ----------
    ntf : Dataset from :func:`neurodyn.connectome.ntf.ntf_to_dataset`.
    behavior_time, behavior : optional (T,) seconds and a value in [0, 1] to shade (e.g.
        the fraction of animals reversing).
    epochs : optional list of ``(start_s, end_s, label)``, labelled and shaded every other
        one (planted epochs with the planted components that are on).
    communities : optional table of :func:`neurodyn.connectome.communities.component_communities`;
        the N × N factor of each component is then ordered by its communities.
    """
    ks = ntf["component"].values.tolist()
    neurons = [str(n) for n in ntf["neuron"].values]
    n = len(neurons)
    fig, axes = figure(len(ks), 3, figsize=(8.0, 1.9 * len(ks) + 0.4), squeeze=False,
                       gridspec_kw={"width_ratios": [3.2, 1.2, 1.6]})
    centers = ntf["window_center_s"].values
    t_max = float(ntf["window_end_s"].values[-1])
    animals = [str(a) for a in ntf["animal"].values]
    for row, k in enumerate(ks):
        ax = axes[row, 0]
        _shade(ax, behavior_time, behavior, epochs, t_max)
        ax.plot(centers, ntf["time_factor"].sel(component=k), color=PALETTE[row % len(PALETTE)], lw=1.3)
        ax.set_xlim(0, t_max)
        is_bg = "background" in ntf and bool(ntf["background"].sel(component=k))
        ax.set_ylabel(f"C{k}" + (" (background)" if is_bg else "") + "\ntime factor")
        if row == len(ks) - 1:
            ax.set_xlabel("time (s)")
        ax = axes[row, 1]
        ax.bar(range(len(animals)), ntf["animal_factor"].sel(component=k), color=PALETTE[row % len(PALETTE)])
        ax.set_xticks(range(len(animals)))
        ax.set_xticklabels(animals, rotation=60, ha="right", fontsize=6)
        ax.set_ylabel("loading")
        ax = axes[row, 2]
        m = fold_pairs(ntf["pair_factor"].sel(component=k).values, n)
        order = np.arange(n)
        if communities is not None:
            tab = communities[communities["component"] == k]
            if "method" in tab:
                tab = tab[tab["method"] == primary_method(communities)]
            lab = tab.set_index("neuron")["community"].reindex(neurons).fillna(-1).to_numpy()
            order = np.lexsort((-m.sum(axis=1), lab))
        ax.imshow(m[np.ix_(order, order)], cmap=NONNEG, interpolation="nearest")
        if n <= max_neuron_labels:
            ax.set_xticks(range(n))
            ax.set_yticks(range(n))
            fs = 4 if n <= 40 else 2.2  # still legible in the 200-dpi PNG and the PDF
            ax.set_xticklabels([neurons[i] for i in order], rotation=90, fontsize=fs)
            ax.set_yticklabels([neurons[i] for i in order], fontsize=fs)
            ax.tick_params(length=0, pad=0.5)
        else:
            ax.set_xticks([])
            ax.set_yticks([])
        ax.set_title(f"λ = {float(ntf['weight'].sel(component=k)):.3g}", fontsize=7)
    fig.suptitle(f"NTF components (rank {len(ks)}, rel. error {float(ntf.attrs['rel_error']):.3f})")
    return fig


@styled
def community_graphs(ntf, communities: pd.DataFrame, *, method: str | None = None, edge_quantile: float = 0.9,
                     seed: int = 0):
    """Per component, the weighted graph of its pair factor with neurons coloured by community.

    Only edges above the ``edge_quantile`` of the component's weights are drawn; node labels
    are neuron names; node size grows with community strength.
    """
    import networkx as nx

    ks = ntf["component"].values.tolist()
    neurons = [str(x) for x in ntf["neuron"].values]
    n = len(neurons)
    cols = min(3, len(ks))
    rows = int(np.ceil(len(ks) / cols))
    fig, axes = figure(rows, cols, figsize=(3.2 * cols, 3.2 * rows), squeeze=False)
    method = method or primary_method(communities)
    tab = communities[communities["method"] == method] if "method" in communities else communities
    for ax, k in zip(axes.ravel(), ks):
        w = fold_pairs(ntf["pair_factor"].sel(component=k).values, n)
        sub = tab[tab["component"] == k].set_index("neuron").reindex(neurons)
        labels = sub["community"].fillna(-1).astype(int).to_numpy()
        strength = sub["strength"].fillna(0).to_numpy()
        thr = np.quantile(w[np.triu_indices(n, 1)], edge_quantile) if n > 1 else 0
        g = nx.Graph()
        g.add_nodes_from(range(n))
        i, j = np.nonzero(np.triu(w, 1) > thr)
        g.add_weighted_edges_from(zip(i.tolist(), j.tolist(), w[i, j].tolist()))
        pos = nx.spring_layout(g, weight="weight", seed=seed)
        widths = [2.0 * d["weight"] / (w.max() or 1) for _, _, d in g.edges(data=True)]
        nx.draw_networkx_edges(g, pos, ax=ax, width=widths, edge_color="0.6", alpha=0.7)
        colors = [PALETTE[c % len(PALETTE)] if c >= 0 else "0.8" for c in labels]
        nx.draw_networkx_nodes(g, pos, ax=ax, node_color=colors, node_size=20 + 80 * strength, linewidths=0)
        nx.draw_networkx_labels(g, pos, labels=dict(enumerate(neurons)), ax=ax, font_size=5)
        n_comm = int(np.unique(labels[labels >= 0]).size)
        if "background" in ntf and bool(ntf["background"].sel(component=k)):
            ax.set_title(f"C{k}: background (brain-wide), no communities", fontsize=8)
        else:
            ax.set_title(f"C{k}: {n_comm} communities ({method})", fontsize=8)
        ax.set_axis_off()
    for ax in axes.ravel()[len(ks):]:
        ax.set_axis_off()
    return fig


@styled
def recovery(table: pd.DataFrame):
    """Planted-truth recovery: per planted component, congruence per mode and NMI."""
    fig, ax = figure(figsize=(4.2, 2.6))
    cols = [c for c in ("congruence_time", "congruence_animal", "congruence_pair", "nmi", "nmi_all") if c in table]
    x = np.arange(len(table))
    width = 0.8 / len(cols)
    for i, c in enumerate(cols):
        ax.bar(x + i * width, table[c], width, label=c.replace("congruence_", "cong. "), color=PALETTE[i])
    ax.axhline(0.95, color="0.3", ls="--", lw=0.8)
    ax.set_xticks(x + 0.4 - width / 2)
    ax.set_xticklabels([f"planted {p}\n→ C{f}" for p, f in zip(table["planted"], table["fitted"])])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("congruence / NMI")
    ax.legend(frameon=False, fontsize=6, loc="lower right")
    return fig
