"""Trace-level planted-community generators: their truth is what they plant, and the chain recovers it.

The recovery test uses ``tests/trace_generator.py`` (a latent Gaussian-process factor
model), which ``benchmarks/connectome_from_traces.py`` does not use.
"""

from __future__ import annotations

import numpy as np
import pytest

from neurodyn.connectome.communities import component_communities
from neurodyn.connectome.crossval import affinity_arrays, rank_sweep
from neurodyn.connectome.ntf import ntf_to_dataset
from neurodyn.connectome.synthetic import (GENERATORS, NOISE_LEVELS, global_drive_cohort, planted_recovery,
                                           rate_network_cohort, switching_cohort)
from neurodyn.connectome.tensor import affinity_tensor
from neurodyn.data.cohort import build_cohort
from neurodyn.errors import InvalidInputError

SMALL = dict(n_animals=3, n_neurons=30, n_time=600, n_communities=2, community_size=6, n_epochs=4,
             n_missing=2, n_gap_neurons=2, gap_s=20.0)


@pytest.fixture(scope="module")
def cohorts():
    return {name: gen(random_state=1, noise="low", **SMALL) for name, gen in GENERATORS.items()}


def _on_frames_correlation(traces, profile, community, on=True):
    """Mean correlation of the smoothed traces of same- and different-community pairs."""
    from scipy.ndimage import gaussian_filter1d

    frames = profile > 0.99 if on else profile < 0.01
    x = gaussian_filter1d(np.nan_to_num(traces[frames]), 2.0, axis=0)
    c = np.corrcoef(x.T)
    lab = community
    inside = (lab[:, None] > 0) & (lab[None, :] > 0)
    same = inside & (lab[:, None] == lab[None, :]) & ~np.eye(lab.size, dtype=bool)
    return float(np.nanmean(c[same])), float(np.nanmean(c[inside & (lab[:, None] != lab[None, :])]))


@pytest.mark.parametrize("name", list(GENERATORS))
def test_communities_co_fluctuate_while_their_configuration_is_on(cohorts, name):
    recordings, truth = cohorts[name]
    rec = recordings[0]  # animal 0 records every neuron
    traces = rec["traces"].values
    for k in np.flatnonzero(~truth["background"].values):
        within, between = _on_frames_correlation(traces, truth["temporal_profile"].values[k],
                                                 truth["community"].values[k])
        assert within > between + 0.1, (name, k, within, between)


def test_rate_network_coupling_switches_off_with_its_profile(cohorts):
    recordings, truth = cohorts["rate_network"]
    traces = recordings[0]["traces"].values
    for k in range(truth.sizes["component"]):
        on, _ = _on_frames_correlation(traces, truth["temporal_profile"].values[k], truth["community"].values[k])
        off, _ = _on_frames_correlation(traces, truth["temporal_profile"].values[k], truth["community"].values[k],
                                        on=False)
        assert on > off + 0.1, (k, on, off)


@pytest.mark.parametrize("name", list(GENERATORS))
def test_missing_neurons_and_gaps_are_nan(cohorts, name):
    recordings, truth = cohorts[name]
    cohort = build_cohort(recordings)
    present = truth["present"].sel(animal=cohort["animal"], neuron=cohort["neuron"]).values
    traces = cohort["traces"].values
    assert present[0].all() and (~present[1:]).sum(axis=1).tolist() == [2, 2]
    assert np.isnan(traces[~present[:, None, :].repeat(traces.shape[1], 1)]).all()
    # no neuron is missing from two animals, so every pair is recorded somewhere
    assert (present.sum(axis=0) >= present.shape[0] - 1).all()
    gaps = np.isnan(traces) & present[:, None, :]
    assert not gaps[0].any() and gaps[1:].any()
    frac = truth["tracked_fraction"].sel(animal=cohort["animal"], neuron=cohort["neuron"]).values
    np.testing.assert_allclose(frac[present], 1 - gaps.mean(axis=1)[present])


@pytest.mark.parametrize("name", list(GENERATORS))
def test_truth_layout_and_background(cohorts, name):
    _, truth = cohorts[name]
    bg = truth["background"].values
    assert truth.attrs["n_planted"] == int((~bg).sum()) == 2
    if name == "global_drive":
        assert bg.tolist() == [False, False, True]
        members = truth["community"].values[-1] > 0
        assert members.mean() == pytest.approx(0.85, abs=0.05)
        assert (truth["pair_weight"].values[-1][np.ix_(members, members)] > 0).mean() > 0.95
    else:
        assert not bg.any()
    for k in np.flatnonzero(~bg):
        assert np.bincount(truth["community"].values[k]).tolist()[1:] == [6, 6]
        p = truth["temporal_profile"].values[k]
        assert p.min() == pytest.approx(0.0) and p.max() == pytest.approx(1.0)


@pytest.mark.parametrize("gen", [switching_cohort, rate_network_cohort, global_drive_cohort])
def test_deterministic_given_seed_and_noise_levels_differ(gen):
    kw = dict(SMALL, n_time=200, n_epochs=2)
    (r1, t1), (r2, t2) = gen(random_state=5, **kw), gen(random_state=5, **kw)
    np.testing.assert_array_equal(r1[1]["traces"].values, r2[1]["traces"].values)
    assert t1.equals(t2)
    high, _ = gen(random_state=5, noise="high", **kw)
    assert not np.array_equal(np.nan_to_num(high[1]["traces"].values), np.nan_to_num(r1[1]["traces"].values))
    with pytest.raises(InvalidInputError, match="noise"):
        gen(random_state=5, noise="medium", **kw)


def test_noise_levels_named_for_every_generator():
    assert set(NOISE_LEVELS) == set(GENERATORS)
    assert all(set(levels) == {"low", "high"} for levels in NOISE_LEVELS.values())


def test_chain_recovers_an_independent_planted_cohort():
    from trace_generator import gp_block_cohort

    cohort, truth = gp_block_cohort(0)
    aff = affinity_tensor(cohort, method="windowed_cosine", chance="median")
    x, observed = affinity_arrays(aff)
    res = rank_sweep(x, ranks=(2,), restarts=1, mask=None if observed.all() else observed, random_state=0)
    ntf = ntf_to_dataset(res.model, aff)
    for method in ("sbm", "louvain"):
        rec = planted_recovery(truth, ntf, component_communities(ntf, method=method, random_state=0))
        assert (rec["congruence"] > 0.9).all(), rec
        assert (rec["nmi"] > 0.95).all(), (method, rec)
