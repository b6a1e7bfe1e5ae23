"""Generate a synthetic dataset: raw Recordings per animal and the planted truth."""

import importlib
import logging
import sys
from pathlib import Path

from neurodyn.data import write_recording
from neurodyn.io import provenance, rule_provenance, write_netcdf

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
PROVENANCE = rule_provenance(snakemake.params)  # code version, config hash, seed, versions

# Generator name in the config -> library function (imported only when used).
GENERATORS = {
    "calcium": "neurodyn.data.synthetic:synthetic_cohort",
    "planted_communities": "neurodyn.connectome.synthetic:planted_community_cohort",
}

spec = dict(snakemake.params.synthetic)
module, name = GENERATORS[spec["generator"]].split(":")
generate = getattr(importlib.import_module(module), name)
animals = list(snakemake.params.animals)
recordings, truth = generate(
    n_animals=len(animals),
    n_neurons=spec["n_neurons"],
    n_time=spec["n_time"],
    sampling_rate_hz=spec["sampling_rate_hz"],
    random_state=int(snakemake.params.random_state),
)
attrs = provenance(random_state=snakemake.params.random_state, config=spec)
raw = Path(snakemake.output.raw)
for animal, rec in zip(animals, recordings):
    rec.attrs.update(attrs, animal=animal)
    write_recording(rec, raw / f"{animal}.nc")
    logging.info("wrote %s: %s", animal, dict(rec.sizes))
if truth is None:
    import xarray as xr

    truth = xr.Dataset(attrs={"note": f"generator {spec['generator']} plants no truth"})
elif "animal" in truth.dims:
    truth = truth.assign_coords(animal=animals)
truth.attrs.update(attrs)
write_netcdf(truth, snakemake.output.truth, provenance=PROVENANCE)
