"""Communities of every NTF component: nested weighted SBM, with modularity baselines."""

import logging
import sys

import pandas as pd

from neurodyn.connectome.chain import community_step
from neurodyn.connectome.communities import compare_methods, component_communities, leiden_available
from neurodyn.io import read_netcdf, write_csv

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
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
    write_csv(empty, snakemake.output.communities)
    write_csv(empty.drop(columns="method"), snakemake.output.table)
    write_csv(pd.DataFrame(columns=["component"]), snakemake.output.methods)
    sys.exit(0)
sbm = {key: value for key, value in cfg.items() if key != "baselines"}  # component_communities keywords
# one component at a time, with a progress line every 30 s while a search runs
tables = {"sbm": community_step(ntf, method="sbm", random_state=random_state, **sbm)}
for method in cfg["baselines"]:
    if method == "leiden" and not leiden_available():
        logging.warning("leidenalg is not installed; skipping the Leiden baseline")
        continue
    tables[method] = component_communities(ntf, method=method, random_state=random_state)
write_csv(pd.concat(tables.values(), ignore_index=True), snakemake.output.communities)
write_csv(tables["sbm"].drop(columns="method"), snakemake.output.table)
write_csv(compare_methods(tables), snakemake.output.methods)
logging.info("\n%s", compare_methods(tables).to_string())
