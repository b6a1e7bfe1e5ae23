"""One NTF fit of the rank sweep: a given rank and random restart."""

import logging
import sys

from neurodyn.connectome.ntf import fit_affinity, ntf_to_dataset
from neurodyn.io import provenance, read_netcdf, write_netcdf

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

rank, restart = int(snakemake.wildcards.cx_rank), int(snakemake.wildcards.cx_restart)
affinity = read_netcdf(snakemake.input[0])
result = fit_affinity(affinity, rank, random_state=snakemake.params.random_state, **snakemake.params.ntf)
ds = ntf_to_dataset(result, affinity, attrs={"restart": restart})
ds.attrs.update(provenance(random_state=snakemake.params.random_state, config=dict(snakemake.params.ntf)))
write_netcdf(ds, snakemake.output[0])
logging.info("rank %d restart %d: rel. error %.4f after %d iterations", rank, restart, result.rel_error,
             result.n_iter)
