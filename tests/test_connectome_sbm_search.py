"""The search scores moves and merges exactly: every fast update equals a full recomputation."""

from __future__ import annotations

import numpy as np
import pytest

from neurodyn.connectome.sbm import objective as ob
from neurodyn.connectome.sbm import search as se


def _graph(weight_model, seed=1, n=36):
    rng = np.random.default_rng(seed)
    adj = np.triu(rng.random((n, n)) < 0.3, 1)
    w = np.where(adj, rng.exponential(1.0, (n, n)), 0.0)
    return ob.make_graph(w + w.T, weight_model)


def _flat(graph, labels, variant, log_q):
    classes = ob._degree_classes(graph) if variant == "degree_corrected" else None
    sums = ob.block_sums(graph, labels, int(labels.max()) + 1, classes)
    return ob.flat_dl(graph, sums, variant, log_q)


@pytest.mark.parametrize("weight_model", ["exponential", "normal", "lognormal", "none"])
@pytest.mark.parametrize("variant", ["plain", "degree_corrected"])
def test_move_and_merge_scores_equal_recomputation(weight_model, variant):
    g = _graph(weight_model)
    rng = np.random.default_rng(0)
    with np.errstate(all="ignore"):
        st = se.FlatState(g, rng.integers(0, 5, g.n), variant)
        ref = _flat(g, st.labels, variant, st.log_q)
        assert st.dl() == pytest.approx(ref, abs=1e-9)
        batch = st.batch_deltas(np.arange(g.n))
        for v in range(0, g.n, 5):
            cand = np.setdiff1d(np.arange(st.B), [st.labels[v]])
            single = st.move_deltas(v, cand)
            for s, d in zip(cand, single):
                lab = st.labels.copy()
                lab[v] = s
                if st.n[st.labels[v]] > 1:
                    assert d == pytest.approx(_flat(g, lab, variant, st.log_q) - ref, abs=1e-9)
                    assert batch[v, s] == pytest.approx(d, abs=1e-9)
        merges = st.batch_merge_deltas()
        for r in range(st.B):
            cand = np.setdiff1d(np.arange(st.B), [r])
            np.testing.assert_allclose(merges[r, cand], st.merge_deltas(r, cand), atol=1e-9)
            for s in cand[:2]:
                lab = np.where(st.labels == r, s, st.labels)
                lab = np.unique(lab, return_inverse=True)[1].reshape(-1)
                assert merges[r, s] == pytest.approx(_flat(g, lab, variant, st.log_q) - ref, abs=1e-9)
        # incremental bookkeeping after moves
        for _ in range(20):
            v, s = int(rng.integers(g.n)), int(rng.integers(st.B))
            if st.n[st.labels[v]] > 1:
                st.apply_move(v, s)
        assert st.dl() == pytest.approx(_flat(g, st.labels, variant, st.log_q), abs=1e-9)


def test_planted_partition_moves_equal_recomputation():
    g = _graph("exponential", seed=2)
    with np.errstate(all="ignore"):
        st = se.PlantedState(g, np.random.default_rng(1).integers(0, 4, g.n))
        assert st.dl() == pytest.approx(ob.planted_partition_dl(g, st.labels), abs=1e-9)
        for v in range(0, g.n, 6):
            cand = np.arange(st.B)
            deltas = st.move_deltas(v, cand)
            for s in cand:
                lab = st.labels.copy()
                lab[v] = s
                if np.bincount(lab, minlength=st.B).min() > 0:
                    assert deltas[s] == pytest.approx(ob.planted_partition_dl(g, lab) - st.dl(), abs=1e-9)
