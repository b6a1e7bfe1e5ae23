"""Connectome figures draw from saved results (smoke tests with labelled axes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from neurodyn.connectome.ntf import components_table, non_negative_cp_hals, ntf_to_dataset
from neurodyn.connectome.rank import select_from_fits
from neurodyn.connectome.tensor import affinity_tensor
from neurodyn.plots import connectome as plots


def small_fit():
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.normal(size=(2, 400, 6)), axis=1).astype(np.float32)
    cohort = xr.Dataset({"traces": (("animal", "time", "neuron"), x)},
                        coords={"animal": ["w1", "w2"], "time": np.arange(400) / 4.0,
                                "neuron": ["AVAL", "AVAR", "RIML", "RIMR", "SMDVL", "SMDVR"]},
                        attrs={"sampling_rate_hz": 4.0})
    aff = affinity_tensor(cohort, window_s=10, stride_s=5, chance="none")
    fits = {}
    for rank in (1, 2):
        for restart in (0, 1):
            res = non_negative_cp_hals(aff["affinity"].values, rank, max_iter=20, random_state=restart)
            fits[(rank, restart)] = (res.rel_error, res.factors, res)
    ds = ntf_to_dataset(fits[(2, 0)][2], aff)
    return ds, {k: v[:2] for k, v in fits.items()}


def test_figures_render_with_labels():
    ds, fits = small_fit()
    metrics, summary, rank = select_from_fits(fits, selection="elbow")
    assert summary["chosen"].sum() == 1 and metrics["selected"].sum() == 1
    fig = plots.rank_selection(summary, metrics)
    assert fig.axes[0].get_xlabel() == "rank (components)"
    comm = pd.DataFrame({"component": np.repeat([0, 1], 6), "neuron": list(ds["neuron"].values) * 2,
                         "community": [0, 0, 1, 1, 2, 2] * 2, "strength": 1.0, "method": "sbm"})
    fig = plots.components(ds, behavior_time=np.arange(400) / 4.0, behavior=np.zeros(400), communities=comm)
    assert fig.axes[-3].get_xlabel() == "time (s)"
    assert "AVAL" in [t.get_text() for t in fig.axes[2].get_xticklabels()]
    fig = plots.community_graphs(ds, comm)
    assert "AVAL" in [t.get_text() for t in fig.axes[0].texts]
    table = components_table(ds)
    assert list(table["component"]) == [0, 1] and "loading_w1" in table
