"""The weighted LFR benchmark graph: realised mixing and degree, determinism, infeasible parameters."""

from __future__ import annotations

import numpy as np
import pytest

from neurodyn.connectome.synthetic import (LFRGraph, _power_law_mean, lfr_min_degree, lfr_mixing, lfr_null_graph,
                                           weighted_lfr_graph)
from neurodyn.errors import InvalidInputError

SMALL = dict(avg_degree=15.0, max_degree=30, min_community=10, max_community=40)


def _mean_degree_tolerance(n, avg_degree, max_degree, exponent=2.0):
    """Half the gap to the nearest other reachable mean (integer minimum degree) + 3 standard errors."""
    k_min = lfr_min_degree(avg_degree, max_degree, exponent)
    expected = _power_law_mean(k_min, max_degree, exponent)
    k = np.arange(k_min, max_degree + 1, dtype=float)
    p = k ** -exponent / (k ** -exponent).sum()
    sd = np.sqrt((p * (k - expected) ** 2).sum())
    return abs(expected - avg_degree) + 3 * sd / np.sqrt(n), k_min


@pytest.mark.parametrize("mu, mu_weight", [(0.1, 0.05), (0.3, 0.15), (0.5, 0.25), (0.3, 0.3)])
def test_realised_mixing_and_degree_match_the_asked_ones(mu, mu_weight):
    n = 120
    g = weighted_lfr_graph(n, mu=mu, mu_weight=mu_weight, random_state=3, **SMALL)
    assert isinstance(g, LFRGraph)
    w = g.weights
    assert w.shape == (n, n) and np.allclose(w, w.T) and (np.diag(w) == 0).all() and (w >= 0).all()
    # Every node sends round(mu k) of its k edges out: per node the error is at most 1/(2k),
    # with mean ~0 over nodes, so the node mean is within a few 1/(2 k_min sqrt(3N)) ≈ 0.003.
    assert g.mu_topology == pytest.approx(mu, abs=0.02)
    # The weights are fitted to the strength targets (relative misfit tol = 1e-4).
    assert g.mu_weight == pytest.approx(mu_weight, abs=0.01)
    tolerance, k_min = _mean_degree_tolerance(n, SMALL["avg_degree"], SMALL["max_degree"])
    assert g.mean_degree == pytest.approx(SMALL["avg_degree"], abs=tolerance)
    # The realised numbers are what the graph has (recomputed independently here).
    adj = w > 0
    same = g.labels[:, None] == g.labels[None, :]
    k = adj.sum(1)
    assert g.mean_degree == pytest.approx(k.mean())
    assert g.mu_topology == pytest.approx(np.mean((adj & ~same).sum(1) / k))
    assert g.mu_weight == pytest.approx(np.mean((w * ~same).sum(1) / w.sum(1)))
    # Power-law ranges: degrees within [k_min, max_degree] (minus the rare dropped edge),
    # community sizes within [min_community, max_community].
    assert k.max() <= SMALL["max_degree"] and k.min() >= k_min - 1
    sizes = np.bincount(g.labels)
    assert sizes.min() >= SMALL["min_community"] and sizes.max() <= SMALL["max_community"]
    # Strengths follow k^beta (beta = 1.5), up to the least-squares residual of positive weights.
    relative = w.sum(1) / k ** 1.5 - 1
    assert np.sqrt((relative ** 2).mean()) <= 0.03 and np.abs(relative).max() <= 0.1


def test_weights_carry_community_signal_only_when_mu_weight_is_below_mu():
    g = weighted_lfr_graph(120, mu=0.3, mu_weight=0.1, random_state=0, **SMALL)
    same = g.labels[:, None] == g.labels[None, :]
    inside, across = g.weights[(g.weights > 0) & same], g.weights[(g.weights > 0) & ~same]
    assert inside.mean() > 2 * across.mean()
    g = weighted_lfr_graph(120, mu=0.3, mu_weight=0.3, random_state=0, **SMALL)
    same = g.labels[:, None] == g.labels[None, :]
    inside, across = g.weights[(g.weights > 0) & same], g.weights[(g.weights > 0) & ~same]
    assert inside.mean() == pytest.approx(across.mean(), rel=0.2)


def test_large_graph_mixing():
    n = 1000
    g = weighted_lfr_graph(n, mu=0.3, mu_weight=0.15, avg_degree=20.0, max_degree=50, min_community=20,
                           max_community=100, random_state=1)
    assert g.mu_topology == pytest.approx(0.3, abs=0.01)
    assert g.mu_weight == pytest.approx(0.15, abs=0.01)
    tolerance, _ = _mean_degree_tolerance(n, 20.0, 50)
    assert g.mean_degree == pytest.approx(20.0, abs=tolerance)


def test_deterministic_given_the_seed():
    a = weighted_lfr_graph(120, mu=0.3, random_state=5, **SMALL)
    b = weighted_lfr_graph(120, mu=0.3, random_state=5, **SMALL)
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.seed == b.seed
    c = weighted_lfr_graph(120, mu=0.3, random_state=6, **SMALL)
    assert not np.array_equal(a.weights, c.weights)
    # mu_weight defaults to mu / 2.
    assert a.mu_weight == pytest.approx(0.15, abs=0.01)


def test_lfr_mixing_on_a_hand_graph():
    # Two triangles joined by one edge of weight 3; the other edges weigh 1.
    w = np.zeros((6, 6))
    for i, j in [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5)]:
        w[i, j] = w[j, i] = 1.0
    w[2, 3] = w[3, 2] = 3.0
    mu_t, mu_w, k = lfr_mixing(w, np.array([0, 0, 0, 1, 1, 1]))
    assert mu_t == pytest.approx((1 / 3 + 1 / 3) / 6)
    assert mu_w == pytest.approx((3 / 5 + 3 / 5) / 6)
    assert k == pytest.approx(14 / 6)


def test_null_graph_keeps_degrees_and_has_no_communities():
    g = weighted_lfr_graph(120, mu=0.1, random_state=2, **SMALL)
    null = lfr_null_graph(g, random_state=0)
    assert np.allclose(null, null.T) and (np.diag(null) == 0).all()
    k, k0 = (null > 0).sum(1), (g.weights > 0).sum(1)
    assert np.abs(k - k0).sum() <= 0.01 * k0.sum()
    # Mixing is that of random placement: 1 - sum of squared community shares, for edges and weights.
    share = np.bincount(g.labels) / g.labels.size
    mu_t, mu_w, _ = lfr_mixing(null, g.labels)
    assert mu_t == pytest.approx(1 - (share ** 2).sum(), abs=0.05)
    assert mu_w == pytest.approx(mu_t, abs=0.05)
    assert set(np.unique(null[null > 0])) <= set(np.unique(g.weights[g.weights > 0]))


@pytest.mark.parametrize("kwargs, field", [
    (dict(mu=1.0), "mu"),
    (dict(mu=-0.1), "mu"),
    (dict(mu=0.3, mu_weight=1.5), "mu_weight"),
    (dict(mu=0.0, mu_weight=0.1), "mu_weight"),
    (dict(avg_degree=35.0), "avg_degree"),
    (dict(avg_degree=1.0), "avg_degree"),
    (dict(max_degree=200), "max_degree"),
    (dict(max_community=20), "max_community"),  # a degree-30 node needs 27 internal edges at mu = 0.1
    (dict(min_community=50, max_community=40), "min_community"),
    (dict(degree_exponent=1.0), "degree_exponent"),
])
def test_infeasible_parameters_raise(kwargs, field):
    params = {**SMALL, "mu": 0.1, **kwargs}
    with pytest.raises(InvalidInputError, match=field):
        weighted_lfr_graph(120, random_state=0, **params)


def test_community_sizes_that_cannot_tile_the_nodes_raise():
    with pytest.raises(InvalidInputError, match="min_community"):
        weighted_lfr_graph(101, mu=0.3, avg_degree=6.0, max_degree=9, min_community=10, max_community=10,
                           random_state=0)


def test_networkx_seeds_are_retried_and_failure_is_reported(monkeypatch):
    import networkx as nx

    import neurodyn.connectome.synthetic.lfr as synthetic

    real, calls = nx.LFR_benchmark_graph, []

    def first_fails(*args, seed=None, **kwargs):
        calls.append(seed)
        if len(calls) == 1:
            raise nx.ExceededMaxIterations("no luck")
        return real(*args, seed=seed, **kwargs)

    monkeypatch.setattr(nx, "LFR_benchmark_graph", first_fails)
    g = weighted_lfr_graph(120, mu=0.3, random_state=4, **SMALL)
    assert len(calls) == 2 and g.seed == calls[1]
    first = np.random.default_rng(4).integers(2**31 - 1, size=2)
    assert calls == first.tolist()

    def never(*args, **kwargs):
        raise nx.ExceededMaxIterations("no luck")

    monkeypatch.setattr(nx, "LFR_benchmark_graph", never)
    monkeypatch.setattr(synthetic, "_LFR_SEED_TRIES", 3)
    with pytest.raises(InvalidInputError, match="did not converge in 3 seeds"):
        weighted_lfr_graph(120, mu=0.3, random_state=0, **SMALL)
