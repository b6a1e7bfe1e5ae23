"""One replicate of the rank sweep: a given rank and restart, cross-validated.

The replicate hides its own random share of the observed entries, in blocks of windows of
one (animal, pair) with guard windows either side left out of training (the same entries
at every rank, drawn from the restart's seed), fits the rest from a random start, scores
the hidden entries, then refits every observed entry from that fit (the model kept for the
similarity of restarts and, at the chosen rank, the final NTF).
"""

import logging
import sys

from neurodyn.connectome.crossval import affinity_arrays, cv_fit_affinity, heldout_mask
from neurodyn.connectome.ntf import ntf_to_dataset
from neurodyn.io import provenance, read_netcdf, rule_provenance, write_netcdf

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
PROVENANCE = rule_provenance(snakemake.params)  # code version, config hash, seed, versions

rank, restart = int(snakemake.wildcards.cx_rank), int(snakemake.wildcards.cx_restart)
affinity = read_netcdf(snakemake.input[0])
design = dict(snakemake.params.heldout)  # heldout_block, heldout_guard (windows)
held = heldout_mask(affinity_arrays(affinity)[1], snakemake.params.heldout_fraction,
                    random_state=snakemake.params.heldout_random_state, block=design["heldout_block"])
fit = cv_fit_affinity(affinity, rank, heldout=held, guard=design["heldout_guard"],
                      random_state=snakemake.params.random_state, **snakemake.params.ntf)
result = fit.result
ds = ntf_to_dataset(result, affinity, attrs={
    "restart": restart, "train_error": fit.train_error, "test_error": fit.test_error,
    "n_heldout": fit.n_heldout, "heldout_fraction": float(snakemake.params.heldout_fraction), **design,
    "cv_n_iter": int(fit.cv_result.n_iter), "cv_converged": int(fit.cv_result.converged)})
ds.attrs.update(provenance(random_state=snakemake.params.random_state,
                           config={**dict(snakemake.params.ntf), **design,
                                   "heldout_fraction": snakemake.params.heldout_fraction,
                                   "heldout_random_state": snakemake.params.heldout_random_state}))
write_netcdf(ds, snakemake.output[0], provenance=PROVENANCE)
logging.info("rank %d restart %d: %d entries held out; train error %.4f, held-out error %.4f (%d iterations); "
             "refit to every entry: rel. error %.4f after %d iterations", rank, restart, fit.n_heldout,
             fit.train_error, fit.test_error, fit.cv_result.n_iter, result.rel_error, result.n_iter)
