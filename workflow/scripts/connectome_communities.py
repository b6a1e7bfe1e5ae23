"""Communities of every NTF component by the configured method, with the baselines beside it."""

import logging
import sys

import pandas as pd

from neurodyn.connectome.chain import community_step
from neurodyn.connectome.communities import compare_methods, leiden_available
from neurodyn.io import read_netcdf, rule_provenance, write_csv
from neurodyn.progress import STEP_EVERY_S

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
PROVENANCE = rule_provenance(snakemake.params)  # code version, config hash, seed, versions
logging.captureWarnings(True)  # e.g. the SBM's warning when max_blocks binds

cfg = snakemake.params.communities
ntf = read_netcdf(snakemake.input[0])
if "background" in ntf:  # brain-wide components: no communities to find
    background = ntf["component"].values[ntf["background"].values.astype(bool)].tolist()
    if background:
        logging.info("background components %s (pair spread ≥ %s) are left out of the community step",
                     background, ntf.attrs.get("background_spread"))
    ntf = ntf.isel(component=~ntf["background"].values.astype(bool))
random_state = snakemake.params.random_state
COLUMNS = ["component", "neuron", "community", "strength", "method", "n_communities", "variant", "weight_model",
           "description_length"]
if ntf.sizes["component"] == 0:
    logging.warning("every component is background: no communities to find")
    empty = pd.DataFrame(columns=COLUMNS)
    write_csv(empty, snakemake.output.communities, provenance=PROVENANCE)
    write_csv(empty.drop(columns="method"), snakemake.output.table, provenance=PROVENANCE)
    write_csv(pd.DataFrame(columns=["component"]), snakemake.output.methods, provenance=PROVENANCE)
    sys.exit(0)
kwargs = {key: value for key, value in cfg.items() if key != "baselines"}  # component_communities keywords
chosen = kwargs.get("method", "leiden_dl")
methods = {chosen: kwargs}
for method in cfg["baselines"]:
    if method == chosen:
        continue
    if method == "leiden" and not leiden_available():
        logging.warning("leidenalg is not installed; skipping the Leiden baseline")
        continue
    methods[method] = {"method": method}
# One component at a time (chain.community_step), so that the log says where the search is
# and how long the rest should take; the same table as one call over all components.
tables = {method: community_step(ntf, random_state=random_state, every_s=STEP_EVERY_S, **method_kwargs)
          for method, method_kwargs in methods.items()}
write_csv(pd.concat(tables.values(), ignore_index=True), snakemake.output.communities, provenance=PROVENANCE)
write_csv(tables[chosen].drop(columns="method"), snakemake.output.table, provenance=PROVENANCE)
write_csv(compare_methods(tables), snakemake.output.methods, provenance=PROVENANCE)
logging.info("\n%s", compare_methods(tables).to_string())
