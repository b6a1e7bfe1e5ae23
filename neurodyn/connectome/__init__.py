"""Dynamic functional connectomes: differential affinities, masked non-negative tensor
factorization (HALS), rank selection and weighted community detection (Dyballa et al.,
ICLR 2024)."""

from neurodyn.connectome.synthetic import planted_community_cohort

__all__ = ["planted_community_cohort"]
