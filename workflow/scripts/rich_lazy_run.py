"""One rich/lazy training run (a rank-sweep cell or an init-comparison cell) -> NetCDF."""

import logging
import sys

from neurodyn.circuits.rich_lazy import run_experiment
from neurodyn.io import provenance, rule_provenance, write_netcdf

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
PROVENANCE = rule_provenance(snakemake.params)  # code version, config hash, seed, versions

run = dict(snakemake.params.run)
ds = run_experiment(run)
ds.attrs.update(provenance(random_state=run["random_state"], config=run))
write_netcdf(ds, snakemake.output[0], provenance=PROVENANCE)
logging.info("%s", {k: float(ds[k].values.ravel()[0]) for k in ("weight_change", "representation_alignment",
                                                                  "kernel_alignment", "final_accuracy")})
