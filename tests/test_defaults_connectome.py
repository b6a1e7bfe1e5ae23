"""Schema defaults of ``connectome`` equal the defaults of the library calls they feed."""

from defaults_sync import assert_defaults_match, schema_defaults
from neurodyn.connectome.affinity import differential_affinity, windowed_cosine_affinity
from neurodyn.connectome.communities import WeightedSBM, component_communities, weighted_sbm
from neurodyn.connectome.ntf import NTF, non_negative_cp_hals
from neurodyn.connectome.rank import select_from_fits
from neurodyn.connectome.tensor import affinity_tensor

SECTION = "connectome"
# Workflow-only keys: the sweep's size and the baselines to run next to the SBM.
WORKFLOW_ONLY = {"ranks", "restarts", "baselines"}
# (library callable, schema keys it receives, schema key -> parameter where they differ);
# the same keys as workflow/rules/connectome_functions.smk hands them over.
FEEDS = [
    (affinity_tensor, {"affinity", "window_s", "stride_s", "dtype", "chance", "min_coverage"}, {"affinity": "method"}),
    (differential_affinity, {"smooth_s", "saturation"}, {}),
    (windowed_cosine_affinity, {"smooth_s", "saturation"}, {}),
    (non_negative_cp_hals, {"max_iter", "tol", "n_inner"}, {}),
    (NTF, {"max_iter", "tol", "n_inner"}, {}),
    (select_from_fits, {"similarity_threshold", "elbow_fraction", "rank"}, {"rank": "override"}),
    (component_communities, {"max_blocks"}, {}),
    (weighted_sbm, {"max_blocks"}, {}),
    (WeightedSBM, {"max_blocks"}, {}),
]


def test_every_key_is_checked_or_workflow_only():
    fed = set().union(*(keys for _, keys, _ in FEEDS))
    assert set(schema_defaults(SECTION)) == fed | WORKFLOW_ONLY


def test_schema_defaults_equal_library_defaults():
    keys = set(schema_defaults(SECTION))
    compared = sum(assert_defaults_match(SECTION, func, rename=rename, ignore=tuple(keys - fed))
                   for func, fed, rename in FEEDS)
    assert compared == sum(len(fed) for _, fed, _ in FEEDS) > 0
