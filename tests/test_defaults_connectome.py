"""Schema defaults of ``connectome`` equal the defaults of the library calls they feed."""

from defaults_sync import assert_defaults_match, schema_defaults
from neurodyn.connectome.affinity import differential_affinity, windowed_cosine_affinity
from neurodyn.connectome.communities import WeightedSBM, component_communities, weighted_sbm
from neurodyn.connectome.crossval import RankSweep, heldout_mask, rank_sweep
from neurodyn.connectome.ntf import NTF, non_negative_cp_hals
from neurodyn.connectome.rank import select_from_fits
from neurodyn.connectome.tensor import affinity_tensor

SECTION = "connectome"
# Workflow-only keys: the baselines to run next to the SBM.
WORKFLOW_ONLY = {"baselines"}
# The keys of the rank sweep (connectome_rank_fit and connectome_rank_selection jobs; the
# whole sweep in one call is rank_sweep / RankSweep).
SWEEP = {"ranks", "restarts", "heldout_fraction", "selection", "n_se", "similarity_threshold", "elbow_fraction",
         "max_iter", "tol", "n_inner", "rank"}
# (library callable, schema keys it receives, schema key -> parameter where they differ);
# the same keys as workflow/rules/connectome_functions.smk hands them over.
FEEDS = [
    (affinity_tensor, {"affinity", "window_s", "stride_s", "dtype", "chance", "min_coverage"}, {"affinity": "method"}),
    (differential_affinity, {"smooth_s", "saturation"}, {}),
    (windowed_cosine_affinity, {"smooth_s", "saturation"}, {}),
    (non_negative_cp_hals, {"max_iter", "tol", "n_inner"}, {}),
    (NTF, {"max_iter", "tol", "n_inner"}, {}),
    (select_from_fits, {"selection", "n_se", "similarity_threshold", "elbow_fraction", "rank"},
     {"rank": "override"}),
    (heldout_mask, {"heldout_fraction"}, {}),
    (rank_sweep, SWEEP, {"rank": "override"}),
    (RankSweep, SWEEP, {"rank": "override"}),
    (component_communities, {"max_blocks", "weight_model", "model"}, {}),
    (weighted_sbm, {"max_blocks", "weight_model", "model"}, {}),
    (WeightedSBM, {"max_blocks", "weight_model", "model"}, {}),
]


def test_every_key_is_checked_or_workflow_only():
    fed = set().union(*(keys for _, keys, _ in FEEDS))
    assert set(schema_defaults(SECTION)) == fed | WORKFLOW_ONLY


def test_schema_defaults_equal_library_defaults():
    keys = set(schema_defaults(SECTION))
    compared = sum(assert_defaults_match(SECTION, func, rename=rename, ignore=tuple(keys - fed))
                   for func, fed, rename in FEEDS)
    assert compared == sum(len(fed) for _, fed, _ in FEEDS) > 0
