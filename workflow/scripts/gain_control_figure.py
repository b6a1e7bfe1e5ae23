"""Gain-control figures from saved simulation results (no refitting)."""

import sys

from neurodyn.io import read_netcdf
from neurodyn.plots import gain_control as plots
from neurodyn.plots import style

sys.stderr = sys.stdout = open(snakemake.log[0], "w")

kind = snakemake.params.kind
if kind == "tradeoff":
    fig = plots.plot_tradeoff(read_netcdf(snakemake.input.curves), snakemake.params.tradeoff)
else:
    runs = [read_netcdf(path) for path in snakemake.input.runs]
    by_model = {}
    for ds in runs:
        by_model.setdefault(ds.attrs["model"], []).append(ds)
    draw = {"tuning": lambda: plots.plot_tuning_curves(runs),
            "covariance": lambda: plots.plot_covariances(runs),
            "gain_profile": lambda: plots.plot_gain_profile(by_model),
            "max_min_ratios": lambda: plots.plot_max_min_ratios(by_model),
            "repulsion": lambda: plots.plot_repulsion(by_model),
            "stimulus_specific": lambda: plots.plot_stimulus_specific(by_model)}
    fig = draw[kind]()
style.save(fig, snakemake.output.png)
