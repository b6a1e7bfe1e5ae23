"""Dynamic functional connectomes (Dyballa et al., ICLR 2024).

Calcium traces → windowed affinities of their derivatives, less chance → a window × animal
× pair tensor (with a per-window mask for missing neurons and untracked frames) → masked
non-negative CP by HALS → rank by guarded held-out cross-validation → background
(brain-wide) components flagged → communities per other component (Leiden's partition
checked by the nested weighted SBM's description length; the paper's nested SBM, Louvain
and Leiden as options).  :func:`connectome` runs the whole chain.
"""

from neurodyn.connectome.affinity import (AFFINITIES, correlation_affinity, differential_affinity, pair_coverage,
                                          robust_derivative, tracked_frames, window_bounds, windowed_affinity,
                                          windowed_cosine_affinity)
from neurodyn.connectome.communities import (METHODS, MODELS, BlockCapWarning, SBMFit, WeightedSBM,
                                             community_strength, compare_methods, component_communities,
                                             component_graph, description_length, detect_communities, leiden,
                                             leiden_dl, louvain, weighted_sbm)
from neurodyn.connectome.chain import (ConnectomeResult, background_components, connectome, flag_background,
                                       pair_spread)
from neurodyn.connectome.crossval import (CVFit, RankSweep, RankSweepResult, RankSweepWarning, cv_fit, cv_fit_affinity,
                                          guard_mask, heldout_design, heldout_mask, rank_sweep)
from neurodyn.connectome.ntf import (NTF, NTFResult, components_table, dataset_factors, fit_affinity,
                                     from_cptensor, non_negative_cp_hals, ntf_to_dataset, reconstruct,
                                     to_cptensor)
from neurodyn.connectome.rank import (SweepFit, congruence_matrix, match_components, rank_summary, select_from_fits,
                                      select_rank, similarity, sweep_metrics)
from neurodyn.connectome.synthetic import (LFRGraph, lfr_mixing, lfr_null_graph, planted_community_cohort,
                                           planted_factors, planted_recovery, weighted_lfr_graph)
from neurodyn.connectome.tensor import affinity_tensor, fold_pairs, pair_index, tensor_memory_bytes

#: The public API: the chain, its steps' main calls and their results.  The other names
#: imported above stay importable from here for existing code, but belong to their modules.
__all__ = [
    # the whole chain
    "connectome", "ConnectomeResult",
    # affinity tensor
    "affinity_tensor", "AFFINITIES", "fold_pairs", "tensor_memory_bytes",
    # rank
    "rank_sweep", "RankSweep", "RankSweepResult", "RankSweepWarning", "heldout_design",
    # non-negative tensor factorization
    "NTF", "NTFResult", "non_negative_cp_hals", "fit_affinity", "ntf_to_dataset", "components_table",
    # brain-wide components
    "flag_background", "pair_spread",
    # communities
    "component_communities", "leiden_dl", "weighted_sbm", "WeightedSBM", "SBMFit", "description_length",
    "louvain", "leiden", "compare_methods", "METHODS",
    # scoring against a planted truth
    "planted_recovery",
]
