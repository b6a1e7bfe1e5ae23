"""Per-component figure: temporal profile with behaviour or planted epochs, loadings, N x N factor."""

import sys

import numpy as np
import pandas as pd

from neurodyn.io import read_netcdf
from neurodyn.plots.connectome import components
from neurodyn.plots.style import save

sys.stderr = sys.stdout = open(snakemake.log[0], "w")

ntf = read_netcdf(snakemake.input.ntf)
cohort = read_netcdf(snakemake.input.cohort)
kwargs = {"communities": pd.read_csv(snakemake.input.communities)}
if "truth" in snakemake.input.keys():
    truth = read_netcdf(snakemake.input.truth)
    active = truth["epoch_active"].values
    kwargs["epochs"] = [(s, e, ",".join(f"p{k}" for k in np.flatnonzero(on)))
                        for s, e, on in zip(truth["epoch_start_s"].values, truth["epoch_end_s"].values, active)]
elif "behavior_reversal" in cohort:
    kwargs["behavior_time"] = cohort["time"].values
    kwargs["behavior"] = np.nanmean(cohort["behavior_reversal"].values.astype(float), axis=0)
save(components(ntf, **kwargs), snakemake.output.png)
