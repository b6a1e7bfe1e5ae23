"""HMM-GLM fitting: EM monotonicity, planted-GLM recovery, planted-state recovery."""

import numpy as np
import pytest

from neurodyn.errors import InvalidInputError
from neurodyn.states import metrics
from neurodyn.states.emissions import GaussianGLM, PoissonGLM, exponential_basis, history_features
from neurodyn.states.model import HMMGLM, fit_hmmglm
from neurodyn.states.selection import select_n_states
from neurodyn.states.synthetic import paper_dataset, paper_parameters, sample_hmmglm


@pytest.mark.parametrize(
    "emission,prior,kw",
    [
        ("poisson", "none", {}),
        ("poisson", "none", {"l1": 1.0}),
        ("poisson", "gaussian", {}),
        ("poisson", "onehot", {}),
        ("bernoulli", "gaussian", {}),
        ("bernoulli", "onehot", {}),
        ("gaussian", "none", {}),
        ("gaussian", "onehot", {"free_diagonal": True}),
    ],
)
def test_em_never_decreases_objective(emission, prior, kw):
    truth = paper_parameters(3, 6, rng=1)
    seqs = [sample_hmmglm(truth, 300, rng=s)[0] for s in range(2)]
    if emission == "bernoulli":
        seqs = [np.minimum(x, 1.0) for x in seqs]
    if emission == "gaussian":
        seqs = [x + 0.1 * np.random.default_rng(0).normal(size=x.shape) for x in seqs]
    p = fit_hmmglm(seqs, 3, emission=emission, prior=prior, prior_kwargs=kw, max_iter=8, m_step_iter=10,
                   tol=0, state_bias=emission == "gaussian", log_every=0)
    h = np.array(p.history)
    assert len(h) == 9
    assert np.all(np.diff(h) >= -1e-8 * np.abs(h[:-1])), np.diff(h)


def test_truncated_m_step_is_monotone_and_reaches_the_exact_fixed_point():
    truth, train, test = paper_dataset(3, 3, 2, 800, n_states=3, n_neurons=8)
    xs, xt = [x for x, _ in train], [x for x, _ in test]
    z_true = np.concatenate([z for _, z in test])
    kw = dict(link="sigmoid", prior="gaussian", max_iter=60, m_step_iter=10, tol=1e-7, log_every=0)
    trunc = HMMGLM(3, m_step_floor=1e-3, **kw).fit(xs)
    exact = HMMGLM(3, m_step_floor=0.0, **kw).fit(xs)
    steps = trunc.params_.m_steps
    assert steps.get("truncated", 0) >= 3 and steps.get("exact", 0) >= 1, steps  # both paths ran
    assert set(exact.params_.m_steps) == {"exact"}
    h = trunc.history_
    assert np.all(np.diff(h) >= -1e-8 * np.abs(h[:-1]))
    # Same optimum: training objective, held-out likelihood, weights and decoded states.
    n, n_test = sum(map(len, xs)), len(z_true)
    assert abs(h[-1] - exact.history_[-1]) / n < 2e-5
    assert abs(trunc.score(xt) - exact.score(xt)) / n_test < 2e-5
    perm = metrics.match_states(np.concatenate(exact.predict(xt)), np.concatenate(trunc.predict(xt)), 3)
    np.testing.assert_allclose(trunc.weights_[perm], exact.weights_, atol=0.02)
    acc = [metrics.state_accuracy(z_true, np.concatenate(m.predict(xt)), 3) for m in (trunc, exact)]
    assert acc[0] > 0.85 and abs(acc[0] - acc[1]) < 0.005, acc


def test_screened_restarts_continue_the_best_one():
    truth = paper_parameters(3, 6, rng=1)
    seqs = [sample_hmmglm(truth, 300, rng=s)[0] for s in range(2)]
    kw = dict(prior="gaussian", max_iter=6, m_step_iter=5, tol=0, log_every=0)
    screened = fit_hmmglm(seqs, 3, n_init=3, init_iter=2, **kw)
    h = np.array(screened.history)
    assert len(h) == 7  # 2 screening iterations + 4 more, one objective per E-step
    assert np.all(np.diff(h) >= -1e-8 * np.abs(h[:-1]))
    # The screen keeps the restart with the best objective after 2 iterations: the same
    # three restarts (same draws) run for 2 iterations without screening end there.
    unscreened = fit_hmmglm(seqs, 3, n_init=3, **{**kw, "max_iter": 2})
    assert unscreened.history[-1] == pytest.approx(h[2], rel=1e-12)
    # With the Gaussian warm start the one-hot fit continues from the best screened start.
    ohg = HMMGLM(3, prior="onehot", n_init=2, init_iter=2, warm_start="gaussian", max_iter=4, m_step_iter=5,
                 polish_iter=1, log_every=0).fit(seqs)
    assert ohg.n_iter_ == 4 + 4 + 1 and not ohg.converged_
    assert ohg.weights_.shape == (3, 6, 6) and np.isfinite(ohg.history_).all()
    with pytest.raises(InvalidInputError, match="init_iter"):
        fit_hmmglm(seqs, 3, n_init=2, init_iter=0)


def test_truncated_m_step_falls_back_to_the_exact_step():
    from neurodyn.states.model import _exact_m_objective, _m_step
    from neurodyn.states.priors import make_prior

    rng = np.random.default_rng(0)
    truth = paper_parameters(2, 5, rng=2)
    x, z = sample_hmmglm(truth, 600, rng=3)
    H = history_features(x, exponential_basis(5))
    em, pr = PoissonGLM("sigmoid"), make_prior("none")
    # Posteriors that put weight 0.3 on the wrong state: a floor of 0.5 drops those bins,
    # and the truncated optimum (each state fitted to its own bins only) is then worse for
    # the exact objective than a start at the exact optimum.
    gamma = np.where(np.eye(2)[z] > 0, 0.7, 0.3)
    theta = {"W": np.zeros((2, 5, 5)), "bias": np.zeros(5)}
    theta = _m_step(theta, em, pr, x, H, gamma, None, 2, 200, len(x))
    stats = {}
    out = _m_step(theta, em, pr, x, H, gamma, None, 2, 20, len(x), floor=0.5, stats=stats)
    assert stats == {"exact": 1}
    assert _exact_m_objective(out, em, pr, x, H, gamma, None, 2) <= _exact_m_objective(theta, em, pr, x, H, gamma,
                                                                                        None, 2) + 1e-9


def test_single_state_recovers_planted_glm_weights():
    rng = np.random.default_rng(0)
    N, T = 5, 20_000
    W = rng.normal(scale=0.4, size=(N, N))
    b = np.full(N, 0.2)
    phi = exponential_basis(5)
    x = np.zeros((T, N))
    em = PoissonGLM("softplus")
    for t in range(T):
        h = phi[: min(t, 5)] @ x[max(0, t - 5) : t][::-1] if t else np.zeros(N)
        x[t] = em.sample(b + W @ h, rng)
    m = HMMGLM(1, emission="poisson", link="softplus", max_iter=3, log_every=0).fit(x)
    assert np.abs(m.weights_[0] - W).max() < 0.15
    np.testing.assert_allclose(m.bias_[0], b, atol=0.06)


def test_gaussian_ar_single_state_recovers_weights():
    rng = np.random.default_rng(1)
    N, T = 4, 5000
    W = 0.5 * np.eye(N) + 0.2 * rng.normal(size=(N, N))
    phi = exponential_basis(3)
    x = np.zeros((T, N))
    for t in range(T):
        h = phi[: min(t, 3)] @ x[max(0, t - 3) : t][::-1] if t else np.zeros(N)
        x[t] = GaussianGLM().sample(0.1 + W @ h, rng, np.full(N, 0.25))
    m = HMMGLM(1, emission="gaussian", n_lags=3, max_iter=3, log_every=0).fit(x)
    assert np.abs(m.weights_[0] - W).max() < 0.1
    np.testing.assert_allclose(m.noise_[0], 0.25, rtol=0.1)


@pytest.mark.parametrize("prior", ["gaussian", "onehot"])
def test_generator_and_fit_recover_planted_states(prior):
    truth, train, test = paper_dataset(3, n_train=2, n_test=1, n_time=1500, n_states=3, n_neurons=8)
    m = HMMGLM(3, link="sigmoid", prior=prior, max_iter=15, m_step_iter=15, random_state=0,
               log_every=0).fit([x for x, _ in train])
    x, z = test[0]
    zhat = m.predict(x)
    assert metrics.state_accuracy(z, zhat, 3) > 0.9
    perm = metrics.match_states(z, zhat, 3)
    assert metrics.balanced_accuracy(truth.types, m.types_[perm]) > 0.6
    assert m.score([x]) > HMMGLM(1, link="sigmoid", max_iter=5, log_every=0).fit([x for x, _ in train]).score([x])
    proba = m.predict_proba(x)
    assert proba.shape == (len(x), 3)
    np.testing.assert_allclose(proba.sum(1), 1.0)


def test_estimator_api_and_errors():
    m = HMMGLM(2, prior="onehot", prior_kwargs={"tau": 0.5})
    assert m.get_params()["prior_kwargs"] == {"tau": 0.5}
    with pytest.raises(InvalidInputError, match="m_step_floor"):
        fit_hmmglm([np.zeros((10, 2))], 2, m_step_floor=1.0)
    with pytest.raises(InvalidInputError, match="fit"):
        m.score(np.zeros((10, 2)))
    with pytest.raises(InvalidInputError, match="sequences"):
        HMMGLM(2).fit([np.zeros((10, 2)), np.zeros((10, 3))])
    with pytest.raises(InvalidInputError, match="Poisson"):
        HMMGLM(2).fit(np.full((10, 2), 0.5))
    with pytest.raises(InvalidInputError, match="prior"):
        HMMGLM(2, prior="laplace").fit(np.zeros((10, 2)))


def test_model_selection_prefers_true_number_of_states():
    truth = paper_parameters(2, 5, rng=4)
    truth = truth._replace(weights=truth.weights * 2)
    seqs = [sample_hmmglm(truth, 1500, rng=s)[0] for s in range(3)]
    table = select_n_states(seqs[:2], seqs[2:], [1, 2], link="sigmoid", prior="gaussian", max_iter=10,
                            m_step_iter=10, log_every=0)
    assert list(table["n_states"]) == [1, 2]
    best = table.loc[table["heldout_ll"].idxmax(), "n_states"]
    assert best == 2
    assert {"heldout_ll", "heldout_ll_per_bin", "bic", "train_ll"} <= set(table.columns)


def test_planted_prior_adjacency_rules():
    from neurodyn.states.benchmark import planted_prior_adjacency

    # Four pairs over five states, type counts (inh, none, exc): (0, 2, 3), (2, 2, 1),
    # (0, 5, 0), (1, 4, 0). Argmax: exc; the inh/none tie goes to none; none; none.
    types = np.zeros((5, 1, 4), dtype=int)
    types[:3, 0, 0] = 1
    types[:2, 0, 1] = -1
    types[2, 0, 1] = 1
    types[0, 0, 3] = -1
    argmax, balanced = planted_prior_adjacency(types)
    np.testing.assert_array_equal(argmax, [[1, 0, 0, 0]])
    # Balanced rule: a type's probability relative to its mean over pairs. Inh is the
    # rarest type overall, so two inh of five already win; one does not.
    assert balanced[0, 0] == 1 and balanced[0, 1] == -1 and balanced[0, 2] == 0


def test_benchmark_repeat_and_table_layout():
    from neurodyn.states.benchmark import run_synthetic_repeat, summarize_benchmark

    rows = [
        run_synthetic_repeat(s, n_states=2, n_neurons=4, n_train=1, n_test=1, n_time=300,
                             fit={"max_iter": 2, "m_step_iter": 3, "log_every": 0},
                             ohg_warm_start="gaussian")
        for s in (0, 1)
    ]
    import pandas as pd

    table = summarize_benchmark(pd.concat(rows))
    assert list(table["model"]) == ["GLM", "HG", "GHG", "OHG", "planted types"]
    assert table.loc[4, "state acc %"] == "–" and "±" in table.loc[4, "adj-prior acc % (balanced rule)"]
    assert table.loc[0, "state acc %"] == "–"
    assert "±" in table.loc[3, "adj acc %"] and (table["n_seeds"] == 2).all()
