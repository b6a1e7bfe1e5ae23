"""Quality-control figure of one Recording: a trace heatmap with behaviour underneath."""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.cluster import hierarchy
from scipy.spatial.distance import pdist

from neurodyn.data.preprocess import zscore
from neurodyn.data.recording import validate_recording
from neurodyn.plots import style

BEHAVIOR_PREFERENCE = ("velocity", "head_angle", "angular_velocity", "worm_curvature")


def select_neurons(rec: xr.Dataset, max_neurons: int) -> list[int]:
    """Columns to show: identified neurons first, then the most variable ROIs."""
    names = [str(n) for n in rec["neuron"].values]
    with np.errstate(invalid="ignore"):
        var = np.nanvar(rec["traces"].values, axis=0)
    order = sorted(range(len(names)), key=lambda j: (names[j].startswith("roi_"), -var[j], j))
    return order[:max_neurons]


def similarity_order(traces: np.ndarray) -> np.ndarray:
    """Neuron order (columns of ``traces`` (T, N)) from average-linkage clustering on
    correlation distance, leaves optimally ordered so similar neurons sit together."""
    n = traces.shape[1]
    if n < 3:
        return np.arange(n)
    x = np.nan_to_num(zscore(traces), nan=0.0)
    dist = np.clip(np.nan_to_num(pdist(x.T, metric="correlation"), nan=1.0), 0.0, 2.0)
    return hierarchy.leaves_list(hierarchy.optimal_leaf_ordering(hierarchy.linkage(dist, "average"), dist))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) index pairs of the True runs of a boolean vector."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


@style.styled
def plot_recording_qc(rec: xr.Dataset, max_neurons: int = 150):
    """Heatmap of z-scored traces (neurons in similarity order, names where they fit)
    above the behaviour (velocity with reversals shaded when present).

    Returns
    -------
    matplotlib Figure
    """
    rec = validate_recording(rec)
    time = rec["time"].values
    cols = select_neurons(rec, max_neurons)
    traces = rec["traces"].values[:, cols]
    names = [str(rec["neuron"].values[j]) for j in cols]
    order = similarity_order(traces)
    shown = zscore(traces[:, order])
    names = [names[i] for i in order]
    scalar = [str(v)[len("behavior_"):] for v in rec.data_vars
              if str(v).startswith("behavior_") and rec[v].dims == ("time",) and v != "behavior_reversal"]
    line = next((b for b in BEHAVIOR_PREFERENCE if b in scalar), scalar[0] if scalar else None)
    has_rev = "behavior_reversal" in rec

    height = 6.5
    ratios = [5, 1] if (line or has_rev) else [1]
    fig, axes = style.figure(len(ratios), 1, figsize=(7.5, height), sharex=True,
                             gridspec_kw={"height_ratios": ratios}, squeeze=False)
    ax = axes[0, 0]
    dt = np.median(np.diff(time))
    img = ax.imshow(shown.T, aspect="auto", interpolation="nearest", cmap=style.SIGNED, vmin=-3, vmax=3,
                    extent=(time[0] - dt / 2, time[-1] + dt / 2, len(names) - 0.5, -0.5))
    fig.colorbar(img, ax=ax, label="activity (z-score)", shrink=0.6, pad=0.01)
    # Label every row if the rows are tall enough for 5-pt text, else only named neurons.
    row_pt = height * 72 * ratios[0] / sum(ratios) / max(1, len(names))
    fontsize = min(7.0, max(4.0, row_pt * 0.9))
    ticks = list(range(len(names)))
    if row_pt < 4.0:
        ticks = [i for i, n in enumerate(names) if not n.startswith("roi_")]
        step = int(np.ceil(len(ticks) * 4.0 / (height * 72 * ratios[0] / sum(ratios)))) if ticks else 1
        ticks = ticks[::max(1, step)]
    ax.set_yticks(ticks, [names[i] for i in ticks], fontsize=fontsize)
    ax.set_ylabel("neuron (similarity order)")
    n_id = sum(not n.startswith("roi_") for n in rec["neuron"].values.astype(str))
    ax.set_title(f"{rec.attrs['animal']}: {rec.sizes['neuron']} neurons ({n_id} identified; {len(names)} shown), "
                 f"{time[-1] - time[0]:.0f} s at {float(rec.attrs['sampling_rate_hz']):.2f} Hz")
    if len(ratios) == 2:
        bx = axes[1, 0]
        if has_rev:
            rev = np.asarray(rec["behavior_reversal"].values) > 0.5
            for a, b in _runs(rev):
                for axis in (bx,):
                    axis.axvspan(time[a] - dt / 2, time[b - 1] + dt / 2, color=style.PALETTE[3], alpha=0.25, lw=0)
        if line:
            bx.plot(time, rec[f"behavior_{line}"].values, color=style.PALETTE[0], lw=0.8)
            units = rec[f"behavior_{line}"].attrs.get("units", "as published")
            bx.set_ylabel(f"{line.replace('_', ' ')}\n({units})")
        if has_rev:
            bx.set_title("reversals shaded", fontsize=7, loc="right")
        bx.set_xlabel("time (s)")
    else:
        ax.set_xlabel("time (s)")
    return fig
