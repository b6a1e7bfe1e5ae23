"""Nested weighted SBM (description length) against planted partitions; modularity baselines.

The graphs come from a generator written here (not the project's LFR generator): a
planted partition with edge probabilities ``p_in``/``p_out`` and weights drawn from a
chosen distribution, with means that may differ within and between groups.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import normalized_mutual_info_score as nmi

from neurodyn.connectome.communities import (BlockCapWarning, WeightedSBM, community_strength, description_length,
                                             detect_communities, leiden_available, louvain, weighted_sbm)
from neurodyn.errors import InvalidInputError

FAST = dict(variants=("plain",), weight_model="exponential")


def planted_graph(sizes=(30, 30, 30), p_in=0.25, p_out=0.02, weights="exponential", mean_in=1.0, mean_out=1.0,
                  seed=0):
    """Symmetric weight matrix with planted groups; 0 = no edge."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(sizes)), sizes)
    n = labels.size
    same = labels[:, None] == labels[None, :]
    adj = rng.random((n, n)) < np.where(same, p_in, p_out)
    mean = np.where(same, mean_in, mean_out)
    if weights == "exponential":
        w = rng.exponential(mean)
    elif weights == "normal":      # positive in practice: mean 20 sd, 1 sd
        w = rng.normal(20 * mean, mean)
    elif weights == "lognormal":
        w = np.exp(rng.normal(np.log(mean), 1.0))
    else:
        raise ValueError(weights)
    w = np.triu(np.where(adj, np.maximum(w, 1e-9), 0.0), 1)
    return w + w.T, labels


# ------------------------------------------------------------------ recovery


@pytest.mark.parametrize("seed", [0, 1])
def test_nested_sbm_recovers_planted_partition_and_number_of_blocks(seed):
    # With c_in = N p_in = 22.5, c_out = N p_out = 1.8 and mean degree c = 8.7, the
    # graph is far above the detectability threshold of three equal groups,
    # c_in − c_out = 20.7 > q √c = 8.85 (Decelle et al. 2011): recovery is near exact.
    w, truth = planted_graph(seed=seed)
    fit = weighted_sbm(w, random_state=0, **FAST)
    assert fit.n_blocks == 3
    assert nmi(truth, fit.labels) > 0.95
    # Hierarchy: the last level has one group, each level labels the blocks below.
    assert fit.hierarchy[-1].tolist() == [0]
    assert fit.hierarchy[0].size == fit.n_blocks
    # The reported length is the nested DL of the labels and hierarchy found.
    assert fit.description_length == pytest.approx(
        description_length(w, fit.labels, variant=fit.variant, weight_model="exponential", hierarchy=fit.hierarchy))


def test_weights_alone_carry_the_communities_of_a_complete_graph():
    # Every pair is an edge (as in the NTF pair factors): only the weights tell the
    # groups apart (exponential means 3 within, 1 between).
    w, truth = planted_graph(sizes=(20, 20, 20), p_in=1.0, p_out=1.0, mean_in=3.0, mean_out=1.0, seed=2)
    assert (w[~np.eye(60, dtype=bool)] > 0).all()
    fit = weighted_sbm(w, random_state=0, **FAST)
    assert fit.n_blocks == 3 and nmi(truth, fit.labels) > 0.95


def test_true_partition_is_shorter_than_wrong_ones():
    w, truth = planted_graph(p_in=0.25, p_out=0.02, mean_in=3.0, seed=3)
    rng = np.random.default_rng(0)
    merged = np.where(truth == 2, 1, truth)
    split = truth.copy()
    split[(truth == 0) & (rng.random(truth.size) < 0.5)] = 3
    shuffled = rng.permutation(truth)
    for variant in ("plain", "degree_corrected"):
        for model in ("nested", "flat"):
            for wm in ("exponential", "normal", "lognormal"):
                kw = dict(variant=variant, model=model, weight_model=wm)
                true = description_length(w, truth, **kw)
                for wrong in (merged, split, shuffled, np.zeros_like(truth)):
                    assert true < description_length(w, wrong, **kw)
    true = description_length(w, truth, model="planted_partition")
    for wrong in (merged, split, shuffled, np.zeros_like(truth)):
        assert true < description_length(w, wrong, model="planted_partition")


@pytest.mark.parametrize("generating", ["exponential", "normal", "lognormal"])
def test_weight_model_is_selected_by_description_length(generating):
    # At the planted partition, the generating weight distribution has the shortest
    # description (the log-normal carries its Jacobian, so the three are comparable).
    w, truth = planted_graph(weights=generating, seed=4)
    dls = {wm: description_length(w, truth, weight_model=wm, variant="plain") for wm in
           ("exponential", "normal", "lognormal")}
    assert min(dls, key=dls.get) == generating


def test_auto_weight_model_in_the_fit():
    w, truth = planted_graph(sizes=(25, 25), p_in=0.3, p_out=0.03, weights="lognormal", seed=5)
    fit = weighted_sbm(w, variants=("plain",), random_state=0)
    assert fit.weight_model == "lognormal"
    assert nmi(truth, fit.labels) > 0.95
    assert {c[1] for c in fit.candidates} == {"exponential", "normal", "lognormal"}
    assert fit.description_length <= min(c[3] for c in fit.candidates) + 1e-6


def test_one_group_without_structure():
    # Erdős–Rényi edges with i.i.d. weights: nothing to describe beyond one group.
    rng = np.random.default_rng(6)
    n = 80
    adj = np.triu(rng.random((n, n)) < 0.1, 1)
    w = np.where(adj, rng.exponential(1.0, (n, n)), 0.0)
    w = w + w.T
    assert weighted_sbm(w, random_state=0, **FAST).n_blocks == 1
    assert weighted_sbm(w, model="planted_partition", random_state=0, **FAST).n_blocks == 1


def test_planted_partition_option():
    w, truth = planted_graph(seed=7)
    fit = weighted_sbm(w, model="planted_partition", random_state=0, **FAST)
    assert fit.model == "planted_partition" and fit.hierarchy == []
    assert fit.n_blocks == 3 and nmi(truth, fit.labels) > 0.95
    assert fit.description_length == pytest.approx(description_length(w, fit.labels, model="planted_partition"))


def test_search_reaches_the_planted_description_length():
    # Degree heterogeneity (node propensities 0.3–1.7): the degree-corrected fit must
    # describe the graph at least as briefly as the planted partition does.
    rng = np.random.default_rng(8)
    w, truth = planted_graph(p_in=0.3, p_out=0.04, seed=8)
    theta = rng.uniform(0.3, 1.7, truth.size)
    keep = rng.random(w.shape) < np.outer(theta, theta) / 1.7 ** 2 * 1.5
    keep = np.triu(keep, 1)
    w = np.where(keep | keep.T, w, 0.0)
    fit = weighted_sbm(w, variants=("degree_corrected",), weight_model="exponential", random_state=0)
    planted = description_length(w, truth, variant="degree_corrected", weight_model="exponential")
    assert fit.description_length <= planted + 1e-6 * abs(planted)


def test_block_cap_warns_when_description_is_still_falling():
    w, truth = planted_graph(seed=9)
    with pytest.warns(BlockCapWarning, match="max_blocks=2"):
        model = WeightedSBM(max_blocks=2, random_state=0, **FAST).fit(w)
    assert model.n_blocks_ <= 2 and model.converged_ is False
    with warnings.catch_warnings():
        warnings.simplefilter("error", BlockCapWarning)
        assert WeightedSBM(max_blocks=5, random_state=0, **FAST).fit(w).n_blocks_ == 3


# ------------------------------------------------------------------ estimator


def test_estimator_clone_params_and_determinism():
    w, truth = planted_graph(sizes=(20, 20), p_in=0.35, p_out=0.03, seed=10)
    est = WeightedSBM(model="flat", random_state=3, **FAST)
    twin = clone(est)
    assert twin is not est and twin.get_params() == est.get_params()
    a, b = est.fit(w), twin.fit(w)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.n_iter_ >= 1 and a.converged_ is True
    assert a.description_length_ == pytest.approx(min(c[3] for c in a.candidates_))
    # Labels numbered by decreasing block size.
    assert np.all(np.diff(np.bincount(a.labels_)) <= 0)


def test_input_checks():
    w, _ = planted_graph(sizes=(5, 5), seed=11)
    with pytest.raises(InvalidInputError, match="symmetric"):
        weighted_sbm(np.triu(w + 1, 1))
    with pytest.raises(InvalidInputError, match="negative"):
        weighted_sbm(-w)
    for bad, match in ((dict(variants=("nested",)), "variant"), (dict(weight_model="gamma"), "weight model"),
                       (dict(model="mixed"), "model"), (dict(max_blocks=0), "max_blocks"),
                       (dict(max_iter=0), "max_iter")):
        with pytest.raises(InvalidInputError, match=match):
            weighted_sbm(w, **bad)
    with pytest.raises(InvalidInputError, match="method"):
        detect_communities(w, "spectral")


# ------------------------------------------------------------------ baselines


def test_louvain_and_leiden_baselines():
    w, truth = planted_graph(p_in=0.4, p_out=0.02, mean_in=2.0, seed=12)
    assert nmi(truth, louvain(w, random_state=0)) > 0.9
    if leiden_available():
        assert nmi(truth, detect_communities(w, "leiden", random_state=0)) > 0.9


def test_community_strength():
    w, truth = planted_graph(seed=13)
    s = community_strength(w, truth)
    np.testing.assert_allclose(s[0], w[0, truth == truth[0]].sum())


def test_equal_weights_and_empty_graph():
    # Equal weights have no normal density: auto falls back to the exponential model.
    w, _ = planted_graph(sizes=(8, 8), p_in=0.8, p_out=0.05, seed=14)
    w = (w > 0).astype(float)
    assert weighted_sbm(w, random_state=0).weight_model == "exponential"
    with pytest.raises(InvalidInputError, match="equal"):
        weighted_sbm(w, weight_model="normal")
    fit = weighted_sbm(np.zeros((5, 5)))
    assert fit.n_blocks == 1 and fit.weight_model == "none"


def test_tied_weights_keep_a_finite_description_length():
    # Weights known to one decimal repeat: a block pair of >= 4 equal weights would give the
    # normal models a residual of 0 and a description length of -inf, which a search
    # exploits by isolating ties (dozens of spurious groups). Auto keeps the exponential
    # model, the fit stays finite and finds the planted groups.
    w, truth = planted_graph(sizes=(15, 15, 15), p_in=0.5, p_out=0.05, seed=3)
    w = np.round(w, 1)
    w = np.where(w > 0, np.maximum(w, 0.1), 0.0)
    fit = weighted_sbm(w, random_state=0)
    assert fit.weight_model == "exponential"
    assert np.isfinite(fit.description_length)
    assert nmi(truth, fit.labels) >= 0.9
    with pytest.raises(InvalidInputError, match="repeat"):
        weighted_sbm(w, weight_model="lognormal")
