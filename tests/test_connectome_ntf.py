"""HALS non-negative CP: planted recovery, masks, determinism, backends, estimator."""

from __future__ import annotations

import numpy as np
import pytest

from neurodyn.connectome.ntf import NTF, non_negative_cp_hals, reconstruct
from neurodyn.connectome.rank import match_components
from neurodyn.errors import InvalidInputError


def planted(shape=(30, 5, 120), rank=3, seed=0):
    rng = np.random.default_rng(seed)
    # Sparse-ish non-negative factors make the CP model identifiable.
    factors = [rng.uniform(size=(n, rank)) ** 3 for n in shape]
    x = np.einsum("ir,jr,kr->ijk", *factors)
    return x, factors


def test_recovers_planted_low_rank_tensor():
    x, truth = planted()
    res = non_negative_cp_hals(x, 3, max_iter=2000, tol=1e-12, random_state=1)
    assert res.rel_error < 0.01
    _, _, scores = match_components(truth, res.factors)
    assert scores.min() > 0.99
    # Errors are measured on the fit and never increase (HALS is monotone).
    assert np.all(np.diff(res.errors) <= 1e-6)  # up to the cancellation of the cheap error formula
    # The returned factors reconstruct the tensor to the reported error.
    err = np.linalg.norm(x - reconstruct(res.weights, res.factors)) / np.linalg.norm(x)
    assert err == pytest.approx(res.rel_error, rel=1e-3, abs=1e-6)


def test_factors_normalised_and_sorted_by_time_peak():
    x, _ = planted()
    res = non_negative_cp_hals(x, 3, max_iter=200, random_state=0)
    for f in res.factors:
        np.testing.assert_allclose(np.linalg.norm(f, axis=0), 1.0, rtol=1e-6)
    assert np.all(res.weights > 0)
    peaks = np.argmax(res.factors[0], axis=0)
    assert np.all(np.diff(peaks) >= 0)


def test_masked_entries_do_not_change_the_fit():
    x, _ = planted(seed=3)
    rng = np.random.default_rng(4)
    mask = np.broadcast_to(rng.uniform(size=(1,) + x.shape[1:]) > 0.25, x.shape)
    corrupted = x.copy()
    corrupted[~mask] = rng.uniform(50, 100, size=(~mask).sum())
    a = non_negative_cp_hals(x, 3, mask=mask, max_iter=60, random_state=2)
    b = non_negative_cp_hals(corrupted, 3, mask=mask, max_iter=60, random_state=2)
    for fa, fb in zip(a.factors, b.factors):
        np.testing.assert_array_equal(fa, fb)
    assert a.errors == b.errors
    # NaN in masked entries is fine too.
    nan = x.copy()
    nan[~mask] = np.nan
    c = non_negative_cp_hals(nan, 3, mask=mask, max_iter=60, random_state=2)
    np.testing.assert_array_equal(a.factors[2], c.factors[2])


def test_masked_fit_recovers_planted_tensor():
    x, truth = planted(seed=5)
    mask = np.broadcast_to(np.random.default_rng(6).uniform(size=(1,) + x.shape[1:]) > 0.2, x.shape)
    res = non_negative_cp_hals(x, 3, mask=mask, max_iter=1500, tol=1e-12, random_state=0)
    assert res.rel_error < 0.01
    assert match_components(truth, res.factors)[2].min() > 0.99


def test_same_seed_same_result_other_seed_other_start():
    x, _ = planted()
    a = non_negative_cp_hals(x.astype(np.float32), 3, max_iter=30, tol=0, random_state=7)
    b = non_negative_cp_hals(x.astype(np.float32), 3, max_iter=30, tol=0, random_state=7)
    c = non_negative_cp_hals(x.astype(np.float32), 3, max_iter=2, tol=0, random_state=8)
    for fa, fb in zip(a.factors, b.factors):
        np.testing.assert_array_equal(fa, fb)
    assert a.factors[0].dtype == np.float32
    assert not np.allclose(a.errors[1], c.errors[1])


def test_tolerance_stops_and_history_is_kept():
    x, _ = planted()
    res = non_negative_cp_hals(x, 3, max_iter=5000, tol=1e-4, random_state=0)
    assert res.converged and res.n_iter < 5000
    assert len(res.errors) == res.n_iter
    assert abs(res.errors[-2] - res.errors[-1]) < 1e-4


def test_estimator_wraps_function():
    x, _ = planted()
    model = NTF(rank=3, max_iter=50, random_state=0).fit(x)
    ref = non_negative_cp_hals(x, 3, max_iter=50, random_state=0)
    np.testing.assert_array_equal(model.factors_[1], ref.factors[1])
    assert model.get_params()["rank"] == 3
    assert model.reconstruct().shape == x.shape


@pytest.mark.parametrize("bad", [
    lambda x: (-x, {}),
    lambda x: (x, {"rank": 0}),
    lambda x: (np.where(np.ones_like(x, bool), np.nan, x), {}),
    lambda x: (x[0], {}),
])
def test_bad_input_raises(bad):
    x, _ = planted(shape=(4, 3, 5))
    data, kw = bad(x)
    with pytest.raises(InvalidInputError):
        non_negative_cp_hals(data, kw.get("rank", 2))


@pytest.mark.torch
def test_numpy_and_torch_agree():
    torch = pytest.importorskip("torch")
    x, _ = planted()
    mask = np.broadcast_to(np.random.default_rng(1).uniform(size=(1,) + x.shape[1:]) > 0.2, x.shape)
    for m in (None, mask):
        rn = non_negative_cp_hals(x, 3, mask=m, max_iter=40, tol=0, random_state=3)
        rt = non_negative_cp_hals(torch.as_tensor(x), 3, mask=None if m is None else torch.as_tensor(np.array(m)),
                                  max_iter=40, tol=0, random_state=3)
        assert isinstance(rt.factors[0], torch.Tensor)
        for fn, ft in zip(rn.factors, rt.factors):
            np.testing.assert_allclose(ft.numpy(), fn, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(rt.errors, rn.errors, rtol=1e-6, atol=1e-8)
