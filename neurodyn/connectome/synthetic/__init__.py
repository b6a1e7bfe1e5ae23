"""Planted-truth data for the dynamic functional connectome.

- :mod:`~neurodyn.connectome.synthetic.generators`: cohorts of calcium traces whose
  communities are planted in the dynamics (switching community configurations, a
  rate network with switching block coupling, communities under a brain-wide drive),
  each returned with its planted truth;
- :mod:`~neurodyn.connectome.synthetic.scoring`: a fit scored against that truth
  (matched congruence of the components, NMI of their communities);
- :mod:`~neurodyn.connectome.synthetic.lfr`: weighted LFR benchmark graphs and their
  no-structure control, for the community step alone.
"""

from neurodyn.connectome.synthetic.generators import (GENERATORS, NOISE_LEVELS, global_drive_cohort, latent_drive,
                                                      planted_community_cohort, rate_network_cohort,
                                                      switching_cohort)
from neurodyn.connectome.synthetic.lfr import (LFRGraph, _power_law_mean, lfr_min_degree, lfr_mixing, lfr_null_graph,
                                               weighted_lfr_graph)
from neurodyn.connectome.synthetic.scoring import planted_factors, planted_recovery, windowed_profile

__all__ = [
    "GENERATORS", "NOISE_LEVELS", "global_drive_cohort", "rate_network_cohort", "switching_cohort",
    "LFRGraph", "latent_drive", "lfr_min_degree", "lfr_mixing", "lfr_null_graph", "planted_community_cohort",
    "planted_factors", "planted_recovery", "weighted_lfr_graph", "windowed_profile",
]
