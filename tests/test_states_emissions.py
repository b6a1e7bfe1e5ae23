"""Emission log-likelihoods against scipy.stats; analytic gradients against finite
differences and torch autograd; the Concrete density integrates to 1."""

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import expit, log_softmax

from neurodyn.states.emissions import (
    BernoulliGLM,
    GaussianGLM,
    PoissonGLM,
    emission_log_likelihood,
    exponential_basis,
    history_features,
)
from neurodyn.states.model import m_step_objective
from neurodyn.states.priors import (
    concrete_log_density,
    exp_concrete_log_density,
    make_prior,
    weights_to_types,
)


def test_basis_and_history():
    phi = exponential_basis(5)
    assert phi.sum() == pytest.approx(1.0)
    assert np.all(np.diff(phi) < 0)
    x = np.zeros((8, 2))
    x[2, 1] = 1.0
    h = history_features(x, phi)
    np.testing.assert_allclose(h[3:8, 1], phi)
    assert h[:3].sum() == 0 and h[:, 0].sum() == 0


@pytest.mark.parametrize("link", ["softplus", "sigmoid", "exp"])
def test_poisson_matches_scipy(link, rng):
    x = rng.poisson(2.0, size=(50, 1, 4)).astype(float)
    eta = rng.normal(size=(50, 3, 4))
    em = PoissonGLM(link)
    lam = em.rate(eta)[0]
    expected = {"softplus": np.logaddexp(0, eta), "sigmoid": (1 - 1e-8) * expit(eta) + 1e-8, "exp": np.exp(eta)}[link]
    np.testing.assert_allclose(lam, expected)
    np.testing.assert_allclose(em.log_prob(x, eta), stats.poisson.logpmf(x, expected), rtol=1e-10)


def test_bernoulli_and_gaussian_match_scipy(rng):
    eta = rng.normal(size=(40, 2, 3))
    xb = (rng.random((40, 1, 3)) < 0.4).astype(float)
    np.testing.assert_allclose(BernoulliGLM().log_prob(xb, eta), stats.bernoulli.logpmf(xb, expit(eta)), rtol=1e-10)
    xg = rng.normal(size=(40, 1, 3))
    var = rng.uniform(0.5, 2.0, size=(2, 3))
    np.testing.assert_allclose(
        GaussianGLM().log_prob(xg, eta, var), stats.norm.logpdf(xg, eta, np.sqrt(var)), rtol=1e-10
    )


def _problem(rng, emission, S=2, N=3, T=60):
    if emission.name == "poisson":
        X = rng.poisson(1.0, size=(T, N)).astype(float)
    elif emission.name == "bernoulli":
        X = (rng.random((T, N)) < 0.3).astype(float)
    else:
        X = rng.normal(size=(T, N))
    H = history_features(X, exponential_basis(3))
    gamma = rng.dirichlet(np.ones(S), size=T)
    noise = emission.init_noise(X, S)
    return X, H, gamma, noise


def _theta(prior, rng, S, N, state_bias):
    th = prior.init(rng.normal(scale=0.5, size=(S, N, N)), rng)
    if "diag" in th:
        th["diag"] = rng.normal(size=th["diag"].shape)
    if "A0" in th:
        th["A0"] = rng.normal(size=th["A0"].shape)
        th["L"] = rng.normal(size=th["L"].shape)
    if "W0" in th:
        th["W0"] = rng.normal(scale=0.3, size=th["W0"].shape)
    th["bias"] = rng.normal(scale=0.3, size=(S, N) if state_bias else (N,))
    return th


CASES = [
    (PoissonGLM("softplus"), "none", {"l1": 0.5}, False),
    (PoissonGLM("sigmoid"), "gaussian", {}, False),
    (PoissonGLM("exp"), "onehot", {}, True),
    (BernoulliGLM(), "onehot", {"tau": 0.5}, False),
    (GaussianGLM(), "gaussian", {"sigma": 0.5}, True),
    (GaussianGLM(), "onehot", {"free_diagonal": True}, True),
]


@pytest.mark.parametrize("emission,prior_name,kw,state_bias", CASES)
def test_m_step_gradient_equals_finite_differences(emission, prior_name, kw, state_bias, rng):
    S, N = 2, 3
    X, H, gamma, noise = _problem(rng, emission, S, N)
    prior = make_prior(prior_name, **kw)
    th = _theta(prior, rng, S, N, state_bias)
    _, grad = m_step_objective(th, emission, prior, X, H, gamma, noise, S)
    eps = 1e-6
    for key, value in th.items():
        flat = value.ravel()
        for i in rng.choice(flat.size, size=min(flat.size, 6), replace=False):
            plus = {k: v.copy() for k, v in th.items()}
            minus = {k: v.copy() for k, v in th.items()}
            plus[key].ravel()[i] += eps
            minus[key].ravel()[i] -= eps
            fd = (m_step_objective(plus, emission, prior, X, H, gamma, noise, S)[0]
                  - m_step_objective(minus, emission, prior, X, H, gamma, noise, S)[0]) / (2 * eps)
            assert grad[key].ravel()[i] == pytest.approx(fd, rel=1e-5, abs=1e-6), (key, i)


@pytest.mark.torch
@pytest.mark.parametrize("emission,prior_name,kw,state_bias", CASES[:5])
def test_m_step_gradient_equals_torch_autograd(emission, prior_name, kw, state_bias, rng):
    torch = pytest.importorskip("torch")
    S, N = 2, 3
    X, H, gamma, noise = _problem(rng, emission, S, N)
    prior = make_prior(prior_name, **kw)
    th = _theta(prior, rng, S, N, state_bias)
    value, grad = m_step_objective(th, emission, prior, X, H, gamma, noise, S)
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in th.items()}
    Xt, Ht, gt = (torch.tensor(a) for a in (X, H, gamma))
    V = None
    if prior_name == "onehot":
        # Evidence lower bound: weights' mean and variance under q, Gauss–Hermite over the
        # Gaussian pre-activation, Concrete KL averaged over the fit's Gumbel draws.
        a = torch.softmax(t["L"], -1)
        sp = torch.nn.functional.softplus(t["rho"])
        d, e = a[..., 2] - a[..., 0], a[..., 2] + a[..., 0]
        W, V = d * sp, (e - d * d) * sp * sp
        la = torch.log_softmax(t["A0"], -1)[None, None]
        g = torch.tensor(prior.gumbel)
        ratio = (la - t["L"][None]).sum(-1) - 3 * torch.logsumexp(la - t["L"][None] - g, -1) + 3 * torch.logsumexp(-g, -1)
        lp = ratio.mean(0).sum() - 0.5 * (t["rho"] ** 2).sum() / prior.strength_sigma**2
    elif prior_name == "gaussian":
        W = t["W"]
        lp = -0.5 * ((t["W"] - t["W0"]) ** 2).sum() / prior.sigma**2
    else:
        W = t["W"]
        lp = -prior.l1 * torch.sqrt(t["W"] ** 2 + prior.eps**2).sum()
    b = t["bias"].expand(S, N)
    mu = torch.einsum("tj,snj->tsn", Ht, W) + b[None]
    x = Xt[:, None, :]

    def logp(eta):
        if emission.name == "poisson":
            lam = {"softplus": torch.nn.functional.softplus, "exp": torch.exp,
                   "sigmoid": lambda e: (1 - 1e-8) * torch.sigmoid(e) + 1e-8}[emission.link](eta)
            return x * torch.log(lam) - lam
        if emission.name == "bernoulli":
            return x * eta - torch.nn.functional.softplus(eta)
        return -0.5 * (x - eta) ** 2 / torch.tensor(noise)

    if V is None:
        lpx = logp(mu)
    else:
        sd = torch.sqrt(torch.einsum("tj,snj->tsn", Ht**2, V) + 1e-12)
        r3 = np.sqrt(3.0)
        lpx = 2 / 3 * logp(mu) + 1 / 6 * (logp(mu + r3 * sd) + logp(mu - r3 * sd))
    obj = -((gt[:, :, None] * lpx).sum() + lp)
    obj.backward()
    assert float(obj.detach()) == pytest.approx(value, rel=1e-10)
    for k in th:
        np.testing.assert_allclose(grad[k], t[k].grad.numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("tau", [0.2, 1.0])
def test_concrete_density_integrates_to_one(tau):
    # Integrate over logits y = (y1, y2, 0): a = softmax(y), |da/dy| = a1 a2 a3.
    log_alpha = log_softmax(np.array([0.3, 1.2, -0.4]))

    def f(y2, y1):
        a = np.exp(log_softmax(np.array([y1, y2, 0.0])))
        return np.exp(concrete_log_density(a, log_alpha, tau) + np.log(a).sum())

    lim = 8.0 / tau + 10
    total, _ = integrate.dblquad(f, -lim, lim, -lim, lim, epsabs=1e-5)
    assert total == pytest.approx(1.0, abs=2e-3)


def test_exp_concrete_is_concrete_times_jacobian_and_mode(rng):
    a = rng.dirichlet(np.ones(3), size=5)
    la = log_softmax(rng.normal(size=3))
    np.testing.assert_allclose(
        exp_concrete_log_density(np.log(a), la, 0.3), concrete_log_density(a, la, 0.3) + np.log(a).sum(-1)
    )
    # Mode at a ∝ α^(1/τ).
    tau = 0.2
    mode = log_softmax(la / tau)
    best = exp_concrete_log_density(mode, la, tau)
    for _ in range(20):
        other = log_softmax(mode + rng.normal(scale=0.3, size=3))
        assert exp_concrete_log_density(other, la, tau) <= best + 1e-12


def test_weights_to_types_half_extreme_rule():
    W = np.array([[[2.0, 0.9, 1.0], [-1.0, -0.4, 0.0], [0.1, -0.6, 1.5]]])
    np.testing.assert_array_equal(weights_to_types(W), [[[1, 0, 1], [-1, 0, 0], [0, -1, 1]]])
    # The extremes are taken over all states (paper, eq. 8): a weak second state's
    # weights stay "none" where a per-state threshold would call them connections.
    W2 = np.concatenate([W, 0.2 * W])
    t = weights_to_types(W2)
    np.testing.assert_array_equal(t[0], weights_to_types(W)[0])
    np.testing.assert_array_equal(t[1], np.zeros((3, 3)))


def test_emission_log_likelihood_shape(rng):
    X = rng.poisson(1.0, size=(30, 4)).astype(float)
    H = history_features(X, exponential_basis(5))
    ll = emission_log_likelihood(PoissonGLM(), X, H, np.zeros((3, 4, 4)), np.zeros((3, 4)))
    assert ll.shape == (30, 3)
    np.testing.assert_allclose(ll[:, 0], ll[:, 1])


def test_sparse_expected_log_likelihood_equals_dense(rng):
    from neurodyn.states.emissions import expected_log_likelihood

    X, H, gamma, noise = _problem(rng, GaussianGLM(), 3, 4)
    W, b = rng.normal(size=(3, 4, 4)), rng.normal(size=(3, 4))
    dense = expected_log_likelihood(GaussianGLM(), X, H, W, b, gamma, noise)
    sparse = expected_log_likelihood(GaussianGLM(), X, H, W, b, gamma, noise, floor=1e-300)
    assert sparse[0] == pytest.approx(dense[0])
    np.testing.assert_allclose(sparse[1], dense[1])
    np.testing.assert_allclose(sparse[2], dense[2])


def test_fast_logistic_equals_scipy_expit():
    from scipy.special import expit

    from neurodyn.states.emissions import _logistic

    eta = np.concatenate([np.linspace(-800, 800, 20001), [-np.inf, np.inf, 0.0]])
    np.testing.assert_allclose(_logistic(eta), expit(eta), rtol=4e-16, atol=0)


def test_fast_softplus_equals_logaddexp():
    from neurodyn.states.emissions import _softplus

    eta = np.concatenate([np.linspace(-800, 800, 20001), [0.0]])
    np.testing.assert_allclose(_softplus(eta), np.logaddexp(0.0, eta), rtol=1e-15, atol=2e-16)


@pytest.mark.parametrize("emission", [PoissonGLM("softplus"), PoissonGLM("sigmoid"), PoissonGLM("exp"),
                                      BernoulliGLM(), GaussianGLM()])
def test_fisher_information_is_the_expected_negative_second_derivative(emission):
    """``fisher(η) = E_x[−∂² ln p(x | η) / ∂η²]``, the sum over x done against scipy's pmf
    (Poisson, Bernoulli) or in closed form (Gaussian), the derivative by finite differences."""
    eta = np.array([-2.0, -0.3, 0.0, 0.8, 2.5])
    noise = np.full(5, 0.7)
    e = 1e-4

    def d2(x):
        def f(h):
            return emission.log_prob(x, eta + h, noise)

        return (f(e) - 2 * f(0.0) + f(-e)) / e**2

    if emission.name == "gaussian":
        expected = -d2(np.zeros(5))  # the quadratic's curvature does not depend on x
    else:
        if emission.name == "poisson":
            lam = emission.rate(eta)[0]
            xs = np.arange(0, 60)[:, None] * np.ones(5)
            pmf = stats.poisson.pmf(xs, lam)
        else:
            xs = np.array([[0.0] * 5, [1.0] * 5])
            pmf = np.stack([1 - expit(eta), expit(eta)])
        expected = -sum(pmf[i] * d2(xs[i]) for i in range(len(xs)))
    np.testing.assert_allclose(emission.fisher(eta, noise), expected, rtol=1e-4, atol=1e-7)
