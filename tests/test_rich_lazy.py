"""Rich vs. lazy learning: RNN with hand-written BPTT, inits, tasks, training, metrics, theory."""

from __future__ import annotations

import numpy as np
import pytest

from neurodyn.circuits import inits, linear_theory, regime, rnn, tasks
from neurodyn.circuits.rich_lazy import (DEFAULT_INIT_KINDS, collect_runs, init_comparison_run, init_spectra,
                                         rank_sweep_run, summary_table)
from neurodyn.circuits.training import ExplodingGradientError, RateRNN, TrainConfig, train
from neurodyn.errors import InvalidInputError


@pytest.fixture(autouse=True)
def _single_blas_thread():
    """The matrices here are small: BLAS threads only add contention on a shared machine."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def _small_problem(task="2AF", n=7, batch=4, seed=0):
    rng = np.random.default_rng(seed)
    spec = tasks.get_task(task)
    params = rnn.init_params(n, spec.n_in, spec.n_out, inits.gaussian_init(n, 1.25, rng), rng)
    trials = tasks.sample_trials(task, batch, rng)
    return params, trials.inputs, trials.labels


def _fd_grad(f, params, name, eps=1e-6):
    out = np.zeros_like(params[name])
    for idx in np.ndindex(out.shape):
        plus = {k: v.copy() for k, v in params.items()}
        minus = {k: v.copy() for k, v in params.items()}
        plus[name][idx] += eps
        minus[name][idx] -= eps
        out[idx] = (f(plus) - f(minus)) / (2 * eps)
    return out


# ---------------------------------------------------------------- gradients and Jacobian


@pytest.mark.parametrize("alpha", [1.0, 0.3])
@pytest.mark.parametrize("task", ["2AF", "CXT"])
def test_bptt_equals_finite_differences(alpha, task):
    params, x, labels = _small_problem(task)
    loss, grads, _ = rnn.bptt(params, x, labels, alpha)
    assert float(loss) == pytest.approx(float(rnn.loss_and_logits(params, x, labels, alpha)[0]))
    for name in rnn.PARAM_NAMES:
        fd = _fd_grad(lambda p: float(rnn.loss_and_logits(p, x, labels, alpha)[0]), params, name)
        np.testing.assert_allclose(grads[name], fd, atol=1e-8, rtol=1e-6)


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_jacobian_equals_finite_differences_and_kernel_equals_jjt(alpha):
    params, x, _ = _small_problem("DMS", n=6, batch=3)
    J = rnn.output_jacobian(params, x, alpha)
    T, B, K = x.shape[0], x.shape[1], params["W_y"].shape[0]
    assert J.shape == (T * B * K, 36)
    fd = np.zeros_like(J)
    for i, j in np.ndindex(6, 6):
        plus = {k: v.copy() for k, v in params.items()}
        minus = {k: v.copy() for k, v in params.items()}
        plus["W_h"][i, j] += 1e-6
        minus["W_h"][i, j] -= 1e-6
        diff = rnn.forward(plus, x, alpha).logits - rnn.forward(minus, x, alpha).logits
        fd[:, i * 6 + j] = (diff / 2e-6).reshape(-1)  # rows (t, b, k) in C order
    np.testing.assert_allclose(J, fd, atol=1e-7 * np.abs(J).max())
    np.testing.assert_allclose(rnn.tangent_kernel(params, x, alpha), J @ J.T, rtol=1e-10,
                               atol=1e-10 * np.abs(J @ J.T).max())


def test_forward_rejects_bad_shapes():
    params, x, labels = _small_problem()
    with pytest.raises(InvalidInputError, match="W_x"):
        rnn.forward(params, x[..., :2])
    with pytest.raises(InvalidInputError, match="alpha"):
        rnn.forward(params, x, alpha=1.5)
    with pytest.raises(InvalidInputError, match="labels"):
        rnn.bptt(params, x, labels[:, :2])


# ---------------------------------------------------------------- torch reference


@pytest.mark.torch
def test_bptt_and_jacobian_equal_torch_autograd():
    torch = pytest.importorskip("torch")
    params, x, labels = _small_problem("CXT", n=8, batch=5)
    alpha = 0.6
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    tx, tl = torch.tensor(x), torch.tensor(labels)

    def torch_logits(W_x, W_h, W_y):
        h = torch.zeros(x.shape[1], W_h.shape[0], dtype=torch.float64)
        out = []
        for t in range(x.shape[0]):
            h = torch.relu((1 - alpha) * h + alpha * (tx[t] @ W_x.T + h @ W_h.T))
            out.append(h @ W_y.T)
        return torch.stack(out)

    logits = torch_logits(tp["W_x"], tp["W_h"], tp["W_y"])
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 3), tl.reshape(-1))
    loss.backward()
    # our BPTT running on torch tensors (no autograd) and on numpy both equal autograd
    ours_np = rnn.bptt(params, x, labels, alpha)
    ours_t = rnn.bptt({k: torch.tensor(v) for k, v in params.items()}, tx, tl, alpha)
    assert float(ours_t[0]) == pytest.approx(float(loss.detach()), rel=1e-12)
    for k in rnn.PARAM_NAMES:
        np.testing.assert_allclose(ours_np[1][k], tp[k].grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(ours_t[1][k].numpy(), tp[k].grad.numpy(), rtol=1e-9, atol=1e-12)
    jac = torch.autograd.functional.jacobian(lambda W: torch_logits(tp["W_x"].detach(), W, tp["W_y"].detach()),
                                             tp["W_h"].detach())
    ours = rnn.output_jacobian({k: torch.tensor(v) for k, v in params.items()}, tx, alpha)
    np.testing.assert_allclose(ours.numpy(), jac.reshape(ours.shape).numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.torch
def test_numpy_and_torch_give_the_same_training_curve():
    torch = pytest.importorskip("torch")
    from neurodyn.backend import Backend, to_numpy

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: threads only add overhead on a busy machine
    try:
        _same_curve_on_numpy_and_torch(Backend, to_numpy)
    finally:
        torch.set_num_threads(threads)


def _same_curve_on_numpy_and_torch(Backend, to_numpy):

    params, _, _ = _small_problem("DMS", n=20)
    cfg = TrainConfig(max_iter=25, lr=0.02)
    a = train(params, "DMS", cfg, random_state=3)
    b = train(params, "DMS", cfg, random_state=3, backend=Backend("torch", "cpu"))
    np.testing.assert_allclose(a.loss, b.loss, rtol=1e-10)
    np.testing.assert_allclose(a.params["W_h"], to_numpy(b.params["W_h"]), rtol=1e-9, atol=1e-12)
    ka_np = regime.kernel_alignment(params, a.params, tasks.sample_trials("DMS", 8, 1).inputs)
    be = Backend("torch", "cpu")
    ka_t = regime.kernel_alignment({k: be.asarray(v) for k, v in params.items()}, b.params,
                                   be.asarray(tasks.sample_trials("DMS", 8, 1).inputs))
    assert ka_np == pytest.approx(ka_t, rel=1e-9)


# ---------------------------------------------------------------- initialisations


def test_rank_r_init_has_rank_r_and_matched_norm():
    n, gain = 40, 1.25
    Ws = inits.low_rank_inits(n, [1, 3, 10, 40], gain, random_state=5)
    W0 = inits.gaussian_init(n, gain, 5)  # the same single draw
    np.testing.assert_allclose(Ws[40], W0, atol=1e-12)
    for r, W in Ws.items():
        assert np.linalg.matrix_rank(W) == r
        assert np.linalg.norm(W) == pytest.approx(np.linalg.norm(W0), rel=1e-12)
        assert np.linalg.norm(W) == pytest.approx(gain * np.sqrt(n), rel=0.05)
    # the ranks share singular vectors: rank 3 contains the rank-1 direction
    u1 = np.linalg.svd(Ws[1])[0][:, 0]
    assert abs(u1 @ np.linalg.svd(Ws[3])[0][:, 0]) == pytest.approx(1.0, abs=1e-10)
    with pytest.raises(InvalidInputError, match="rank"):
        inits.truncate_rank(W0, 41)


def test_effective_rank_measures():
    n = 50
    assert inits.effective_rank(np.eye(n)) == pytest.approx(1.0)
    assert inits.participation_ratio(np.eye(n)) == pytest.approx(n)
    W1 = inits.truncate_rank(inits.gaussian_init(n, random_state=0), 1)
    assert inits.effective_rank(W1) == pytest.approx(1 / n, rel=1e-6)
    assert inits.participation_ratio(W1) == pytest.approx(1.0, rel=1e-6)


def test_controls_keep_norm_and_entries():
    W = inits.v1_init(60, random_state=1)[0]
    g = inits.gaussian_control(W, random_state=2)
    s = inits.shuffled_control(W, random_state=2)
    assert np.linalg.norm(g) == pytest.approx(np.linalg.norm(W))
    off = ~np.eye(60, dtype=bool)
    np.testing.assert_allclose(np.sort(s[off]), np.sort(W[off]))
    assert inits.effective_rank(W) < inits.effective_rank(g)


def test_rotated_control_keeps_the_singular_values_and_nothing_else():
    W = inits.v1_init(80, random_state=1)[0]
    R = inits.rotated_control(W, random_state=3)
    np.testing.assert_allclose(inits.singular_values(R), inits.singular_values(W), rtol=1e-10, atol=1e-12)
    assert inits.effective_rank(R) == pytest.approx(inits.effective_rank(W), rel=1e-10)
    assert np.mean(R == 0) < 0.01 < np.mean(W == 0)   # sparsity (wiring) destroyed
    # Haar rotations: the top singular vectors are unrelated to W's (|cos| ~ 1/sqrt(N))
    assert abs(np.linalg.svd(R)[0][:, 0] @ np.linalg.svd(W)[0][:, 0]) < 0.5


@pytest.mark.parametrize("seed", [0, 1])
def test_outlier_control_matches_norm_and_spectral_radius(seed):
    n = 200
    v1 = inits.v1_init(n, random_state=seed)[0]
    assert inits.effective_rank(inits.outlier_control(v1, random_state=seed)) > 1.5 * inits.effective_rank(v1)
    for W in (v1, 2.0 * np.outer(np.ones(n), np.ones(n)) / n + inits.gaussian_init(n, 0.5, seed)):
        O = inits.outlier_control(W, random_state=seed)
        assert np.linalg.norm(O) == pytest.approx(np.linalg.norm(W), rel=0.02)
        # bulk radius ≈ its scale a (circular law); the planted eigenvalue sits outside it
        assert inits.spectral_radius(O) == pytest.approx(inits.spectral_radius(W), rel=0.1)


def test_normalisations():
    W0 = inits.gaussian_init(50, 1.25, random_state=0)
    W1 = inits.truncate_rank(W0, 1)
    s0 = inits.singular_values(W0)[0]
    assert inits.singular_values(W1)[0] == pytest.approx(np.linalg.norm(W0))   # Frobenius-matched rank 1
    assert inits.singular_values(inits.normalise(W1, "spectral", W0))[0] == pytest.approx(s0)
    assert np.linalg.norm(inits.normalise(W1, "frobenius", W0)) == pytest.approx(np.linalg.norm(W0))
    stable = inits.normalise(W0, "stable", W0, stable_norm=0.9)
    assert inits.singular_values(stable)[0] == pytest.approx(0.9) and inits.spectral_radius(stable) < 0.9 + 1e-12
    with pytest.raises(InvalidInputError, match="normalisation"):
        inits.normalise(W1, "nuclear", W0)


def test_balance_rules_and_norm_concentration():
    raw, names = inits.celegans_weights("witvliet_2020_8", balance=False)
    balanced, _ = inits.celegans_weights("witvliet_2020_8")
    # row_offset: every neuron's summed input is zero, the wiring (support) is kept
    np.testing.assert_allclose(balanced.sum(axis=1), 0.0, atol=1e-9)
    assert not np.any((balanced != 0) & (raw == 0))   # no synapse is created
    assert np.mean((balanced == 0)[raw != 0]) < 0.05  # few vanish (inputs equal to their row mean)
    # ... and the norm is not moved into a few columns: the 6 largest columns hold about
    # what they hold in the raw counts, not the ~97 % of the scale_inhibitory rule
    scaled, _ = inits.celegans_weights("witvliet_2020_8", balance="scale_inhibitory")
    assert inits.column_concentration(scaled) > 0.9
    assert inits.column_concentration(balanced) < 1.5 * inits.column_concentration(raw) < 0.6
    assert inits.participation_ratio(balanced) > 3 * inits.participation_ratio(scaled)
    with pytest.raises(InvalidInputError, match="balance rule"):
        inits.balance_inhibition(raw, "clip")


def test_v1_init_obeys_dale_and_cell_types():
    from neurodyn.data.anatomy import v1_cell_type_sign

    n, gain = 120, 1.25
    W, types = inits.v1_init(n, gain, random_state=0)
    assert len(types) == n and set(types) <= set(inits.V1_TYPE_FRACTIONS)
    assert np.linalg.norm(W) == pytest.approx(gain * np.sqrt(n))
    for j, t in enumerate(types):  # column j = outgoing weights of unit j
        col = W[:, j]
        assert np.all(col * v1_cell_type_sign(t) >= 0)
    assert np.all(np.diag(W) == 0)
    assert W[W > 0].sum() == pytest.approx(-W[W < 0].sum())  # balanced E/I


def test_celegans_init_signs_and_norm():
    W, names = inits.celegans_init("witvliet_2020_8", gain=1.25)
    n = len(names)
    assert W.shape == (n, n) and n > 150
    assert np.linalg.norm(W) == pytest.approx(1.25 * np.sqrt(n))
    raw, _ = inits.celegans_weights("witvliet_2020_8", balance=False)
    gaba = [i for i, nm in enumerate(names) if nm in inits.CELEGANS_GABAERGIC]
    others = [i for i in range(n) if i not in gaba]
    assert gaba and np.all(raw[:, others] >= 0)  # excitatory chemical + positive gap junctions
    assert (raw[:, gaba] < 0).any()
    assert inits.effective_rank(W) < inits.effective_rank(inits.gaussian_control(W, random_state=0))


def test_aligned_init_is_the_top_direction_of_the_update():
    rng = np.random.default_rng(0)
    u, v = rng.normal(size=30), rng.normal(size=30)
    update = 5 * np.outer(u, v) + 0.1 * rng.normal(size=(30, 30))
    W = inits.aligned_low_rank_init(update, rank=1)
    assert np.linalg.matrix_rank(W) == 1
    assert np.linalg.norm(W) == pytest.approx(1.25 * np.sqrt(30))
    left = np.linalg.svd(W)[0][:, 0]
    assert abs(left @ u) / np.linalg.norm(u) > 0.99


# ---------------------------------------------------------------- tasks


@pytest.mark.parametrize("task", ["2AF", "DMS", "CXT"])
def test_task_timing_labels_and_seeding(task):
    spec = tasks.get_task(task)
    trials = tasks.sample_trials(task, 400, random_state=7, noise_sd=0.0)
    x, labels = trials.inputs, trials.labels
    assert x.shape == (8, 400, spec.n_in) and labels.shape == (8, 400)
    np.testing.assert_array_equal(x[:7, :, 0], 1.0)  # fixation until the decision step
    np.testing.assert_array_equal(x[7, :, 0], 0.0)
    np.testing.assert_array_equal(labels[:7], 0)
    assert set(np.unique(labels[7])) == {1, 2}
    again = tasks.sample_trials(task, 400, random_state=7)
    np.testing.assert_array_equal(again.inputs, tasks.sample_trials(task, 400, random_state=7).inputs)


@pytest.mark.parametrize("task, noisy_channels, noisy_steps", [
    ("2AF", [1, 2], range(0, 7)),          # stimulus channels while the stimulus is on (from step 0)
    ("DMS", [1, 2], [0, 6]),               # stimulus channels at sample and test
    ("CXT", range(7), [0, 1]),             # every channel during the stimulus (neurogym: no channel selection)
])
def test_input_noise_is_where_neurogym_puts_it(task, noisy_channels, noisy_steps):
    clean = tasks.sample_trials(task, 3000, random_state=5, noise_sd=0.0).inputs
    noise = tasks.sample_trials(task, 3000, random_state=5).inputs - clean
    # the draws differ between the two calls only by the noise, so compare spreads
    sd = noise.std(axis=1)   # (T, n_in)
    mask = np.zeros_like(sd, dtype=bool)
    mask[np.ix_(list(noisy_steps), list(noisy_channels))] = True
    np.testing.assert_allclose(sd[mask], 0.1, rtol=0.06)
    np.testing.assert_array_equal(sd[~mask], 0.0)


def test_perceptual_decision_stimulus():
    tr = tasks.sample_trials("2AF", 2000, random_state=1, noise_sd=0.0)
    x, c = tr.inputs, tr.conditions
    np.testing.assert_array_equal(x[7, :, 1:], 0.0)  # stimulus on steps 0-6 (no fixation-only step)
    np.testing.assert_allclose(x[0, :, 1] - x[0, :, 2], np.where(c["side"] == 0, 1, -1) * c["coherence"] / 100)
    assert set(np.unique(c["coherence"])) == {0.0, 6.4, 12.8, 25.6, 51.2}
    np.testing.assert_array_equal(tr.labels[7], c["side"] + 1)
    noisy = tasks.sample_trials("2AF", 2000, random_state=1)
    assert np.std(noisy.inputs[0:7, :, 1] - x[0:7, :, 1]) == pytest.approx(0.1, rel=0.05)


def test_match_to_sample_and_context_labels():
    tr = tasks.sample_trials("DMS", 500, random_state=2, noise_sd=0.0)
    x, c = tr.inputs, tr.conditions
    np.testing.assert_array_equal(np.argmax(x[0, :, 1:], axis=1), c["sample"])
    np.testing.assert_array_equal(np.argmax(x[6, :, 1:], axis=1), c["test"])
    np.testing.assert_array_equal(x[1:6, :, 1:], 0.0)  # delay
    np.testing.assert_array_equal(tr.labels[7], np.where(c["sample"] == c["test"], 1, 2))
    tr = tasks.sample_trials("CXT", 500, random_state=3, noise_sd=0.0)
    x, c = tr.inputs, tr.conditions
    np.testing.assert_array_equal(x[2:, :, 1:5], 0.0)  # stimulus only on steps 0-1
    np.testing.assert_array_equal(np.argmax(x[:, :, 5:], axis=2), np.broadcast_to(c["context"], (8, 500)))
    attended = np.where(c["context"] == 0, c["side_mod1"], c["side_mod2"])
    np.testing.assert_array_equal(tr.labels[7], attended + 1)
    assert set(np.unique(c["coherence_mod1"])) == {5.0, 15.0, 50.0}


def test_unknown_task_raises():
    with pytest.raises(InvalidInputError, match="task"):
        tasks.sample_trials("XOR", 4)


# ---------------------------------------------------------------- training


def test_training_learns_and_estimator_matches_function():
    spec = tasks.get_task("2AF")
    W = inits.gaussian_init(30, random_state=0)
    model = RateRNN(n_hidden=30, random_state=4, max_iter=150, lr=0.02).train("2AF", W)
    assert model.loss_[-20:].mean() < 0.5 * model.loss_[:5].mean()
    assert model.get_params()["lr"] == 0.02
    seeds = np.random.SeedSequence(4).spawn(2)
    p = rnn.init_params(30, spec.n_in, spec.n_out, W, np.random.default_rng(seeds[0]))
    res = train(p, "2AF", TrainConfig(max_iter=150, lr=0.02), np.random.default_rng(seeds[1]))
    np.testing.assert_array_equal(res.loss, model.loss_)
    metrics = model.regime_metrics(tasks.sample_trials("2AF", 16, 0).inputs)
    assert 0 < metrics["weight_change"] < 1 and 0 < metrics["kernel_alignment"] <= 1


def test_adam_and_clipping():
    params, _, _ = _small_problem(n=20)
    res = train(params, "2AF", TrainConfig(max_iter=60, lr=1e-2, optimizer="adam"), random_state=0)
    assert res.loss[-10:].mean() < res.loss[:5].mean()
    clipped = train(params, "2AF", TrainConfig(max_iter=1, lr=1.0, momentum=0.0, clip_grad_norm=1e-3), random_state=0)
    step = np.sqrt(sum(np.sum((clipped.params[k] - params[k]) ** 2) for k in params))
    assert step == pytest.approx(1e-3, rel=1e-6)


def test_exploding_gradients_raise_a_clear_error():
    params, _, _ = _small_problem(n=20)
    params["W_h"] = params["W_h"] * 10
    with pytest.raises(ExplodingGradientError, match="lower the learning rate"):
        train(params, "2AF", TrainConfig(max_iter=50, lr=50.0), random_state=0)
    with pytest.raises(ExplodingGradientError, match="weights became non-finite"):
        with np.errstate(over="ignore", invalid="ignore"):  # the last update overflows the weights
            big = _small_problem(n=20)[0]
            big["W_x"] = big["W_x"] * 1e3  # large states: gradients ≫ 1, lr · g overflows
            train(big, "2AF", TrainConfig(max_iter=1, lr=1e308, momentum=0.0), random_state=0)
    with pytest.raises(InvalidInputError, match="optimizer"):
        TrainConfig(optimizer="lbfgs").validate()


# ---------------------------------------------------------------- regime metrics


def test_regime_metrics_of_unchanged_network():
    params, x, _ = _small_problem(n=10)
    m = regime.regime_metrics(params, params, x)
    assert m["weight_change"] == 0
    assert m["representation_alignment"] == pytest.approx(1.0)
    assert m["kernel_alignment"] == pytest.approx(1.0)
    K = np.random.default_rng(0).normal(size=(5, 5))
    assert regime.alignment(K, 3 * K) == pytest.approx(1.0)
    assert regime.alignment(K, -K) == pytest.approx(-1.0)


def test_short_sweep_rank1_is_richer_than_full_rank():
    """RA and KA at rank 1 below full rank (N = 100, 300 iterations, 2 seeds, 2AF)."""
    kw = dict(n_hidden=100, train_kwargs=dict(max_iter=300, lr=0.01))
    runs = [rank_sweep_run("2AF", r, k, **kw) for r in (1, 100) for k in (0, 1)]
    ds = collect_runs(runs)
    table = summary_table(ds, ["task", "rank"]).set_index("rank")
    # the paper's claim at its (Frobenius) normalisation, seed by seed
    assert table.loc[1, "representation_alignment_mean"] < table.loc[100, "representation_alignment_mean"]
    assert (ds["kernel_alignment"].sel(rank=1) < ds["kernel_alignment"].sel(rank=100)).all()
    # rank 1 at matched Frobenius norm: σ_1 = ‖W0‖_F, its eigenvalue σ_1 v₁ᵀu₁ is what is reported
    lead = ds["init_leading_eigenvalue"].sel(rank=1).values.ravel()
    assert np.all(np.abs(lead) <= ds["init_sigma1"].sel(rank=1).values.ravel() + 1e-9)
    assert table.loc[1, "init_effective_rank_mean"] == pytest.approx(1 / 100)
    assert ds["loss"].sizes["iteration"] == 300


# ---------------------------------------------------------------- linear theory


def test_linear_theory_prediction_and_aligned_exception():
    ds = linear_theory.linear_theory_experiment(d=8, n_hidden=24, ranks=(1, 2, 8), n_tasks=12, n_steps=1500,
                                                random_state=1)
    ka = ds["kernel_alignment"].mean("task")
    assert float(ds["final_loss"].max()) < 1e-8
    assert float(ka.sel(init="aligned")) > 0.999  # aligned rank 1 stays lazy
    assert float(ka.sel(init="rank_1")) < float(ka.sel(init="rank_8"))  # higher rank, less movement
    theory = ds["theory"]
    assert float(theory.sel(init="rank_1")) == pytest.approx(1 / 8)
    err = np.abs(ka - theory).sel(init=["rank_2", "rank_8"])
    assert float(err.max()) < 0.08
    table = linear_theory.theory_table(ds)
    assert list(table["init"]) == ["rank_1", "rank_2", "rank_8", "aligned"]


# ---------------------------------------------------------------- experiments and figures


def test_init_comparison_and_spectra_run(tmp_path):
    from neurodyn.plots import rich_lazy as plots

    runs = [init_comparison_run(k, "2AF", 0, n_hidden=20, train_kwargs=dict(max_iter=5), probe_batch=8,
                                kernel_probe_batch=4, normalisation=norm)
            for k in DEFAULT_INIT_KINDS for norm in (("frobenius", "stable") if k == "v1" else ("frobenius",))]
    from neurodyn.io import read_netcdf, write_netcdf

    paths = [write_netcdf(run, tmp_path / f"run{i}.nc") for i, run in enumerate(runs)]
    ds = collect_runs(read_netcdf(p) for p in paths)
    write_netcdf(ds, tmp_path / "stack.nc")  # names of different lengths survive the round trip
    assert set(read_netcdf(tmp_path / "stack.nc")["init"].values) == set(DEFAULT_INIT_KINDS)
    table = summary_table(ds, ["init", "task", "normalisation"])
    assert set(table["init"]) == set(DEFAULT_INIT_KINDS)
    stable = ds.sel(init="v1", normalisation="stable")["init_sigma1"].values.ravel()
    assert stable == pytest.approx(0.9)
    assert int(ds["n_hidden"].sel(init="celegans").max()) > 150
    spectra = init_spectra(20, (1, 5, 20))
    assert float(spectra["effective_rank"].sel(init="rank_1")) == pytest.approx(1 / 20)
    norms = spectra["frobenius_norm"]
    ranks = norms.sel(init=["rank_1", "rank_5", "rank_20"]).values
    np.testing.assert_allclose(ranks, ranks[0])  # matched to the one Gaussian draw ≈ g√N
    assert ranks[0] == pytest.approx(1.25 * np.sqrt(20), rel=0.1)
    bio = ["celegans", "celegans_shuffled", "celegans_rotated", "v1", "v1_gaussian", "v1_rotated"]
    np.testing.assert_allclose(norms.sel(init=bio), 1.25 * np.sqrt(spectra["n_hidden"].sel(init=bio)))
    sweep = collect_runs([rank_sweep_run("2AF", r, k, n_hidden=12, train_kwargs=dict(max_iter=4))
                          for r in (1, 12) for k in (0, 1)])
    theory = linear_theory.linear_theory_experiment(d=4, n_hidden=8, ranks=(1, 4), n_tasks=3, n_steps=200)
    from neurodyn.plots.style import save

    for name, data in [("rank_sweep", sweep), ("loss_curves", sweep), ("init_spectra", spectra),
                       ("init_comparison", ds), ("linear_theory", theory), ("rank_vs_alignment", ds)]:
        written = save(plots.PLOTS[name](data), tmp_path / name)
        assert all(p.stat().st_size > 0 for p in written)
