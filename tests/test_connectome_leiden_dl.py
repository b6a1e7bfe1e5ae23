"""The default community method: Leiden's partition checked by the nested SBM's description length.

Graphs come from a generator written here (neither the project's LFR generator nor the
trace-level cohorts): degree- and strength-heterogeneous planted partitions, where every
node ``i`` has a propensity ``θ_i`` (Pareto) that multiplies both its edge probabilities
and the mean of its weights, as in real functional graphs and in weighted LFR; and
structureless controls, sparse and complete.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import normalized_mutual_info_score as nmi

from neurodyn.connectome import communities as cm
from neurodyn.connectome.communities import (DEFAULT_METHOD, description_length, leiden, leiden_available, leiden_dl,
                                             louvain)
from neurodyn.errors import InvalidInputError


def heterogeneous_graph(sizes=(40, 30, 25, 25), mixing=0.2, mean_degree=25.0, seed=0):
    """Planted groups with Pareto node propensities θ; a fraction ``mixing`` of each node's
    expected degree goes to other groups; weights exponential with mean θ_i θ_j (×2 within)."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(sizes)), sizes)
    n = labels.size
    theta = rng.pareto(2.5, n) + 1.0
    theta /= theta.mean()
    same = labels[:, None] == labels[None, :]
    size_of = np.asarray(sizes)[labels]
    p_in = (1 - mixing) * mean_degree / size_of
    p_out = mixing * mean_degree / (n - size_of)
    p = np.outer(theta, theta) * np.where(same, np.sqrt(np.outer(p_in, p_in)), np.sqrt(np.outer(p_out, p_out)))
    adj = np.triu(rng.random((n, n)) < np.clip(p, 0, 1), 1)
    w = rng.exponential(np.outer(theta, theta) * np.where(same, 2.0, 1.0))
    w = np.where(adj, w, 0.0)
    return w + w.T, labels


def null_sparse(n=120, p=0.12, seed=0):
    rng = np.random.default_rng(seed)
    adj = np.triu(rng.random((n, n)) < p, 1)
    w = np.where(adj, rng.lognormal(0.0, 1.0, (n, n)), 0.0)
    return w + w.T


def null_complete(n=100, seed=0):
    rng = np.random.default_rng(seed)
    w = np.triu(rng.exponential(1.0, (n, n)), 1)
    return w + w.T


def test_default_method():
    assert DEFAULT_METHOD == "leiden_dl"
    assert "sbm" in cm.METHODS  # the paper's model stays an option


@pytest.mark.skipif(not leiden_available(), reason="leidenalg is not installed")
def test_recovers_heterogeneous_planted_groups():
    # Far above the detectability threshold (mean degree 25, a fifth of it across groups),
    # yet heterogeneous enough that the nested SBM alone splits groups by propensity.
    scores = []
    for seed in range(4):
        w, truth = heterogeneous_graph(seed=seed)
        fit = leiden_dl(w, random_state=seed)
        scores.append(nmi(truth, fit.labels))
        # structure is there: the modularity partition (or a coarsening of it) is kept
        assert 4 <= fit.n_blocks <= 5
        assert scores[-1] >= nmi(truth, leiden(w, random_state=seed)) - 1e-12
    assert np.mean(scores) >= 0.9
    assert sum(s >= 0.95 for s in scores) >= 3


@pytest.mark.skipif(not leiden_available(), reason="leidenalg is not installed")
@pytest.mark.parametrize("graph", ["sparse", "complete"])
@pytest.mark.parametrize("seed", [0, 1])
def test_one_group_without_structure_where_modularity_splits(graph, seed):
    w = null_sparse(seed=seed) if graph == "sparse" else null_complete(seed=seed)
    assert np.unique(leiden(w, random_state=seed)).size > 1  # modularity alone reports groups
    fit = leiden_dl(w, random_state=seed)
    assert fit.n_blocks == 1
    assert np.all(fit.labels == 0)


@pytest.mark.skipif(not leiden_available(), reason="leidenalg is not installed")
def test_choice_is_the_shortest_description_of_the_candidates():
    w, _ = heterogeneous_graph(seed=3)
    fit = leiden_dl(w, random_state=0)
    dls = [c[3] for c in fit.candidates]
    assert fit.description_length == pytest.approx(min(dls))
    # the same number from the public description-length function, partition alone
    assert fit.description_length == pytest.approx(
        description_length(w, fit.labels, fit.variant, weight_model="exponential"), rel=1e-9)
    # one group and the modularity partition are among the candidates
    assert {1, np.unique(leiden(w, random_state=0)).size} <= {c[2] for c in fit.candidates}
    # and the winner beats one group by a margin, in nats
    one = min(c[3] for c in fit.candidates if c[2] == 1)
    assert one - fit.description_length > 50


def test_louvain_proposal_without_leidenalg(monkeypatch):
    monkeypatch.setattr(cm, "leiden_available", lambda: False)
    w, truth = heterogeneous_graph(seed=0)
    fit = leiden_dl(w, random_state=0)
    assert nmi(truth, fit.labels) >= 0.95
    assert nmi(truth, fit.labels) == pytest.approx(nmi(truth, louvain(w, random_state=0)))
    assert leiden_dl(null_complete(seed=0), random_state=0).n_blocks == 1


def test_deterministic_and_checked():
    w, _ = heterogeneous_graph(seed=1)
    a, b = leiden_dl(w, random_state=5), leiden_dl(w, random_state=5)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert leiden_dl(np.zeros((4, 4))).n_blocks == 1
    with pytest.raises(InvalidInputError, match="weight_model"):
        leiden_dl(w, weight_model="gamma")
    with pytest.raises(InvalidInputError, match="negative"):
        leiden_dl(-w)
    with pytest.raises(InvalidInputError, match="at least 2"):
        leiden_dl(np.zeros((1, 1)))
    tied = np.ones((6, 6)) - np.eye(6)
    with pytest.raises(InvalidInputError, match="distinct real weights"):
        leiden_dl(tied, weight_model="normal")
    assert leiden_dl(tied).n_blocks == 1
