"""The scope table: what runs on a dataset and why cross-animal or identity steps are skipped."""

from __future__ import annotations

import numpy as np

from neurodyn.data import build_cohort, make_recording
from neurodyn.data.qc import analysis_scope


def _rec(animal, names, reversal=True):
    t = np.arange(20) / 2.0
    behaviour = {"reversal": (np.arange(20) % 4 == 0).astype(int)} if reversal else {}
    return make_recording(np.random.default_rng(0).normal(size=(20, len(names))), t, names, animal=animal,
                          behavior=behaviour)


def test_scope_of_one_animal_without_identities_listed_for_states():
    cohort = build_cohort([_rec("m1", ["plane0_roi0", "plane0_roi3"], reversal=False)])
    scope = analysis_scope(cohort, states=True).set_index("step")
    row = scope.loc["states: HMM-GLM of the recorded animals"]
    assert row["status"] == "run (one animal)"
    assert row["detail"].startswith("one animal, no identified neurons, no reversal behaviour: validated in time")
    assert row["detail"].endswith("skipped: AMI with reversals (no reversal behaviour); anatomy AUROCs "
                                  "(no identified neurons)")
    assert scope.loc["cohort: match neurons across animals by identity", "status"] == "skipped"
    assert scope.loc["connectome: NTF of pair × window × animal affinities", "status"] == "run (one animal)"


def test_scope_of_two_identified_worms():
    cohort = build_cohort([_rec("w1", ["AVAL", "AVAR", "roi_002"]), _rec("w2", ["AVAL", "AVAR"])], min_animals=2)
    table = analysis_scope(cohort, states=True).set_index("step")
    assert set(table["status"]) == {"run"}
    assert table.loc["cohort: match neurons across animals by identity", "detail"] == \
        "2 identified neurons in at least 2 animals"


def test_scope_of_one_identified_worm_and_of_several_animals_without_identities():
    one = analysis_scope(build_cohort([_rec("w1", ["AVAL", "AVAR"])]), states=True).set_index("step")
    row = one.loc["states: HMM-GLM of the recorded animals"]
    assert row["status"] == "run (one animal)" and "skipped" not in row["detail"]
    two = build_cohort([_rec("m1", ["plane0_roi0", "plane0_roi1"]), _rec("m2", ["plane0_roi0", "plane0_roi1"])])
    row = analysis_scope(two, states=True).set_index("step").loc["states: HMM-GLM of the recorded animals"]
    assert row["status"] == "not possible" and "one animal per dataset" in row["detail"]
