"""State-dependent GLM emissions with spike-history coupling (Li et al., ICLR 2024, eq. 1).

For state ``s`` the observation of neuron ``n`` at time ``t`` depends on the recent past of
all neurons through a fixed temporal basis ``φ`` (``K`` lags)::

    h_{t,n'} = Σ_{k=1..K} φ_k x_{t-k,n'}                      (zero-padded at t < K)
    η_{t,s,n} = b_{s,n} + Σ_{n'} W_s[n, n'] h_{t,n'}
    x_{t,n} | z_t = s  ~  p(x | η_{t,s,n})

Three observation families share this linear predictor behind one small protocol
(:class:`Emission`): ``log_prob(x, η)`` and its derivative in ``η``, ``sample(η)``,
and optional per-state noise parameters with a closed-form update.

- :class:`PoissonGLM` — spike counts, rate ``λ = f(η)`` with ``f`` softplus (paper),
  the bounded sigmoid of the paper's generator ``(1 − 1e−8) σ(η) + 1e−8``, or exp.
- :class:`BernoulliGLM` — binary events, logit link.
- :class:`GaussianGLM` — continuous traces, identity link and a per-state, per-neuron
  variance: an autoregressive GLM for calcium traces or their derivatives.

:func:`expected_log_likelihood` is the emission part of the EM objective ``Q`` with its
analytic gradient, vectorised over states and neurons (two matrix products).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from scipy.special import expit, gammaln

from neurodyn.errors import InvalidInputError

__all__ = [
    "exponential_basis",
    "history_features",
    "linear_predictor",
    "Emission",
    "PoissonGLM",
    "BernoulliGLM",
    "GaussianGLM",
    "make_emission",
    "expected_log_likelihood",
    "emission_log_likelihood",
    "poisson_constant",
    "posterior_blocks",
    "blocks_expected_log_likelihood",
    "weight_curvature",
    "gauss_log_prob",
    "moment_log_likelihood",
    "moment_expected_log_likelihood",
]

_BOUND = 1e-8  # floor of the bounded sigmoid link (paper's generator)


def _logistic(eta):
    """``σ(η) = 1 / (1 + e^{−η})`` in a new array.

    Four vectorised passes, one of them ``exp``: several times faster than
    :func:`scipy.special.expit` on large arrays and as accurate in float64 (relative error
    ~1e-16 for every η; ``e^{−η}`` overflowing to inf for η < −709 gives the correct 0).
    """
    out = np.negative(eta)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1.0
    np.reciprocal(out, out=out)
    return out


def _softplus(eta):
    """``ln(1 + e^η)`` as ``max(η, 0) + ln(1 + e^{−|η|})``.

    Several times faster than ``np.logaddexp(0, η)`` (and than ``log1p``, which numpy
    does not vectorise in float64); ``ln(1 + u)`` for ``u = e^{−|η|} ∈ (0, 1]`` has an
    absolute error below 1e-16.
    """
    out = np.abs(eta)
    np.negative(out, out=out)
    np.exp(out, out=out)
    out += 1.0
    np.log(out, out=out)
    out += np.maximum(eta, 0.0)
    return out


def exponential_basis(n_lags: int = 5, decay: float = 1.0) -> np.ndarray:
    """History basis ``φ_k ∝ exp(−decay·k)``, ``k = 1..K``, normalised to sum 1 (paper: K = 5).

    Returns
    -------
    ndarray, shape (K,)
    """
    if n_lags < 1:
        raise InvalidInputError(f"n_lags: expected >= 1, got {n_lags}")
    phi = np.exp(-decay * np.arange(1, n_lags + 1, dtype=float))
    return phi / phi.sum()


def history_features(x, basis) -> np.ndarray:
    """Filtered spike history ``h_{t,n} = Σ_k φ_k x_{t−k,n}`` (zero before the first bin).

    Parameters
    ----------
    x : ndarray, shape (T, N)
    basis : ndarray, shape (K,)

    Returns
    -------
    ndarray, shape (T, N)
    """
    x = np.asarray(x, float)
    if x.ndim != 2:
        raise InvalidInputError(f"x: expected shape (T, N), got {x.shape}")
    h = np.zeros_like(x)
    T = x.shape[0]
    for k, phi in enumerate(np.asarray(basis, float), start=1):
        if k < T:
            h[k:] += phi * x[:-k]
    return h


def linear_predictor(H, W, b) -> np.ndarray:
    """``η_{t,s,n} = b_{s,n} + Σ_j W_s[n, j] H_{t,j}``.

    Parameters
    ----------
    H : ndarray, shape (T, N)
    W : ndarray, shape (S, N, N)
    b : ndarray, shape (S, N)

    Returns
    -------
    ndarray, shape (T, S, N)
    """
    S, N, _ = W.shape
    return (H @ W.reshape(S * N, N).T).reshape(-1, S, N) + b[None]


class Emission(Protocol):
    """What the HMM needs from an observation model."""

    name: str

    def log_prob(self, x, eta, noise=None, const=True): ...  # (T, S, N) elementwise log p(x | η)

    def log_prob_and_grad(self, x, eta, noise=None, const=True): ...  # (value, ∂/∂η), both (T, S, N)

    def sample(self, eta, rng, noise=None): ...  # x ~ p(x | η), eta (N,) -> (N,)

    def fisher(self, eta, noise=None): ...  # E_x[−∂²ln p / ∂η²] >= 0 (M-step preconditioner), shape of eta

    def init_noise(self, x, n_states): ...  # None or (S, N)

    def update_noise(self, x, eta, gamma, extra=None): ...  # closed-form M-step, None or (S, N)

    def validate(self, x, where: str): ...


class PoissonGLM:
    """Poisson counts with rate ``λ = f(η)``.

    Parameters
    ----------
    link : {"softplus", "sigmoid", "exp"}
        ``softplus`` (paper's fitting model), ``sigmoid`` = bounded sigmoid
        ``(1 − 1e−8) σ(η) + 1e−8`` (paper's generator, rates ≤ 1), ``exp`` (canonical).
    """

    name = "poisson"

    def __init__(self, link: str = "softplus"):
        if link not in ("softplus", "sigmoid", "exp"):
            raise InvalidInputError(f"link: expected 'softplus', 'sigmoid' or 'exp', got {link!r}")
        self.link = link

    def rate(self, eta, deriv: bool = True):
        """``λ = f(η)`` and ``f'(η)`` (None without ``deriv``)."""
        if self.link == "softplus":
            return _softplus(eta), (_logistic(eta) if deriv else None)
        if self.link == "sigmoid":
            s = _logistic(eta)
            scale = np.asarray(eta).dtype.type(1 - _BOUND) if np.asarray(eta).dtype.kind == "f" else 1 - _BOUND
            if scale == 1:  # float32: 1 − 1e-8 rounds to 1, skip the multiplications
                lam = s + _BOUND
            else:
                lam = s * scale
                lam += _BOUND
            if not deriv:
                return lam, None
            s *= 1.0 - s
            if scale != 1:
                s *= scale
            return lam, s
        lam = np.exp(np.minimum(eta, 50.0))
        return lam, (lam.copy() if deriv else None)  # a separate array: callers work in place

    @staticmethod
    def _log_pmf(x, lam, const: bool):
        # In-place arithmetic: these (T, S, N) arrays dominate the M-step's cost.
        value = np.log(lam)
        value *= x
        value -= lam
        if const:
            value -= gammaln(x + 1.0)
        return value

    def log_prob(self, x, eta, noise=None, const: bool = True):
        return self._log_pmf(x, self.rate(eta, deriv=False)[0], const)

    def log_prob_and_grad(self, x, eta, noise=None, const: bool = True):
        lam, dlam = self.rate(eta)
        value = self._log_pmf(x, lam, const)
        grad = np.divide(x, lam, out=lam)
        grad -= 1.0
        grad *= dlam
        return value, grad

    def sample(self, eta, rng, noise=None):
        return rng.poisson(self.rate(eta)[0]).astype(float)

    def fisher(self, eta, noise=None):
        """Fisher information of ``η``: ``f'(η)² / f(η)``."""
        lam, dlam = self.rate(eta)
        dlam *= dlam
        dlam /= lam
        return dlam

    def init_noise(self, x, n_states):
        return None

    def update_noise(self, x, eta, gamma, extra=None):
        return None

    def validate(self, x, where):
        if np.any(x < 0) or np.any(x != np.round(x)):
            raise InvalidInputError(f"{where}: Poisson emissions need non-negative integer counts")


class BernoulliGLM:
    """Binary events, ``p(x = 1) = σ(η)`` (logit link)."""

    name = "bernoulli"

    def log_prob(self, x, eta, noise=None, const: bool = True):
        return x * eta - np.logaddexp(0.0, eta)

    def log_prob_and_grad(self, x, eta, noise=None, const: bool = True):
        return x * eta - np.logaddexp(0.0, eta), x - expit(eta)

    def sample(self, eta, rng, noise=None):
        return (rng.random(np.shape(eta)) < expit(eta)).astype(float)

    def fisher(self, eta, noise=None):
        """Fisher information of ``η``: ``σ(η)(1 − σ(η))``."""
        p = expit(eta)
        return p * (1.0 - p)

    def init_noise(self, x, n_states):
        return None

    def update_noise(self, x, eta, gamma, extra=None):
        return None

    def validate(self, x, where):
        if not np.all((x == 0) | (x == 1)):
            raise InvalidInputError(f"{where}: Bernoulli emissions need values in {{0, 1}}")


class GaussianGLM:
    """Continuous traces: ``x ~ N(η, σ²_{s,n})`` (autoregressive GLM, identity link).

    Parameters
    ----------
    min_variance : float
        Floor on the per-state variance, so that a state cannot collapse onto a few bins.
    """

    name = "gaussian"

    def __init__(self, min_variance: float = 1e-3):
        self.min_variance = float(min_variance)

    def log_prob(self, x, eta, noise=None, const: bool = True):
        var = np.ones(eta.shape[1:]) if noise is None else noise
        if not const:
            return -0.5 * (x - eta) ** 2 / var
        return -0.5 * (np.log(2 * np.pi * var) + (x - eta) ** 2 / var)

    def log_prob_and_grad(self, x, eta, noise=None, const: bool = True):
        var = np.ones(eta.shape[1:]) if noise is None else noise
        r = x - eta
        value = -0.5 * (r**2 / var)
        if const:
            value -= 0.5 * np.log(2 * np.pi * var)
        return value, r / var

    def sample(self, eta, rng, noise=None):
        var = np.ones(np.shape(eta)) if noise is None else noise
        return eta + np.sqrt(var) * rng.standard_normal(np.shape(eta))

    def fisher(self, eta, noise=None):
        """Fisher information of ``η``: ``1 / σ²``."""
        var = np.ones(eta.shape[-1:]) if noise is None else noise
        return np.broadcast_to(1.0 / np.asarray(var, eta.dtype), eta.shape)

    def init_noise(self, x, n_states):
        v = np.maximum(np.var(x, axis=0), self.min_variance)
        return np.tile(v, (n_states, 1))

    def update_noise(self, x, eta, gamma, extra=None):
        """Weighted residual variance per state and neuron (exact M-step given η).

        ``extra`` (T, S, N): variance of the pre-activation under random weights, added to
        the squared residual (``E[(x − η)²] = (x − E η)² + Var η``).
        """
        r2 = (x[:, None, :] - eta) ** 2  # (T, S, N)
        if extra is not None:
            r2 += extra
        w = gamma.sum(0)[:, None]  # (S, 1)
        var = np.einsum("ts,tsn->sn", gamma, r2) / np.maximum(w, 1e-12)
        return np.maximum(var, self.min_variance)

    def validate(self, x, where):
        pass


def make_emission(name: str, **kwargs) -> Emission:
    """Emission model by name: ``poisson`` (kw ``link``), ``bernoulli``, ``gaussian``."""
    if name == "poisson":
        return PoissonGLM(**kwargs)
    if name == "bernoulli":
        return BernoulliGLM()
    if name == "gaussian":
        return GaussianGLM(**kwargs)
    raise InvalidInputError(f"emission: expected 'poisson', 'bernoulli' or 'gaussian', got {name!r}")


# Bins per chunk of the per-bin log-likelihoods: (chunk, S, N) float64 temporaries stay in
# cache (the whole (T, S, N) arrays do not, and these evaluations are memory-bound).
_CHUNK = 2048


def _per_bin(fn, T):
    """``fn(slice)`` → (n, S, N) log-densities, summed over neurons chunk by chunk → (T, S)."""
    out = None
    for i in range(0, T, _CHUNK):
        sl = slice(i, min(i + _CHUNK, T))
        lp = fn(sl)
        n, S, N = lp.shape
        part = (lp.reshape(n * S, N) @ np.ones(N)).reshape(n, S)
        if out is None:
            out = np.empty((T, S), part.dtype)
        out[sl] = part
    return out


def emission_log_likelihood(emission, x, H, W, b, noise=None, x_const=None) -> np.ndarray:
    """Per-bin, per-state emission log-likelihood ``ln p(x_t | z_t = s)``, shape (T, S).

    ``x_const`` (shape (T,)): the Poisson ``−Σ_n ln x_{t,n}!`` computed once per data
    set (:func:`poisson_constant`), so that EM does not recompute it every E-step.
    """
    drop = x_const is not None and emission.name == "poisson"
    out = _per_bin(lambda sl: emission.log_prob(x[sl, None, :], linear_predictor(H[sl], W, b), noise,
                                                const=not drop), len(x))
    return out + x_const[:, None] if drop else out


def poisson_constant(x) -> np.ndarray:
    """``−Σ_n ln Γ(x_{t,n} + 1)`` per bin, shape (T,)."""
    return -gammaln(np.asarray(x, float) + 1.0).sum(1)


def expected_log_likelihood(emission, x, H, W, b, gamma, noise=None, const: bool = True, floor: float = 0.0):
    """Emission part of the EM objective and its gradient.

    ``Q_e(W, b) = Σ_t Σ_s γ_t(s) Σ_n ln p(x_{t,n} | η_{t,s,n})``.

    Parameters
    ----------
    emission : Emission
    x, H : ndarray, shape (T, N)
        Observations and history features.
    W : ndarray, shape (S, N, N)
    b : ndarray, shape (S, N)
    gamma : ndarray, shape (T, S)
        Posterior state marginals from the E-step.
    noise : ndarray, shape (S, N), optional
        Per-state noise parameters (Gaussian variance).
    const : bool
        Include terms that do not depend on ``W, b`` (False inside the M-step).
    floor : float
        Skip bins whose posterior weight for a state is ``<= floor`` (per state). With
        sticky states the posteriors are nearly one-hot, so each state touches about
        ``T/S`` bins instead of ``T``; the neglected part of ``Q`` is at most
        ``floor · Σ|ln p|``. 0 computes every term.

    Returns
    -------
    value : float
    dW : ndarray, shape (S, N, N)
    db : ndarray, shape (S, N)
    """
    S, N, _ = W.shape
    if floor > 0:
        return blocks_expected_log_likelihood(emission, posterior_blocks(x, H, gamma, floor), W, b, noise, const)
    eta = linear_predictor(H, W, b)
    lp, dlp = emission.log_prob_and_grad(x[:, None, :], eta, noise, const)
    value = float(np.einsum("ts,tsn->", gamma, lp))
    G = dlp
    G *= gamma[:, :, None]  # (T, S, N)
    dW = (G.reshape(-1, S * N).T @ H).reshape(S, N, N)
    db = G.sum(0)
    return value, dW, db


def posterior_blocks(x, H, gamma, floor: float, dtype=None):
    """Per state, the bins whose posterior weight exceeds ``floor``.

    ``dtype`` (e.g. ``np.float32``): store the blocks in that precision, so that every
    evaluation on them runs in it (the truncated M-step; its result is accepted only
    after an exact float64 check).

    Returns
    -------
    list of (x_s, H_s, g_s)
        Observations, history features and posterior weights of those bins (copies, so
        that an M-step evaluates the objective many times without re-indexing).
    """
    blocks = []
    for s in range(gamma.shape[1]):
        idx = np.flatnonzero(gamma[:, s] > floor)
        blk = (x[idx], H[idx], gamma[idx, s])
        blocks.append(_Block(blk if dtype is None else tuple(np.asarray(a, dtype) for a in blk)))
    return blocks


class _Block(tuple):
    """``(x_s, H_s, g_s)`` of one state, with the products every evaluation of the
    moment objective needs (``H²``, ``g H``, ``g H²``) computed once."""

    def products(self):
        if "_products" not in self.__dict__:
            self._products = _products(self[1], self[2])
        return self._products


def _products(H, g):
    H2 = H * H
    return H2, H * g[:, None], H2 * g[:, None]


def blocks_expected_log_likelihood(emission, blocks, W, b, noise=None, const: bool = True):
    """:func:`expected_log_likelihood` over the bins kept by :func:`posterior_blocks`."""
    value = 0.0
    dW = np.zeros_like(W)
    db = np.zeros(b.shape)
    for s, (xs, Hs, g) in enumerate(blocks):
        if g.size == 0:
            continue
        dt = Hs.dtype  # float32 blocks: the evaluation runs in float32, sums in float64
        eta = Hs @ W[s].T.astype(dt)
        eta += b[s].astype(dt)
        lp, dlp = emission.log_prob_and_grad(xs, eta, None if noise is None else noise[s].astype(dt), const)
        value += float(np.dot(g.astype(np.float64), lp.sum(1, dtype=np.float64)))
        dlp *= g[:, None]
        dW[s] = dlp.T @ Hs
        db[s] = dlp.sum(0)
    return value, dW, db


def weight_curvature(emission, x, H, W, b, gamma, noise=None, blocks=None):
    """Diagonal of the expected Fisher information of ``Q_e`` in the weights and biases.

    ``C[s, n, j] = Σ_t γ_t(s) F(η_{t,s,n}) h_{t,j}²`` and ``c[s, n] = Σ_t γ_t(s) F(η_{t,s,n})``
    with ``F`` the emission's Fisher information of the pre-activation (``fisher``) at the
    mean weights ``W``. The M-step uses it only to rescale its variables (a diagonal
    preconditioner), never in the objective. ``blocks``: restrict each state to its kept
    bins (:func:`posterior_blocks`).

    Returns
    -------
    C : ndarray, shape (S, N, N)
    c : ndarray, shape (S, N)
    """
    S, N, _ = W.shape
    if blocks is None:
        blocks = [(x, H, gamma[:, s]) for s in range(S)]
    C = np.zeros((S, N, N))
    c = np.zeros((S, N))
    for s, (_, Hs, g) in enumerate(blocks):
        if g.size == 0:
            continue
        dt = Hs.dtype
        eta = Hs @ W[s].T.astype(dt)
        eta += b[s].astype(dt)
        F = emission.fisher(eta, None if noise is None else noise[s].astype(dt)) * g[:, None]
        C[s] = F.T @ (Hs * Hs)
        c[s] = F.sum(0)
    return C, c


# Three-point Gauss–Hermite rule for E[f(μ + σ Z)], Z ~ N(0, 1): exact for polynomials of
# degree <= 5 (so for the Gaussian emission's quadratic log-density).
GH_NODES = np.array([0.0, np.sqrt(3.0), -np.sqrt(3.0)])
GH_WEIGHTS = np.array([2.0 / 3.0, 1.0 / 6.0, 1.0 / 6.0])
_GH_NODE, _GH_W0, _GH_W1 = float(np.sqrt(3.0)), 2.0 / 3.0, 1.0 / 6.0  # Python floats keep float32 float32
_VAR_FLOOR = 1e-12  # keeps d/dvar finite where the pre-activation has no variance


def _gh_terms(emission, x, mu, var, noise=None, const: bool = True, grad: bool = True):
    """The three-point rule's log-densities at ``μ`` and ``μ ± √3 σ`` and, with ``grad``,
    ``∂/∂μ`` and ``∂/∂var`` of their weighted sum (in-place arithmetic: these arrays dominate
    the M-step's cost)."""
    sd = var + _VAR_FLOOR
    np.sqrt(sd, out=sd)
    step = sd * _GH_NODE
    hi, lo = mu + step, mu - step
    if not grad:
        return (emission.log_prob(x, mu, noise, const=const), emission.log_prob(x, hi, noise, const=const),
                emission.log_prob(x, lo, noise, const=const))
    lp0, d0 = emission.log_prob_and_grad(x, mu, noise, const)
    lph, dh = emission.log_prob_and_grad(x, hi, noise, const)
    lpl, dl = emission.log_prob_and_grad(x, lo, noise, const)
    # d/dμ: Σ w_k dlp_k; d/dvar = d/dσ / (2σ) with d/dσ = w₁ √3 (dlp₊ − dlp₋).
    dvar = np.subtract(dh, dl, out=step)
    dvar *= _GH_W1 * _GH_NODE / 2.0
    dvar /= sd
    dh += dl
    dh *= _GH_W1
    d0 *= _GH_W0
    d0 += dh
    return lp0, lph, lpl, d0, dvar


def gauss_log_prob(emission, x, mu, var, noise=None, const: bool = True, grad: bool = True):
    """``E[ln p(x | η)]`` for ``η ~ N(μ, var)`` (three-point Gauss–Hermite) and its derivatives.

    Returns
    -------
    value, dmu, dvar : ndarray, shape of ``mu`` (``dmu``, ``dvar`` only with ``grad``)
    """
    terms = _gh_terms(emission, x, mu, var, noise, const, grad)
    lp0, lph, lpl = terms[:3]
    lph += lpl
    lph *= _GH_W1
    lp0 = lp0 * _GH_W0
    lp0 += lph
    return lp0 if not grad else (lp0, terms[3], terms[4])


def moment_log_likelihood(emission, x, H, W_mean, W_var, b, noise=None, x_const=None) -> np.ndarray:
    """Per-bin, per-state ``E_q[ln p(x_t | z_t = s)]`` (T, S) when the weights are random with
    independent entries of mean ``W_mean`` and variance ``W_var`` (both (S, N, N)): the
    pre-activation ``η = b + W h`` is taken as Gaussian with mean ``b + W_mean h`` and
    variance ``W_var h²`` (local reparameterisation), its expectation by Gauss–Hermite."""
    S, N, _ = W_var.shape
    drop = x_const is not None and emission.name == "poisson"
    Wv = W_var.reshape(S * N, N).T

    def chunk(sl):
        Hc = H[sl]
        var = ((Hc * Hc) @ Wv).reshape(-1, S, N)
        return gauss_log_prob(emission, x[sl, None, :], linear_predictor(Hc, W_mean, b), var, noise,
                              const=not drop, grad=False)

    out = _per_bin(chunk, len(x))
    return out + x_const[:, None] if drop else out


def moment_expected_log_likelihood(emission, x, H, W_mean, W_var, b, gamma, noise=None, const: bool = True,
                                   blocks=None):
    """``Σ_t Σ_s γ_t(s) E_q[ln p(x_t | z_t = s)]`` (see :func:`moment_log_likelihood`) and its
    gradients in ``W_mean``, ``W_var`` and ``b``; ``blocks`` (from :func:`posterior_blocks`)
    restricts each state to its kept bins.

    Returns
    -------
    value : float
    dW_mean, dW_var : ndarray, shape (S, N, N)
    db : ndarray, shape (S, N)
    """
    S = W_mean.shape[0]
    if blocks is None:  # every bin for every state, in cache-sized chunks of bins
        T = len(x)
        pieces = [(s, (x[i : i + _CHUNK], H[i : i + _CHUNK], gamma[i : i + _CHUNK, s]))
                  for s in range(S) for i in range(0, T, _CHUNK)]
    else:
        pieces = list(enumerate(blocks))
    value = 0.0
    dWm, dWv = np.zeros_like(W_mean), np.zeros_like(W_var)
    db = np.zeros(b.shape)
    for s, blk in pieces:
        xs, Hs, g = blk[0], blk[1], blk[2]
        if g.size == 0:
            continue
        dt = Hs.dtype  # float32 blocks: the whole evaluation runs in float32
        H2, gH, gH2 = blk.products() if isinstance(blk, _Block) else _products(Hs, g)
        mu = Hs @ W_mean[s].T.astype(dt)
        mu += b[s].astype(dt)
        var = H2 @ W_var[s].T.astype(dt)
        lp0, lph, lpl, dmu, dvar = _gh_terms(emission, xs, mu, var, None if noise is None else noise[s].astype(dt),
                                             const)
        # Σ_t g_t Σ_n E[ln p]: sums over neurons as matrix-vector products (N terms each, in
        # the block's precision), the weighted sum over bins in float64.
        ones = np.ones(lp0.shape[1], dt)
        lph += lpl
        per_bin = (lp0 @ ones).astype(np.float64)
        per_bin *= _GH_W0
        per_bin += _GH_W1 * (lph @ ones).astype(np.float64)
        value += float(np.dot(g.astype(np.float64), per_bin))
        gd = g.astype(dt)
        dWm[s] += dmu.T @ gH
        dWv[s] += dvar.T @ gH2
        db[s] += gd @ dmu
    return value, dWm, dWv, db
