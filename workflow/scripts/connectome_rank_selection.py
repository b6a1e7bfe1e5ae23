"""Rank-sweep metrics (training and held-out error, run-to-run similarity) and the chosen rank."""

import inspect
import logging
import sys

from neurodyn.connectome.crossval import top_of_sweep_message
from neurodyn.connectome.ntf import dataset_factors
from neurodyn.connectome.rank import SweepFit, select_from_fits
from neurodyn.io import read_netcdf, rule_provenance, write_csv

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
PROVENANCE = rule_provenance(snakemake.params)  # code version, config hash, seed, versions

fits, paths = {}, {}
for path in snakemake.input:
    ds = read_netcdf(path)
    key = (int(ds.attrs["rank"]), int(ds.attrs["restart"]))
    fits[key] = SweepFit(float(ds.attrs["rel_error"]), dataset_factors(ds), float(ds.attrs["train_error"]),
                         float(ds.attrs["test_error"]))
    paths[key] = path
# connectome.rank holds the sweep's own keys (ranks, restarts, heldout_fraction) next to
# the keyword arguments of select_from_fits
cfg = dict(snakemake.params.rank)
select = {k: v for k, v in cfg.items() if k in inspect.signature(select_from_fits).parameters}
metrics, summary, rank = select_from_fits(fits, **select)
# The sweep's jobs are fixed before the run, so it cannot widen itself as rank_sweep does:
# a rank at the top of the sweep is reported in the log, the table and the report.
message = top_of_sweep_message(summary, setting="connectome.rank.ranks")
summary["warning"] = message or ""
if message:
    logging.warning("%s", message)
metrics["path"] = [paths[(r, k)] for r, k in zip(metrics["rank"], metrics["restart"])]
write_csv(metrics, snakemake.output.metrics, provenance=PROVENANCE)
write_csv(summary, snakemake.output.summary, provenance=PROVENANCE)
logging.info("chosen rank %d (%s)\n%s", rank, select["selection"], summary.to_string())
