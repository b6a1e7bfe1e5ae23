"""Recurrent gain control (Duong et al. 2023): network, ensembles, optimal gains, effects.

The effect tests assert the five adaptation effects of Benucci, Saleem & Carandini
(2013) as signed numbers of a stated size for the default recurrent-gain network, and
the defining contrasts with the comparison models (W = 0; synaptic re-weighting).
"""

from __future__ import annotations

import numpy as np
import pytest

from neurodyn.circuits.gain_control import (
    GainControlAdaptation,
    GainControlParams,
    benucci_grid,
    build_network,
    check_stability,
    fine_grid,
    homeostatic_weights,
    objective_terms,
    optimal_gains,
    optimal_gains_numerical,
    preferred_orientations,
    ring_kernel,
    simulate_adaptation,
    steady_state,
    steady_state_operator,
    stimulus_ensemble,
    tradeoff_curve,
    von_mises_drive,
)
from neurodyn.circuits.gain_control.effects import preferred_orientation
from neurodyn.circuits.gain_control.objective import accuracy_ensemble, objective_gradient
from neurodyn.errors import InvalidInputError

PROBABILITIES = (0.3, 0.35, 0.4, 0.5)


@pytest.fixture(scope="module")
def runs():
    """Default experiments for every model and adapter probability (fast: < 1 s in all)."""
    return {(m, pi): simulate_adaptation(pi, m) for m in ("recurrent", "feedforward", "synaptic")
            for pi in PROBABILITIES}


def _small_network(strength=0.7, inhibition=0.1):
    phi = preferred_orientations(12)
    grid = benucci_grid()
    drive = von_mises_drive(grid, phi, 2.0, 0.4)
    weights = ring_kernel(phi, strength, 3.0, inhibition, 0.3)
    return phi, grid, drive, weights


# ----------------------------------------------------------------------------- ensembles
def test_benucci_grid_has_21_orientations_and_contains_the_adapter():
    grid = benucci_grid(21, adapter_deg=90.0)
    assert grid.shape == (21,)
    assert np.isclose(grid, 90.0).any()
    assert np.allclose(np.diff(grid), 180.0 / 21)


@pytest.mark.parametrize("pi", [0.0, 0.3, 0.5])
def test_biased_ensemble_splits_the_adapter_mass_half_quarter_quarter(pi):
    grid = benucci_grid()
    p = stimulus_ensemble(grid, 90.0, pi)
    a = int(np.argmin(np.abs(grid - 90.0)))
    assert p.sum() == pytest.approx(1.0)
    rest = (1 - pi) / 21
    assert p[a] == pytest.approx(rest + 0.5 * pi)
    assert p[a - 1] == pytest.approx(rest + 0.25 * pi) and p[a + 1] == pytest.approx(rest + 0.25 * pi)
    assert np.allclose(np.delete(p, [a - 1, a, a + 1]), rest)


def test_fine_grid_ensemble_has_the_same_bin_masses():
    fine = fine_grid(9)
    pf = stimulus_ensemble(fine, 90.0, 0.4)
    pc = stimulus_ensemble(benucci_grid(), 90.0, 0.4)
    assert fine.shape == (189,)
    assert np.allclose(pf.reshape(21, 9).sum(axis=1), pc)


@pytest.mark.parametrize("pi", [-0.1, 1.0, 1.5])
def test_adapter_probability_outside_the_unit_interval_is_refused(pi):
    with pytest.raises(InvalidInputError, match="adapter probability"):
        stimulus_ensemble(benucci_grid(), 90.0, pi)


# ----------------------------------------------------------------------------- network
def test_ring_kernel_top_eigenvalue_is_the_strength():
    _, _, _, weights = _small_network(0.7)
    assert np.max(np.linalg.eigvalsh(weights)) == pytest.approx(0.7)
    assert np.allclose(weights, weights.T)


def test_unstable_recurrence_is_refused_with_a_clear_message():
    with pytest.raises(InvalidInputError, match="strength"):
        ring_kernel(preferred_orientations(12), 1.2, 3.0)
    weights = 1.2 * np.eye(5)
    with pytest.raises(InvalidInputError, match=r"unstable recurrent network.*1\.2"):
        check_stability(weights)
    with pytest.raises(InvalidInputError, match="unstable"):
        steady_state_operator(weights)


def test_steady_state_is_the_fixed_point_of_the_dynamics():
    _, _, drive, weights = _small_network()
    gains = np.linspace(0.5, 1.5, 12)
    r = np.zeros_like(drive)
    for _ in range(3000):   # Euler steps of τ dr/dt = −r + W r + G f, dt/τ = 0.05
        r += 0.05 * (-r + weights @ r + gains[:, None] * drive)
    assert np.allclose(r, steady_state(steady_state_operator(weights), gains, drive), atol=1e-10)


def test_preferred_orientation_recovers_an_off_grid_peak():
    grid = fine_grid(9)
    true = np.array([13.3, 90.0, 91.7, 179.6])
    curves = von_mises_drive(grid, true, 2.0)
    err = (preferred_orientation(curves, grid) - true + 90) % 180 - 90
    assert np.max(np.abs(err)) < 0.05


# ----------------------------------------------------------------------------- objective
@pytest.mark.parametrize("model, tradeoff, beta", [("recurrent", 1.0, 0.0), ("recurrent", 0.3, 0.5),
                                                   ("feedforward", 2.0, 0.0), ("recurrent", 4.0, 1.0)])
def test_closed_form_gains_equal_the_numerical_optimum(model, tradeoff, beta):
    params = GainControlParams()
    net = build_network(params, model)
    p = stimulus_ensemble(net.stimuli, 90.0, 0.4)
    q = accuracy_ensemble(p, beta)
    m = steady_state_operator(net.weights)
    closed = optimal_gains(m, net.drive, p, tradeoff, q)
    numerical = optimal_gains_numerical(m, net.drive, p, tradeoff, q)
    assert np.max(np.abs(closed - numerical)) / np.max(np.abs(closed)) < 1e-6
    # and it is a minimum: any perturbation raises the objective
    best = objective_terms(closed, m, net.drive, p, tradeoff, q).total
    rng = np.random.default_rng(0)
    for _ in range(5):
        assert objective_terms(closed + 1e-3 * rng.normal(size=closed.shape), m, net.drive, p, tradeoff,
                               q).total > best


def test_objective_gradient_matches_finite_differences():
    _, grid, drive, weights = _small_network()
    m = steady_state_operator(weights)
    p = stimulus_ensemble(grid, 90.0, 0.35)
    g = np.linspace(0.2, 0.9, 12)
    grad = objective_gradient(g, m, drive, p, 1.5)
    eps = 1e-6
    fd = np.array([(objective_terms(g + eps * e, m, drive, p, 1.5).total
                    - objective_terms(g - eps * e, m, drive, p, 1.5).total) / (2 * eps) for e in np.eye(12)])
    assert np.allclose(grad, fd, rtol=1e-6, atol=1e-9)


def test_without_recurrence_the_optimal_gain_is_a_per_neuron_ratio_of_second_moments():
    _, grid, drive, _ = _small_network()
    p = stimulus_ensemble(grid, 90.0, 0.5)
    q = accuracy_ensemble(p)
    g = optimal_gains(np.eye(12), drive, p, 2.0)
    cq, cp = (drive ** 2) @ q, (drive ** 2) @ p
    assert np.allclose(g, cq / (cq + 2.0 * cp), rtol=1e-12)


def test_negative_tradeoff_is_refused():
    _, grid, drive, weights = _small_network()
    with pytest.raises(InvalidInputError, match="trade-off"):
        optimal_gains(steady_state_operator(weights), drive, stimulus_ensemble(grid), -1.0)


def test_tradeoff_curve_trades_error_for_activity():
    curve = tradeoff_curve(np.geomspace(0.05, 20, 12), 0.5)
    for ens in ("uniform", "biased"):
        err, act = curve["error"].sel(ensemble=ens).values, curve["activity"].sel(ensemble=ens).values
        assert np.all(np.diff(err) > 0) and np.all(np.diff(act) < 0)


# ----------------------------------------------------------------------------- the five effects
@pytest.mark.parametrize("pi", PROBABILITIES)
def test_effect1_suppression_is_strongest_for_neurons_tuned_near_the_adapter(runs, pi):
    ds = runs[("recurrent", pi)]
    d = np.abs(ds["distance"].values)
    assert ds.attrs["suppression_centre_deg"] <= 9.0
    assert ds.attrs["peak_suppression"] >= 0.25
    near, far = ds["max_ratio"].values[d <= 9].mean(), ds["max_ratio"].values[d >= 45].mean()
    assert far - near >= 0.25   # near channels lose ≥ 25 % more of their peak than far ones
    assert np.all(ds["gain_ratio"].values[d <= 9] < 0.8)


@pytest.mark.parametrize("pi", PROBABILITIES)
def test_effect2_maxima_and_minima_change_differently_depending_on_tuning(runs, pi):
    ds = runs[("recurrent", pi)]
    d = np.abs(ds["distance"].values)
    gap = ds["min_ratio"].values - ds["max_ratio"].values
    assert ds.attrs["max_min_ratio_difference"] >= 0.15
    assert np.all(gap[d <= 9] <= -0.15)   # near the adapter the minimum is suppressed more than the maximum
    assert np.all(gap[d >= 72] >= 0.1)    # far from it the minimum grows more than the maximum


@pytest.mark.parametrize("pi", PROBABILITIES)
def test_effect3_preferred_orientations_are_repelled_from_the_adapter(runs, pi):
    ds = runs[("recurrent", pi)]
    d = np.abs(ds["distance"].values)
    rep = ds["repulsion"].values
    assert np.all(rep[(d > 0) & (d <= 36)] >= 0.5)
    assert rep[d == 18].min() >= 1.5
    assert ds.attrs["max_repulsion_deg"] >= 1.5 and ds.attrs["repulsion_distance_deg"] <= 27


@pytest.mark.parametrize("pi", PROBABILITIES)
def test_effect4_adapted_covariance_moves_toward_the_uniform_ensemble_covariance(runs, pi):
    ds = runs[("recurrent", pi)]
    assert ds.attrs["covariance_distance_adapted"] <= (1 - 0.15) * ds.attrs["covariance_distance_unadapted"]
    assert ds.attrs["correlation_distance_adapted"] <= (1 - 0.2) * ds.attrs["correlation_distance_unadapted"]


@pytest.mark.parametrize("pi", PROBABILITIES)
def test_effect5_mean_responses_are_equalised(runs, pi):
    ds = runs[("recurrent", pi)]
    assert ds.attrs["cv_adapted"] <= 0.35 * ds.attrs["cv_unadapted"]
    assert ds.attrs["cv_unadapted"] >= 0.15


def test_effects_grow_with_adapter_probability(runs):
    sup = [runs[("recurrent", pi)].attrs["peak_suppression"] for pi in PROBABILITIES]
    rep = [runs[("recurrent", pi)].attrs["max_repulsion_deg"] for pi in PROBABILITIES]
    assert np.all(np.diff(sup) > 0) and np.all(np.diff(rep) > 0)


def test_all_responses_stay_positive(runs):
    for ds in runs.values():
        assert ds["tuning_unadapted"].min() > 0 and ds["tuning_adapted"].min() > 0


# ----------------------------------------------------------------------------- comparison models
@pytest.mark.parametrize("pi", PROBABILITIES)
def test_without_recurrence_gains_only_scale_no_repulsion_and_maxima_and_minima_change_together(runs, pi):
    ds = runs[("feedforward", pi)]
    assert np.max(np.abs(ds["shift"].values)) < 1e-9
    assert np.allclose(ds["max_ratio"].values, ds["min_ratio"].values, rtol=1e-12)
    assert np.allclose(ds["max_ratio"].values, ds["gain_ratio"].values, rtol=1e-12)
    assert ds.attrs["max_min_ratio_difference"] < 1e-12
    # pure gain scaling cannot change correlations at all
    assert abs(ds.attrs["correlation_decorrelation"]) < 1e-9
    # but it still suppresses near the adapter
    assert ds.attrs["peak_suppression"] >= 0.2 and ds.attrs["suppression_centre_deg"] <= 9


@pytest.mark.parametrize("pi", [0.3, 0.5])
def test_synaptic_adaptation_repels_with_frozen_gains_after_many_updates(runs, pi):
    ds = runs[("synaptic", pi)]
    d = np.abs(ds["distance"].values)
    assert np.allclose(ds["gain_ratio"].values, 1.0)
    assert ds.attrs["synaptic_converged"] and ds.attrs["synaptic_steps"] >= 50
    assert np.all(ds["repulsion"].values[(d > 0) & (d <= 27)] >= 0.5)
    assert ds.attrs["decorrelation"] >= 0.3 and ds.attrs["cv_adapted"] <= 0.2 * ds.attrs["cv_unadapted"]
    assert np.abs(ds["weights_adapted"].values - ds["weights_unadapted"].values).max() > 0.01


def test_homeostatic_rule_restores_the_response_products():
    _, grid, drive, weights = _small_network()
    pu, pb = stimulus_ensemble(grid, 90.0, 0.0), stimulus_ensemble(grid, 90.0, 0.4)
    gains = optimal_gains(steady_state_operator(weights), drive, pu, 1.0)
    res = homeostatic_weights(weights, gains, drive, pb, pu, rate=0.2, max_iter=5000, tol=1e-4)
    assert res.converged and res.residuals[0] > 0.3 and res.residuals[-1] < 1e-4
    assert np.allclose(res.weights, res.weights.T)


def test_mexican_hat_recurrence_attracts_instead_of_repelling():
    ds = simulate_adaptation(0.5, params=GainControlParams(inhibition=0.8, inhibitory_concentration=1.0,
                                                           excitatory_concentration=5.0))
    d = np.abs(ds["distance"].values)
    assert np.all(ds["repulsion"].values[(d > 0) & (d <= 45)] <= -0.2)


def test_purely_excitatory_recurrence_does_not_decorrelate():
    ds = simulate_adaptation(0.5, params=GainControlParams(inhibition=0.0))
    assert ds.attrs["max_repulsion_deg"] > 3.0          # repels ...
    assert ds.attrs["decorrelation"] < 0 and ds.attrs["correlation_decorrelation"] < 0   # ... but correlates


# ----------------------------------------------------------------------------- estimator, backends
def test_estimator_matches_the_function_and_refuses_unknown_settings():
    est = GainControlAdaptation(model="recurrent", tradeoff=1.0).simulate(0.4)
    ref = simulate_adaptation(0.4, "recurrent")
    assert np.array_equal(est.gains_adapted_, ref["gain_adapted"].values)
    assert est.effects_["max_repulsion_deg"] == ref.attrs["max_repulsion_deg"]
    assert est.get_params()["tradeoff"] == 1.0 and est.get_params()["model"] == "recurrent"
    with pytest.raises(InvalidInputError, match="unknown gain-control settings"):
        GainControlAdaptation(tradefof=1.0)
    with pytest.raises(InvalidInputError, match="unknown model"):
        simulate_adaptation(0.4, "hebbian")


@pytest.mark.torch
@pytest.mark.parametrize("model", ["recurrent", "feedforward", "synaptic"])
def test_numpy_and_torch_give_the_same_numbers(model):
    pytest.importorskip("torch")
    from neurodyn.backend import Backend

    a = simulate_adaptation(0.4, model)
    b = simulate_adaptation(0.4, model, backend=Backend("torch", "cpu"))
    for name in a.data_vars:
        x, y = a[name].values, b[name].values
        if name.startswith("preferred"):
            x, y = (x - y + 90) % 180 - 90, 0.0 * y
        np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-9, err_msg=name)
    for key, value in a.attrs.items():
        if isinstance(value, float):
            assert b.attrs[key] == pytest.approx(value, rel=1e-8, abs=1e-10, nan_ok=True), key
