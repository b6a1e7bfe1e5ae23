"""Cross-validated rank selection (held-out entries, one-SE rule) on planted ranks and on
data without structure.

The planted tensors are made here, apart from ``neurodyn.connectome.synthetic`` and from
the benchmark's generator: non-negative CP tensors whose components look like the
connectome's (time profiles of community configurations that switch over the recording
on a shared baseline, every component present in every animal with similar loadings,
pair factors of overlapping communities), times mean-one gamma noise.  With shape ``k``
the noise alone gives a relative error ``√(1/(k+1))`` at the true rank: 0.5 for ``k = 3``,
the noise floor the elbow rule fails at.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from sklearn.base import BaseEstimator, clone

from defaults_sync import assert_signatures_match
from neurodyn.connectome.crossval import (RankSweep, affinity_arrays, cv_fit, heldout_mask, masked_rel_error,
                                          rank_sweep)
from neurodyn.connectome import ntf
from neurodyn.connectome.ntf import is_signed, reconstruct
from neurodyn.connectome.rank import match_components, select_rank
from neurodyn.connectome.tensor import affinity_tensor
from neurodyn.errors import InvalidInputError

NOISE_SHAPE = 3.0  # gamma shape: relative noise √(1/(k+1)) = 0.5


def switching_communities(rank, seed, n_windows=24, n_animals=3, n_neurons=16, shape=NOISE_SHAPE):
    """``(noisy, truth, factors)``: a planted non-negative rank-``rank`` tensor, mean-one gamma noise."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, n_windows)
    peaks = np.linspace(0.15, 0.85, rank)
    time = np.stack([0.25 + np.exp(-0.5 * ((t - c) / 0.12) ** 2) for c in peaks], axis=1)
    animals = rng.uniform(0.6, 1.4, size=(n_animals, rank))
    iu = np.triu_indices(n_neurons, 1)
    pairs = []
    for _ in range(rank):
        member = np.zeros(n_neurons)
        member[rng.permutation(n_neurons)[: n_neurons // 2]] = 1.0
        w = 0.15 + np.outer(member, member) * rng.uniform(0.6, 1.0, size=(n_neurons, n_neurons))
        pairs.append(w[iu])
    factors = [time, animals, np.stack(pairs, axis=1)]
    truth = np.einsum("ir,jr,kr->ijk", *factors)
    return truth * rng.gamma(shape, 1.0 / shape, size=truth.shape), truth, factors


def random_walk_affinity(seed, n_animals=2, n_neurons=30, n_time=1200, rate=4.0, chance="independent",
                         method="windowed_cosine"):
    """The affinity tensor of independent random walks: no structure.

    With the independence chance level: without it (the default ``chance="none"``) each
    window's per-neuron activity level is itself low-rank structure, the held-out curve is
    flat within 0.003 and the picked rank hangs on noise (docs/connectome.md, Affinity).
    """
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(size=(n_animals, n_time, n_neurons)), axis=1).astype(np.float32)
    cohort = xr.Dataset({"traces": (("animal", "time", "neuron"), x)},
                        coords={"animal": [f"a{i}" for i in range(n_animals)], "time": np.arange(n_time) / rate,
                                "neuron": [f"n{i}" for i in range(n_neurons)]},
                        attrs={"sampling_rate_hz": rate})
    return affinity_tensor(cohort, chance=chance, method=method)


@pytest.mark.parametrize("planted, seed", [(2, 0), (3, 0)])
def test_cv_picks_the_planted_rank_where_the_elbow_over_splits(planted, seed):
    x, truth, factors = switching_communities(planted, seed)
    res = rank_sweep(x, ranks=range(1, 6), restarts=3, random_state=seed)
    s = res.summary.set_index("rank")
    # A realistic noise floor: the true-rank fit leaves ≥ 0.4 of the data unexplained.
    assert s.loc[planted, "best_error"] >= 0.4
    assert res.rank == planted
    # Training error keeps falling past the planted rank; held-out error gains nothing
    # beyond one standard error there (the band the rule allows).
    assert (np.diff(s["train_error"].to_numpy()) < 0).all()
    assert s.loc[planted - 1, "test_error"] > s["test_threshold"].iloc[0]
    # The old rule's failure mode at this noise: each extra component still lowers the
    # training error by more than 5 % of the sweep's total drop, so the elbow never
    # triggers and the rule returns a larger rank whose restarts agree.
    assert select_rank(res.summary, selection="elbow") > planted
    # The kept model is the planted one: components matched to the truth (congruence is
    # 1 for identical factors; 0.9 leaves room for the noise).
    assert np.mean(match_components(res.model.factors, factors)[2]) >= 0.9


@pytest.mark.parametrize("method", ["windowed_cosine", "differential"])
def test_no_structure_gives_rank_one(method):
    aff = random_walk_affinity(seed=0, method=method)
    x, observed = affinity_arrays(aff)
    res = rank_sweep(x, ranks=range(1, 7), mask=observed, restarts=3, random_state=0, signed=is_signed(aff))
    s = res.summary.set_index("rank")
    assert res.rank == 1
    # Held-out error at rank 1 is the lowest; training error still falls with every rank.
    assert s["test_error"].idxmin() == 1
    assert (np.diff(s["train_error"].to_numpy()) < 0).all()
    # On the differential affinity the elbow rule reads the falling training error as
    # structure (any rank above 1 is an over-split here: the data have none).
    if method == "differential":
        assert select_rank(res.summary, selection="elbow") > 1


def test_heldout_mask_draws_from_observed_entries_only():
    rng = np.random.default_rng(3)
    observed = rng.uniform(size=(20, 4, 300)) < 0.8
    observed[:, 1, :] = False  # an animal missing every pair stays excluded
    observed[5, :, :] = False
    observed[5, 0, 7] = True   # a window with a single observed entry
    held = heldout_mask(observed, 0.1, random_state=0)
    n = observed.sum()
    assert not (held & ~observed).any()
    # Binomial(n, 0.1): within 4 standard deviations.
    assert abs(held.sum() - 0.1 * n) < 4 * np.sqrt(n * 0.1 * 0.9)
    # Every slice with an observed entry keeps a training entry.
    train = observed & ~held
    for mode in range(3):
        axes = tuple(a for a in range(3) if a != mode)
        assert (train.any(axis=axes) == observed.any(axis=axes)).all()
    np.testing.assert_array_equal(held, heldout_mask(observed, 0.1, random_state=0))
    assert not np.array_equal(held, heldout_mask(observed, 0.1, random_state=1))
    with pytest.raises(InvalidInputError, match="heldout_fraction"):
        heldout_mask(observed, 1.5)


def test_heldout_values_are_never_read_by_the_fit(monkeypatch):
    x, _, _ = switching_communities(2, seed=4)
    held = heldout_mask(np.ones(x.shape, bool), 0.1, random_state=2)
    fit = cv_fit(x, 2, heldout=held, random_state=1, max_iter=100)
    corrupt = x.copy()
    corrupt[held] = 1e3
    fit2 = cv_fit(corrupt, 2, heldout=held, random_state=1, max_iter=100)
    for a, b in zip(fit.cv_result.factors, fit2.cv_result.factors):
        np.testing.assert_array_equal(a, b)
    assert fit.train_error == fit2.train_error
    assert fit2.test_error > 0.99 > fit.test_error  # corrupt entries are not predicted
    # The errors are the relative errors on the two sets, by their definition.
    est = reconstruct(fit.cv_result.weights, fit.cv_result.factors)
    r = x - est
    assert fit.test_error == pytest.approx(np.sqrt((r[held] ** 2).sum() / (x[held] ** 2).sum()), rel=1e-6)
    assert fit.train_error == pytest.approx(np.sqrt((r[~held] ** 2).sum() / (x[~held] ** 2).sum()), rel=1e-6)
    # Chunked over windows (one window per chunk here) it is the same number.
    monkeypatch.setattr(ntf, "CHUNK_BYTES", 1)
    assert masked_rel_error(x, fit.cv_result.weights, fit.cv_result.factors, held) == pytest.approx(
        fit.test_error, rel=1e-9)
    # The refit uses every entry and starts from the cross-validation fit.
    assert fit.result.rel_error <= fit.train_error + 0.02


def test_replicates_share_their_heldout_set_across_ranks():
    x, _, _ = switching_communities(2, seed=1)
    res = rank_sweep(x, ranks=(1, 2), restarts=2, random_state=0, max_iter=50)
    n = {key: f.n_heldout for key, f in res.fits.items()}
    assert n[(1, 0)] == n[(2, 0)] and n[(1, 1)] == n[(2, 1)] and n[(1, 0)] != n[(1, 1)]


def test_one_se_rule_on_a_table():
    base = {"rank": [1, 2, 3, 4, 5], "best_error": [0.6, 0.5, 0.48, 0.46, 0.44],
            "similarity": [1.0, 1.0, 1.0, 1.0, 1.0]}
    # Minimum at 4, but 3 is within one standard error of it: the simplest such rank wins.
    s = pd.DataFrame({**base, "test_error": [0.62, 0.55, 0.531, 0.530, 0.56],
                      "test_se": [0.01, 0.01, 0.01, 0.002, 0.01]})
    assert select_rank(s) == 3
    assert select_rank(s, n_se=0.0) == 4
    # Restarts disagree at 3: the smallest stable rank in the band.
    s.loc[2, "similarity"] = 0.5
    assert select_rank(s) == 4
    # No stable rank in the band: the largest stable rank below it.
    s.loc[3, "similarity"] = 0.5
    assert select_rank(s) == 2
    assert select_rank(s, override=5) == 5
    with pytest.raises(InvalidInputError, match="held-out"):
        select_rank(pd.DataFrame(base))
    with pytest.raises(InvalidInputError, match="selection"):
        select_rank(s, selection="aic")


def test_rank_sweep_estimator_follows_scikit_learn():
    assert_signatures_match(rank_sweep, RankSweep, ignore=("mask",))
    est = RankSweep(ranks=(1, 2), restarts=2, max_iter=60, random_state=3)
    assert isinstance(est, BaseEstimator) and clone(est).get_params() == est.get_params()
    x, _, _ = switching_communities(2, seed=2)
    est.fit(x)
    res = rank_sweep(x, ranks=(1, 2), restarts=2, max_iter=60, random_state=3)
    assert est.rank_ == res.rank and est.n_iter_ > 0 and isinstance(est.converged_, bool)
    pd.testing.assert_frame_equal(est.summary_, res.summary)
    assert "RankSweep(" in repr(est)


def test_torch_backend_gives_the_same_errors():
    torch = pytest.importorskip("torch")
    x, _, _ = switching_communities(2, seed=5)
    held = heldout_mask(np.ones(x.shape, bool), 0.1, random_state=0)
    a = cv_fit(x.astype(np.float32), 2, heldout=held, random_state=0, max_iter=60)
    b = cv_fit(torch.from_numpy(x.astype(np.float32)), 2, heldout=held, random_state=0, max_iter=60)
    assert b.test_error == pytest.approx(a.test_error, rel=1e-3)
    assert b.train_error == pytest.approx(a.train_error, rel=1e-3)
