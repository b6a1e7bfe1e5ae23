"""States of one animal without identities or behaviour: validation in time, skips stated."""

from __future__ import annotations

import numpy as np
import pytest

from neurodyn.data import build_cohort, make_recording
from neurodyn.states import metrics
from neurodyn.states.real import analyse_cohort, analyse_single_animal, summary_markdown


def planted_two_state_ar(n_time=600, n_neurons=6, random_state=0):
    """One animal, 2 states with dwell ~50 bins; x_t = a x_{t-1} + (1 - a) mu_s + noise, mu_0 = -mu_1."""
    rng = np.random.default_rng(random_state)
    z = np.zeros(n_time, int)
    for t in range(1, n_time):
        z[t] = z[t - 1] if rng.random() > 0.02 else 1 - z[t - 1]
    mu = np.stack([-np.ones(n_neurons), np.ones(n_neurons)]) * rng.uniform(1.5, 2.5, n_neurons)
    mu[1, ::2] *= -1  # the states are a pattern across neurons, not a common shift
    mu[0] = -mu[1]
    x = np.zeros((n_time, n_neurons))
    x[0] = mu[z[0]]
    for t in range(1, n_time):
        x[t] = 0.5 * x[t - 1] + 0.5 * mu[z[t]] + rng.normal(0, 0.5, n_neurons)
    return x, z


@pytest.fixture(scope="module")
def one_mouse():
    x, z = planted_two_state_ar()
    rec = make_recording(x, np.arange(len(x)) / 2.0, [f"plane0_roi{i}" for i in range(x.shape[1])], animal="m1")
    cohort = build_cohort([rec])
    kw = dict(representations=["trace"], n_states_range=[2, 3], l1=[0.01], max_iter=20, m_step_iter=10,
              n_init=1, init_iter=3, n_permutations=10, random_state=0)
    return cohort, z, analyse_cohort(cohort, **kw)


def test_one_animal_states_recover_the_planted_states(one_mouse):
    cohort, z, out = one_mouse
    fit = out["fit"]
    assert fit.attrs["n_states"] >= 2
    ami = metrics.adjusted_mutual_information(z, fit["viterbi_state"].values[0])
    assert ami > 0.5
    b = out["behaviour"].set_index("model")
    # held-out LL per neuron-bin of the last 25 %: finite for both likelihood models
    assert np.isfinite(b.loc["hmmglm", "heldout_ll_per_entry"]) and np.isfinite(b.loc["gaussian_hmm",
                                                                                      "heldout_ll_per_entry"])
    assert (b["n_neurons"] == 6).all() and (b["n_bins"] == 150).all()
    # the selection is scored inside the training part only
    assert (out["selection"]["n_heldout"] == 6 * (450 - round(450 * 0.75))).all()


def test_one_animal_reports_the_skips(one_mouse):
    _, _, out = one_mouse
    b = out["behaviour"]
    assert b["ami_reversal"].isna().all()
    assert b["note"].str.contains("skipped: 1 animal, no neuron identities").all()
    assert b["note"].str.contains("skipped: no behavior_reversal").all()
    a = out["anatomy"]
    assert len(a) > 0 and a["auroc"].isna().all() and a["note"].str.startswith("skipped: no neuron identities").all()
    text = summary_markdown(b, a, "cmd")
    assert "skipped: no behavior_reversal" in text and "skipped: no neuron identities" in text
    assert "nan" not in text


def test_several_animals_without_identities_are_refused_with_a_reason():
    x, _ = planted_two_state_ar(n_time=60)
    recs = [make_recording(x, np.arange(60) / 2.0, ["roi0", "roi1", "roi2", "roi3", "roi4", "roi5"], animal=a)
            for a in ("m1", "m2")]
    from neurodyn.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="one animal per dataset"):
        analyse_single_animal(build_cohort(recs))


def test_single_animal_path_keeps_the_cohort_settings():
    # the one-animal path is reached through analyse_cohort's keywords: same names, same defaults
    from defaults_sync import assert_signatures_match

    from neurodyn.states.real import analyse_cohort, analyse_single_animal

    assert_signatures_match(analyse_cohort, analyse_single_animal)
