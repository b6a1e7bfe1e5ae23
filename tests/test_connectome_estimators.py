"""The connectome estimators behave like scikit-learn's, stay in sync with their functions,
and NTF results convert to and from tensorly's CPTensor."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import tensorly as tl
from sklearn.base import BaseEstimator, clone
from tensorly.cp_tensor import CPTensor
from tensorly.decomposition import non_negative_parafac_hals

from defaults_sync import assert_signatures_match
from neurodyn.connectome.communities import WeightedSBM, weighted_sbm
from neurodyn.connectome.ntf import (NTF, NTFResult, fit_affinity, from_cptensor, non_negative_cp_hals,
                                     ntf_to_dataset, reconstruct, to_cptensor)
from neurodyn.connectome.rank import match_components
from neurodyn.errors import InvalidInputError

ESTIMATORS = [(NTF, non_negative_cp_hals), (WeightedSBM, weighted_sbm)]


def planted_tensor(shape=(12, 4, 40), rank=3, seed=0):
    """An exact non-negative rank-``rank`` tensor (cubed uniforms: sparse, identifiable)."""
    rng = np.random.default_rng(seed)
    factors = [rng.uniform(size=(n, rank)) ** 3 for n in shape]
    return np.einsum("ir,jr,kr->ijk", *factors), factors


def two_block_graph(seed=0, n=(6, 6)):
    """Two planted blocks: within-block weights ≈ 0.8, across ≈ 0.1."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(n)), n)
    w = np.where(labels[:, None] == labels[None, :], 0.8, 0.1) + 0.05 * rng.standard_normal((sum(n), sum(n)))
    w = np.clip((w + w.T) / 2, 0.01, None)
    np.fill_diagonal(w, 0)
    return w, labels


# ------------------------------------------------------------------ scikit-learn API


@pytest.mark.parametrize("est, func", ESTIMATORS)
def test_estimator_and_function_share_parameters_and_defaults(est, func):
    # ``mask`` is data, not a setting: it goes to NTF.fit.
    assert_signatures_match(func, est, ignore=("mask",))
    fn = set(inspect.signature(func).parameters) - {"tensor", "weights", "mask"}
    assert set(est().get_params() if est is WeightedSBM else est(2).get_params()) == fn


@pytest.mark.parametrize("make", [lambda: NTF(3, max_iter=40, tol=0.0, random_state=5),
                                  lambda: WeightedSBM(max_blocks=4, weight_model="lognormal", model="flat")])
def test_clone_params_round_trip_and_repr(make):
    est = make()
    assert isinstance(est, BaseEstimator)
    params = est.get_params()
    twin = clone(est)
    assert twin is not est and twin.get_params() == params
    other = type(est)(**{**params, "random_state": 99})
    assert other.set_params(**params) is other and other.get_params() == params
    text = repr(est)
    assert text.startswith(type(est).__name__ + "(")
    # Only non-default settings are shown, so a repr tells what is special about a model.
    changed = [k for k, v in params.items() if v != inspect.signature(type(est)).parameters[k].default]
    assert changed and all(f"{k}=" in text for k in changed)
    with pytest.raises(ValueError, match="Invalid parameter"):
        est.set_params(seed=1)


@pytest.mark.parametrize("est", [NTF, WeightedSBM])
def test_fit_has_a_numpydoc_docstring(est):
    doc = inspect.getdoc(est.fit)
    assert doc and "Parameters\n----------" in doc and "Returns\n-------" in doc


def test_init_only_stores_arguments_so_bad_settings_fail_in_fit():
    x, _ = planted_tensor()
    bad = NTF(0)                      # no error on construction
    assert bad.rank == 0
    with pytest.raises(InvalidInputError, match="positive integer"):
        bad.fit(x)
    w, _ = two_block_graph()
    sbm = WeightedSBM(variants=["bogus"])
    assert sbm.variants == ["bogus"]  # stored as given
    with pytest.raises(InvalidInputError, match="variant"):
        sbm.fit(w)


def test_ntf_fitted_attributes_and_convergence():
    x, truth = planted_tensor()
    capped = NTF(3, max_iter=5, tol=0.0, random_state=0).fit(x)
    assert capped.n_iter_ == 5 and capped.converged_ is False and len(capped.errors_) == 5
    model = NTF(3, max_iter=3000, tol=1e-10, random_state=0).fit(x)
    assert model.converged_ is True and model.n_iter_ < 3000
    assert model.rel_error_ == model.errors_[-1] < 1e-3
    _, _, scores = match_components(truth, model.factors_)
    assert scores.min() > 0.99
    # The estimator is the function: same numbers for the same settings.
    ref = non_negative_cp_hals(x, 3, max_iter=3000, tol=1e-10, random_state=0)
    np.testing.assert_array_equal(model.weights_, ref.weights)


def test_weighted_sbm_fitted_attributes_and_convergence():
    w, labels = two_block_graph(n=(10, 10))
    model = WeightedSBM(weight_model="exponential", variants=("plain",), random_state=0).fit(w)
    assert model.n_blocks_ == 2
    assert np.array_equal(model.labels_, labels) or np.array_equal(model.labels_, 1 - labels)
    assert model.n_iter_ >= 1 and model.converged_ is True
    assert model.description_length_ == min(dl for *_, dl in model.candidates_)
    assert model.hierarchy_[-1].tolist() == [0]
    # Capped below the planted B: the description was still falling, so not converged.
    with pytest.warns(UserWarning, match="still falling"):
        capped = WeightedSBM(max_blocks=1, weight_model="exponential", variants=("plain",), random_state=0).fit(w)
    assert capped.n_blocks_ == 1 and capped.converged_ is False


# ------------------------------------------------------------------ simulations


def test_simulations_have_no_fit_verb():
    from neurodyn.circuits.gain_control import GainControlAdaptation
    from neurodyn.circuits.training import RateRNN

    assert hasattr(GainControlAdaptation, "simulate") and not hasattr(GainControlAdaptation, "fit")
    assert hasattr(RateRNN, "train") and not hasattr(RateRNN, "fit")
    assert "random_state" in inspect.signature(RateRNN).parameters
    for cls, method in ((GainControlAdaptation, "simulate"), (RateRNN, "train")):
        doc = inspect.getdoc(getattr(cls, method))
        assert "Parameters\n----------" in doc and "Returns\n-------" in doc


# ------------------------------------------------------------------ tensorly interop


def test_ntf_to_cptensor_reconstructs_like_tensorly():
    x, _ = planted_tensor(seed=1)
    model = NTF(3, max_iter=200, random_state=0).fit(x)
    cp = model.to_cptensor()
    assert isinstance(cp, CPTensor)
    tl.cp_tensor._validate_cp_tensor(cp)
    np.testing.assert_allclose(tl.cp_to_tensor(cp), model.reconstruct(), rtol=1e-12, atol=1e-14)
    # tensorly's reconstruction of our fit has the error the fit reports.
    err = np.linalg.norm(x - tl.cp_to_tensor(cp)) / np.linalg.norm(x)
    assert err == pytest.approx(model.rel_error_, rel=1e-6, abs=1e-9)
    # The same through the function form, for results and for estimators.
    for obj in (model, model.result_):
        np.testing.assert_allclose(tl.cp_to_tensor(to_cptensor(obj)), model.reconstruct(), rtol=1e-12)


def test_tensorly_decomposition_comes_back_into_neurodyn():
    x, truth = planted_tensor(seed=2)
    cp = non_negative_parafac_hals(tl.tensor(x), 3, n_iter_max=300, init="random", random_state=0)
    model = NTF.from_cptensor(cp, max_iter=50)
    assert model.rank == 3 and model.max_iter == 50 and model.n_iter_ == 0
    np.testing.assert_allclose(model.reconstruct(), tl.cp_to_tensor(cp), rtol=1e-12)
    res = from_cptensor(cp)
    np.testing.assert_allclose(reconstruct(res.weights, res.factors), tl.cp_to_tensor(cp), rtol=1e-12)
    back = res.to_cptensor()
    for a, b in zip(back.factors, cp.factors):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(back.weights, cp.weights)
    # tensorly's convention ``weights=None`` (all ones) is understood.
    ones = NTFResult.from_cptensor((None, cp.factors))
    np.testing.assert_array_equal(ones.weights, np.ones(3))


def test_cptensor_warm_start_never_does_worse():
    x, _ = planted_tensor(seed=3)
    x = x + 0.01 * np.random.default_rng(0).uniform(size=x.shape)
    cp = non_negative_parafac_hals(tl.tensor(x), 3, n_iter_max=20, init="random", random_state=1)
    start_err = np.linalg.norm(x - tl.cp_to_tensor(cp)) / np.linalg.norm(x)
    warm = NTF(3, init=cp, max_iter=30, tol=0.0).fit(x)
    # HALS never increases the error, so continuing from tensorly's point cannot lose.
    assert warm.errors_[0] <= start_err + 1e-9
    assert warm.rel_error_ <= start_err + 1e-9


def test_pipeline_dataset_to_cptensor():
    from neurodyn.connectome.synthetic import planted_community_cohort
    from neurodyn.connectome.tensor import affinity_tensor
    from neurodyn.data import build_cohort

    recs, _ = planted_community_cohort(2, 12, 240, 2.0, random_state=0, community_size=4)
    aff = affinity_tensor(build_cohort(recs, min_animals=2), window_s=20.0, stride_s=10.0)
    res = fit_affinity(aff, 2, max_iter=30, random_state=0)
    ds = ntf_to_dataset(res, aff)
    cp = to_cptensor(ds)
    np.testing.assert_allclose(tl.cp_to_tensor(cp), reconstruct(res.weights, res.factors), rtol=1e-6)


@pytest.mark.parametrize("bad", [
    (np.ones(2), [np.ones((3, 2)), np.ones((4, 2))]),              # order 2
    (np.ones(2), [np.ones((3, 2)), np.ones((4, 2)), np.ones((5, 3))]),  # ragged rank
    (-np.ones(2), [np.ones((3, 2)), np.ones((4, 2)), np.ones((5, 2))]),  # negative
    (np.ones(3), [np.ones((3, 2)), np.ones((4, 2)), np.ones((5, 2))]),   # weights shape
])
def test_from_cptensor_rejects_what_ntf_cannot_hold(bad):
    with pytest.raises(InvalidInputError, match="cp_tensor"):
        from_cptensor(bad)
    with pytest.raises(InvalidInputError):
        to_cptensor(object())
