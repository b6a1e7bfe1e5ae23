"""Numerical stability at the edges: HMM messages with extreme emissions, NTF with empty and
fully masked slices, gain control at the stability boundary, RNN training that explodes,
and the connectome memory budget refused before allocating.

The owners' tests cover the ordinary ranges (test_states_messages, test_connectome_ntf,
test_gain_control, test_rich_lazy, test_connectome_affinity); these push to the limits.
"""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest
import xarray as xr
from scipy.special import logsumexp

from neurodyn.circuits.gain_control import network as gc_network
from neurodyn.circuits.gain_control.model import GainControlParams, build_network, simulate_adaptation
from neurodyn.connectome.memory import check_connectome_memory, connectome_memory_plan
from neurodyn.connectome.ntf import non_negative_cp_hals, reconstruct
from neurodyn.connectome.rank import similarity
from neurodyn.connectome.tensor import affinity_tensor
from neurodyn.errors import InvalidInputError, MemoryBudgetError, NeurodynError
from neurodyn.states.messages import forward_backward, sample_states, viterbi

# --------------------------------------------------------------------------- HMM messages


def log_space_reference(log_pi0, log_A, ll):
    """Plain log-space forward–backward (log-sum-exp each step): slow but obviously right."""
    T, S = ll.shape
    log_alpha = np.empty((T, S))
    log_alpha[0] = log_pi0 + ll[0]
    for t in range(1, T):
        log_alpha[t] = logsumexp(log_alpha[t - 1][:, None] + log_A, axis=0) + ll[t]
    log_beta = np.zeros((T, S))
    for t in range(T - 2, -1, -1):
        log_beta[t] = logsumexp(log_A + (ll[t + 1] + log_beta[t + 1])[None, :], axis=1)
    loglik = logsumexp(log_alpha[-1])
    with np.errstate(invalid="ignore"):
        gamma = np.exp(log_alpha + log_beta - loglik)
    return loglik, np.nan_to_num(gamma)


@pytest.fixture(scope="module")
def extreme_hmm():
    """T = 1e5, S = 20; emissions uniform on [-1e4, 0], 1 % of entries -inf, state 7 impossible."""
    rng = np.random.default_rng(11)
    S, T, dead = 20, 100_000, 7
    A = np.full((S, S), 0.02 / (S - 1))
    np.fill_diagonal(A, 0.98)
    z = sample_states(np.full(S, 1 / S), A, T, rng)
    z[z == dead] = (dead + 1) % S
    ll = rng.uniform(-1e4, 0.0, size=(T, S))
    ll[rng.random((T, S)) < 0.01] = -np.inf
    ll[np.arange(T), z] = rng.uniform(-50.0, 0.0, T)  # the true state stays possible
    ll[:, dead] = -np.inf
    log_pi0 = np.full(S, -np.log(S))
    return log_pi0, np.log(A), ll, z, dead


def test_forward_backward_extreme_emissions_long_sequence(extreme_hmm):
    log_pi0, log_A, ll, z, dead = extreme_hmm
    T = ll.shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow / invalid value on the way
        post = forward_backward(log_pi0, log_A, ll)
    assert np.isfinite(post.log_likelihood)
    assert np.all(np.isfinite(post.posterior)) and np.all(post.posterior >= 0)
    np.testing.assert_allclose(post.posterior.sum(1), 1.0, atol=1e-12)
    assert np.all(post.posterior[:, dead] == 0)
    assert np.all(post.expected_transitions[:, dead] == 0) and np.all(post.expected_transitions[dead] == 0)
    assert post.expected_transitions.sum() == pytest.approx(T - 1, rel=1e-12)
    # the evidence is at least that of the best single path (and the posterior finds it)
    path = viterbi(log_pi0, log_A, ll)
    best = log_pi0[path[0]] + log_A[path[:-1], path[1:]].sum() + ll[np.arange(T), path].sum()
    assert np.isfinite(best) and post.log_likelihood >= best - 1e-9 * abs(best)
    # a wrong state scores within 50 of the right one in ~10 % of bins; the chain's stickiness fixes most
    assert np.mean(path == z) > 0.95 and np.mean(post.posterior.argmax(1) == z) > 0.95


@pytest.mark.parametrize("start", [0, 61_000])
def test_forward_backward_agrees_with_log_space_reference_on_a_subsample(extreme_hmm, start):
    log_pi0, log_A, ll, _, _ = extreme_hmm
    piece = ll[start:start + 1500]
    ref_ll, ref_post = log_space_reference(log_pi0, log_A, piece)
    post = forward_backward(log_pi0, log_A, piece)
    assert post.log_likelihood == pytest.approx(ref_ll, rel=1e-12, abs=1e-8)
    np.testing.assert_allclose(post.posterior, ref_post, atol=1e-10)


def test_zero_probability_bin_is_refused_not_nan():
    S = 4
    log_pi0, log_A = np.full(S, -np.log(S)), np.log(np.full((S, S), 1 / S))
    ll = np.random.default_rng(0).uniform(-1e4, 0, size=(50, S))
    ll[17] = -np.inf
    with pytest.raises(InvalidInputError, match=r"bin 17") as info:
        forward_backward(log_pi0, log_A, ll)
    assert info.value.field == "log_lik"
    with pytest.raises(InvalidInputError, match="zero probability"):
        viterbi(log_pi0, log_A, ll)
    # possible states exist, but none is reachable from the previous bin's (left-right chain)
    log_A2 = np.where(np.eye(S) > 0, 0.0, -np.inf)
    ll2 = np.zeros((10, S))
    ll2[:5, 1:] = -np.inf
    ll2[5:, 0] = -np.inf
    with pytest.raises(InvalidInputError, match=r"bin 5"):
        forward_backward(log_pi0, log_A2, ll2)
    ll3 = np.zeros((10, S))
    ll3[3, 0] = np.inf
    with pytest.raises(InvalidInputError, match=r"\+inf"):
        forward_backward(log_pi0, log_A, ll3)


# --------------------------------------------------------------------------- NTF


def planted(shape=(20, 6, 80), rank=3, seed=0, noise=0.01):
    rng = np.random.default_rng(seed)
    factors = [rng.uniform(size=(n, rank)) ** 3 for n in shape]
    return np.einsum("ir,jr,kr->ijk", *factors) + noise * rng.random(shape), factors


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rank", [3, 8])
def test_ntf_with_all_zero_slices_stays_finite(dtype, rank):
    x, _ = planted()
    x = x.astype(dtype)
    x[4] = 0            # a silent time window
    x[:, 1] = 0         # an animal with no affinity anywhere
    x[:, :, 10:20] = 0  # pairs never co-active
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        res = non_negative_cp_hals(x, rank, max_iter=300, tol=0, random_state=1)
    assert all(np.all(np.isfinite(f)) for f in res.factors) and np.all(np.isfinite(res.weights))
    assert np.all(np.isfinite(res.errors)) and res.rel_error < 0.05
    a, b, c = (f * res.weights for f in res.factors)
    assert np.abs(a[4]).max() < 1e-6 and np.abs(b[1]).max() < 1e-6 and np.abs(c[10:20]).max() < 1e-6
    # a single non-zero entry in a sea of zeros: more components than data
    one = np.zeros((5, 4, 30), dtype=dtype)
    one[2, 1, 7] = 3.0
    res = non_negative_cp_hals(one, rank, max_iter=50, random_state=0)
    assert all(np.all(np.isfinite(f)) for f in res.factors) and res.rel_error < 1e-3


def test_fully_masked_animal_does_not_affect_the_others():
    x, _ = planted(seed=4)
    j0, keep = 2, [0, 1, 3, 4, 5]
    mask = np.ones(x.shape, bool)
    mask[:, j0, :] = False
    rng = np.random.default_rng(5)
    init = [rng.uniform(size=(n, 3)) for n in x.shape]
    garbage = x.copy()
    garbage[:, j0, :] = np.nan  # unobserved entries are never read

    def masked(loading):
        start = [f.copy() for f in init]
        start[1][j0] = loading  # the masked animal's starting loadings
        return non_negative_cp_hals(garbage, 3, mask=mask, init=start, max_iter=400, tol=1e-10)

    dropped = non_negative_cp_hals(x[:, keep], 3, init=[init[0], init[1][keep], init[2]], max_iter=400, tol=1e-10)
    ref = reconstruct(dropped.weights, dropped.factors)
    for loading in (init[1][j0], 100.0, 0.0):
        res = masked(loading)
        assert all(np.all(np.isfinite(f)) for f in res.factors) and np.isfinite(res.rel_error)
        np.testing.assert_allclose(res.factors[1][j0], 0.0)  # no data, no loading
        np.testing.assert_allclose(reconstruct(res.weights, res.factors)[:, keep], ref, rtol=1e-8, atol=1e-10)
        assert res.rel_error == pytest.approx(dropped.rel_error, rel=1e-8)
        assert similarity([res.factors[0], res.factors[1][keep], res.factors[2]], dropped.factors) > 0.999999


# --------------------------------------------------------------------------- gain control


@pytest.mark.parametrize("strength", [0.99, 0.999999])
def test_gain_control_just_below_the_stability_boundary(strength):
    params = GainControlParams(strength=strength)
    net = build_network(params)
    w = np.asarray(net.weights)
    assert np.max(np.linalg.eigvalsh(w)) == pytest.approx(strength, rel=1e-12)
    op = gc_network.steady_state_operator(net.weights)
    gains = np.linspace(0.5, 1.5, params.n_neurons)
    r = gc_network.steady_state(op, gains, net.drive)
    assert np.all(np.isfinite(r))
    # the fixed point of (I - W) R = G F, to the accuracy the condition number 1/(1 - strength) allows
    resid = np.linalg.norm((np.eye(len(w)) - w) @ r - gains[:, None] * np.asarray(net.drive))
    assert resid <= 1e-9 / (1 - strength) * np.linalg.norm(r)


def test_gain_control_adaptation_near_the_boundary_stays_finite():
    ds = simulate_adaptation(0.3, "recurrent", GainControlParams(strength=0.99))
    for name, var in ds.data_vars.items():
        values = np.asarray(var.values)
        if np.issubdtype(values.dtype, np.floating):
            assert np.all(np.isfinite(values)), name


@pytest.mark.parametrize("strength", [1.0, 1.0 + 1e-12, 1.5, np.inf, np.nan, -0.1])
def test_gain_control_at_or_above_the_boundary_is_refused(strength):
    with pytest.raises(InvalidInputError, match="strength") as info:
        build_network(GainControlParams(strength=strength))
    assert info.value.field == "strength"


def test_recurrence_within_rounding_of_one_is_refused():
    # strength < 1 passes the parameter check but W is still unstable to machine precision
    with pytest.raises(InvalidInputError, match="strength") as info:
        build_network(GainControlParams(strength=1.0 - 1e-12))
    assert "unstable" in str(info.value)


# --------------------------------------------------------------------------- RNN training


def _rnn_problem(n=20, gain=1.0, seed=0):
    from neurodyn.circuits import rnn
    from neurodyn.circuits.tasks import get_task

    spec = get_task("2AF")
    rng = np.random.default_rng(seed)
    W = gain * rng.normal(size=(n, n)) / np.sqrt(n)
    return rnn.init_params(n, spec.n_in, spec.n_out, W, rng)


@pytest.mark.parametrize("gain,lr", [(8.0, 3e-3), (1.0, 1e3), (8.0, 1e3)])
def test_exploding_training_is_clipped_or_refused_never_nan_weights(gain, lr):
    from neurodyn.circuits.training import ExplodingGradientError, TrainConfig, train

    params = _rnn_problem(gain=gain)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow on the way to the error is expected
        try:
            res = train(params, "2AF", TrainConfig(max_iter=15, lr=lr, clip_grad_norm=1.0), random_state=0)
        except ExplodingGradientError as exc:
            assert exc.field == "lr" and "lower the learning rate" in str(exc)
            return
    assert np.all(np.isfinite(res.loss)) and np.all(np.isfinite(res.grad_norm))
    assert all(np.all(np.isfinite(v)) for v in res.params.values())
    # clipping bounds every step: ‖ΔW‖ ≤ lr · clip · Σ momentum^k
    step = np.sqrt(sum(np.sum((res.params[k] - params[k]) ** 2) for k in params))
    assert step <= lr * 1.0 * 15 / (1 - 0.9) + 1e-9


def test_exploding_without_clipping_is_refused():
    from neurodyn.circuits.training import ExplodingGradientError, TrainConfig, train

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ExplodingGradientError, match="non-finite"):
            train(_rnn_problem(gain=8.0), "2AF", TrainConfig(max_iter=30, lr=1e3), random_state=0)


def test_last_update_to_infinite_weights_is_refused():
    # the loss and gradient of the last iteration are finite; only the update overflows
    from neurodyn.circuits.training import ExplodingGradientError, TrainConfig, train

    params = {k: v.astype(np.float32) for k, v in _rnn_problem().items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ExplodingGradientError, match="weights became non-finite") as info:
            train(params, "2AF", TrainConfig(max_iter=1, lr=1e39, momentum=0.0), random_state=0)
    assert info.value.field == "lr"
    assert isinstance(info.value, NeurodynError)


# --------------------------------------------------------------------------- memory budget


def test_memory_plan_refuses_an_over_budget_cohort_before_allocating():
    tracemalloc.start()
    try:
        plan = connectome_memory_plan(30, 2000, 3000, sampling_rate_hz=2.0, window_s=10.0, stride_s=5.0, rank=8)
        with pytest.raises(MemoryBudgetError, match="max_memory_gb") as info:
            check_connectome_memory(plan, max_memory_gb=24)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # nothing array-sized was allocated
    assert info.value.field == "max_memory_gb" and isinstance(info.value, MemoryError)
    worst = max(("cohort", "affinity", "ntf", "communities"), key=plan.get)
    assert f"'{worst}' stage" in str(info.value) and plan["tensor"] == plan["n_windows"] * 30 * plan["n_pairs"] * 4
    # the benchmark's size fits the machine
    fits = connectome_memory_plan(30, 2000, 300, sampling_rate_hz=2.0, window_s=40.0, stride_s=20.0, rank=5)
    assert check_connectome_memory(fits, max_memory_gb=24)["peak"] < 4 * 1024**3
    with pytest.raises(InvalidInputError, match="max_memory_gb"):
        check_connectome_memory(fits, max_memory_gb=-1)
    with pytest.raises(InvalidInputError, match="n_neurons"):
        connectome_memory_plan(3, 100, 1, sampling_rate_hz=2.0, window_s=10.0, stride_s=5.0)


def test_affinity_tensor_refuses_before_copying_the_cohort():
    rng = np.random.default_rng(0)
    n_animals, n_time, n_neurons = 4, 1000, 400  # 6.4 MB of float32 traces
    cohort = xr.Dataset(
        {"traces": (("animal", "time", "neuron"), rng.normal(size=(n_animals, n_time, n_neurons)).astype(np.float32))},
        coords={"animal": [f"a{i}" for i in range(n_animals)], "time": np.arange(n_time) / 2.0,
                "neuron": [f"n{i}" for i in range(n_neurons)]},
        attrs={"sampling_rate_hz": 2.0},
    )
    tracemalloc.start()
    try:
        with pytest.raises(MemoryBudgetError, match="max_memory_gb"):
            affinity_tensor(cohort, window_s=2.0, stride_s=0.5, max_memory_gb=1.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < cohort["traces"].nbytes  # not even the float64 working copy of the cohort


def test_large_cohort_benchmark_stops_before_allocating(tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "large_cohort.py"
    spec = importlib.util.spec_from_file_location("large_cohort", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "large.json"
    tracemalloc.start()
    try:
        with pytest.raises(MemoryBudgetError, match="max_memory_gb"):
            bench.main(["--max-memory-gb", "0.25", "--out", str(out)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    printed = capsys.readouterr().out
    assert printed.startswith("memory plan") and "ntf" in printed  # the estimate comes first
    assert peak < 1 << 20 and not out.exists()
