"""Schema defaults of ``connectome`` equal the defaults of the library calls they feed.

Each subsection of ``connectome`` is handed to its library call with ``**`` under the same
names, so every key must be a parameter of that call (no renaming anywhere)."""

import pytest
from defaults_sync import assert_defaults_match, schema_defaults, schema_node
from neurodyn.connectome.affinity import differential_affinity, windowed_cosine_affinity
from neurodyn.connectome.chain import flag_background
from neurodyn.connectome.communities import WeightedSBM, component_communities, weighted_sbm
from neurodyn.connectome.crossval import RankSweep, heldout_mask, rank_sweep
from neurodyn.connectome.ntf import NTF, non_negative_cp_hals
from neurodyn.connectome.rank import select_from_fits
from neurodyn.connectome.tensor import affinity_tensor

SWEEP = ("ranks", "restarts", "heldout_fraction", "selection", "n_se", "similarity_threshold", "elbow_fraction",
         "override")
# (subsection, library callable, keys it receives; None = all of the subsection's keys)
FEEDS = [
    ("affinity", affinity_tensor, None),
    ("affinity", differential_affinity, ("smooth_s", "saturation")),
    ("affinity", windowed_cosine_affinity, ("smooth_s", "saturation")),
    ("ntf", non_negative_cp_hals, None),
    ("ntf", NTF, None),
    ("rank", rank_sweep, None),
    ("rank", RankSweep, None),
    ("rank", select_from_fits, ("selection", "n_se", "similarity_threshold", "elbow_fraction", "override")),
    ("rank", heldout_mask, ("heldout_fraction",)),
    ("background", flag_background, None),
    ("communities", component_communities, ("method", "model", "weight_model", "max_blocks")),
    ("communities", weighted_sbm, ("model", "weight_model", "max_blocks")),
    ("communities", WeightedSBM, ("model", "weight_model", "max_blocks")),
]
# Workflow-only keys: the baselines run next to the SBM.
WORKFLOW_ONLY = {"communities": {"baselines"}}


def test_the_section_holds_only_the_call_groups():
    assert set(schema_node("connectome")["properties"]) == {"affinity", "ntf", "rank", "background", "communities"}


@pytest.mark.parametrize("group", ["affinity", "ntf", "rank", "background", "communities"])
def test_every_key_is_checked_or_workflow_only(group):
    fed = set()
    for g, _, keys in FEEDS:
        if g == group:
            fed |= set(keys or schema_defaults(f"connectome.{g}"))
    assert set(schema_defaults(f"connectome.{group}")) == fed | WORKFLOW_ONLY.get(group, set())


@pytest.mark.parametrize("group, func, keys", FEEDS, ids=lambda x: getattr(x, "__qualname__", None))
def test_schema_defaults_equal_library_defaults(group, func, keys):
    section = f"connectome.{group}"
    all_keys = set(schema_defaults(section))
    keys = set(keys or all_keys)
    compared = assert_defaults_match(section, func, ignore=tuple(all_keys - keys))
    assert compared == len(keys) > 0
