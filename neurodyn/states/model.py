"""HMM-GLM with no, Gaussian or one-hot connectivity prior, fitted by generalised EM.

Li, Kim, Rodgers, Choi & Wu, "One-hot Generalized Linear Model for Switching Brain State
Discovery", ICLR 2024 (arXiv 2310.15263), section 3 and Algorithm 1.

E-step: exact scaled forward–backward (:mod:`neurodyn.states.messages`). M-step: the
transition matrix and initial distribution in closed form from the expected counts; the
GLM weights, biases and prior parameters jointly by L-BFGS on

    −[ Q_e(θ, b) + ln p(θ) ] / n_bins

with analytic gradients (:func:`~neurodyn.states.emissions.expected_log_likelihood`
and each prior's ``pullback_moments``/``log_prior``), warm-started from the previous
M-step, diagonally preconditioned (a change of variables by the objective's curvature:
the emission's Fisher information pulled back by each prior's ``curvature``), and
truncated to the bins each state explains (posterior above ``m_step_floor``, float32)
when that still raises the exact objective; Gaussian variances by their exact
closed-form update. For the one-hot prior the per-state types are latent and the
objective is a deterministic evidence lower bound (``Q_e`` the expectation under the
types' Concrete posterior, ``ln p(θ)`` the negative KL to the shared Concrete prior; the
shared logits ``A0`` are then maximised exactly): see
:class:`~neurodyn.states.priors.OneHotPrior`. Every step increases the objective, so the
history is non-decreasing (tested); EM stops when its relative change falls below
``tol`` (``converged``) or after ``max_iter`` iterations.

Usage::

    model = HMMGLM(n_states=5, emission="poisson", prior="onehot").fit(sequences)
    model.score(test_sequences); model.predict(test_sequences)
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator

from neurodyn.errors import InvalidInputError
from neurodyn.progress import Progress
from neurodyn.states import messages
from neurodyn.states.emissions import (
    blocks_expected_log_likelihood,
    emission_log_likelihood,
    expected_log_likelihood,
    exponential_basis,
    history_features,
    linear_predictor,
    make_emission,
    moment_expected_log_likelihood,
    moment_log_likelihood,
    poisson_constant,
    posterior_blocks,
    weight_curvature,
)
from neurodyn.states.priors import make_prior

__all__ = ["HMMGLM", "fit_hmmglm", "HMMGLMParams", "prepare_sequences", "n_free_parameters"]

log = logging.getLogger("neurodyn.states")

# Default posterior floor of the truncated M-step (``m_step_floor``): bins whose posterior
# weight for a state is at or below it are left out of that state's L-BFGS objective. On
# the paper's synthetic protocol 1e-3 keeps about 1.3 of the 5 states per bin once the
# states have separated (``benchmarks/hmmglm_speed.py``); every truncated M-step is
# accepted only if it raises the exact objective, so EM stays monotone.
POSTERIOR_FLOOR = 1e-3


@dataclass
class HMMGLMParams:
    """All parameters of a fitted HMM-GLM.

    Attributes
    ----------
    log_initial : ndarray, shape (S,)
    log_transmat : ndarray, shape (S, S)
    bias : ndarray, shape (S, N)  (rows equal when the bias is shared across states)
    prior : dict of ndarray
        The prior's parametrisation of the weights (``W``; ``W0``; or ``rho, L, A0``).
    noise : ndarray, shape (S, N), or None
        Per-state emission variances (Gaussian emissions only).
    history : list of float
        The objective ``ln p(x) + ln p(θ)`` after each E-step.
    m_steps : dict
        How many M-steps were ``truncated`` (accepted) and ``exact``.
    converged : bool
        EM reached its tolerance (in the last stage).
    n_iter : int
        EM iterations run (all stages).
    gumbel : ndarray or None
        The one-hot prior's fixed Gumbel draws of the KL term.
    """

    log_initial: np.ndarray
    log_transmat: np.ndarray
    bias: np.ndarray
    prior: dict
    noise: np.ndarray | None = None
    history: list = field(default_factory=list)
    m_steps: dict = field(default_factory=dict)
    converged: bool = False
    n_iter: int = 0
    gumbel: np.ndarray | None = None


def prepare_sequences(sequences, basis):
    """Validate sequences and stack observations and history features.

    Parameters
    ----------
    sequences : ndarray (T, N) or list of ndarray (T_i, N)
    basis : ndarray, shape (K,)

    Returns
    -------
    X, H : ndarray, shape (sum T_i, N)
    lengths : list of int
    """
    if isinstance(sequences, np.ndarray) and sequences.ndim == 2:
        sequences = [sequences]
    seqs = [np.asarray(s, float) for s in sequences]
    if not seqs:
        raise InvalidInputError("sequences: expected at least one (T, N) array")
    N = seqs[0].shape[1] if seqs[0].ndim == 2 else None
    for i, s in enumerate(seqs):
        if s.ndim != 2 or s.shape[1] != N or s.shape[0] < 1:
            raise InvalidInputError(f"sequences[{i}]: expected shape (T, {N}), got {s.shape}")
        if not np.all(np.isfinite(s)):
            raise InvalidInputError(f"sequences[{i}]: contains NaN or inf; expected finite values")
    X = np.concatenate(seqs)
    H = np.concatenate([history_features(s, basis) for s in seqs])
    return X, H, [len(s) for s in seqs]


def prior_log_likelihood(emission, X, H, prior, theta, S, noise=None, x_const=None):
    """Per-bin, per-state emission log-likelihood (T, S) under the prior's weights.

    For the one-hot prior this is ``E_q[ln p(x_t | z_t = s, W_s)]`` under the types'
    posterior (:func:`~neurodyn.states.emissions.moment_log_likelihood`), the emission
    term of the evidence lower bound; the E-step's forward–backward runs on it.
    """
    W, V = prior.moments(theta)
    b = _bias_full(theta["bias"], S)
    if V is None:
        return emission_log_likelihood(emission, X, H, W, b, noise, x_const)
    return moment_log_likelihood(emission, X, H, W, V, b, noise, x_const)


def _e_step(ll, lengths, log_initial, log_transmat):
    """Forward–backward over every sequence; sequences of equal length share one pass."""
    S = ll.shape[1]
    gamma = np.empty_like(ll)
    xi = np.zeros((S, S))
    starts = np.concatenate([[0], np.cumsum(lengths)])
    seq_ll = np.empty(len(lengths))
    first = np.zeros(S)
    by_len: dict[int, list[int]] = {}
    for i, L in enumerate(lengths):
        by_len.setdefault(L, []).append(i)
    for L, idx in by_len.items():
        block = np.stack([ll[starts[i] : starts[i] + L] for i in idx])
        post = messages.forward_backward(log_initial, log_transmat, block)
        for j, i in enumerate(idx):
            gamma[starts[i] : starts[i] + L] = post.posterior[j]
            first += post.posterior[j, 0]
        xi += post.expected_transitions.sum(0)
        seq_ll[idx] = post.log_likelihood
    return seq_ll, gamma, xi, first


class _Packer:
    """Flatten a dict of arrays into one vector for scipy and back."""

    def __init__(self, template: dict):
        self.keys = list(template)
        self.shapes = [np.shape(template[k]) for k in self.keys]
        self.sizes = [int(np.prod(s)) for s in self.shapes]

    def pack(self, d):
        return np.concatenate([np.ravel(d[k]) for k in self.keys])

    def unpack(self, v):
        out, i = {}, 0
        for k, s, n in zip(self.keys, self.shapes, self.sizes):
            out[k] = v[i : i + n].reshape(s)
            i += n
        return out


def _bias_full(b, S):
    return np.broadcast_to(b, (S, b.shape[-1])) if b.ndim == 1 else b


def m_step_objective(theta, emission, prior, X, H, gamma, noise, S, bias_l2=0.0, blocks=None):
    """``−(Q_e + ln p(θ))`` and its gradient for a dict ``theta`` (``bias`` + prior params).

    ``blocks`` (from :func:`~neurodyn.states.emissions.posterior_blocks`) replaces the
    dense ``Q_e`` by its truncation to the bins kept per state.

    With random weights (one-hot prior: ``prior.moments`` gives a variance), ``Q_e`` is
    the expectation under the types' posterior (:func:`moment_expected_log_likelihood`).

    Returns
    -------
    value : float
    grad : dict of ndarray, same keys and shapes as ``theta``
    """
    b = _bias_full(theta["bias"], S)
    W, V = prior.moments(theta)
    if V is not None:
        q, dW, dV, db = moment_expected_log_likelihood(emission, X, H, W, V, b, gamma, noise, const=False,
                                                       blocks=blocks)
    elif blocks is not None:
        (q, dW, db), dV = blocks_expected_log_likelihood(emission, blocks, W, b, noise, const=False), None
    else:
        (q, dW, db), dV = expected_log_likelihood(emission, X, H, W, b, gamma, noise, const=False), None
    lp, glp = prior.log_prior(theta)
    g = prior.pullback_moments(theta, dW, dV)
    grad = {k: -(g[k] + glp[k]) for k in g}
    grad["bias"] = -(db if theta["bias"].ndim == 2 else db.sum(0))
    value = -(q + lp)
    if bias_l2:
        value += 0.5 * bias_l2 * float((theta["bias"] ** 2).sum())
        grad["bias"] = grad["bias"] + bias_l2 * theta["bias"]
    return value, grad


def _exact_m_objective(theta, emission, prior, X, H, gamma, noise, S, x_const=None, ll=None, out=None):
    """``−(Q_e + ln p(θ))`` without the gradient (the acceptance test of a truncated step).

    ``ll``: the per-bin emission log-likelihoods at ``theta`` when already at hand (the
    E-step's); otherwise computed with ``x_const`` as the E-step does, so that values at
    different ``theta`` compare, and stored in the dict ``out`` (key ``ll``) if given.
    """
    if ll is None:
        ll = prior_log_likelihood(emission, X, H, prior, theta, S, noise, x_const)
        if out is not None:
            out["ll"] = ll
    return -(float(np.einsum("ts,ts->", gamma, ll)) + prior.log_prior(theta)[0])


def _m_step(theta, emission, prior, X, H, gamma, noise, S, maxiter, scale, floor=0.0, stats=None, ll=None,
            x_const=None, cache=None):
    """L-BFGS on the M-step objective from ``theta``.

    With ``floor > 0`` the objective is first truncated to the bins whose posterior weight
    for a state exceeds ``floor`` (each state then touches about the bins it explains,
    instead of all of them). The truncated optimum is kept only if it lowers the exact
    objective ``−(Q_e + ln p(θ))`` below its value at ``theta`` — the generalised-EM
    condition, so ``ln p(x) + ln p(θ)`` still never decreases; otherwise the exact
    M-step runs. ``stats`` (a dict) counts ``truncated`` and ``exact`` M-steps; ``ll`` and
    ``x_const`` (the E-step's log-likelihoods at ``theta`` and its Poisson constant) spare
    recomputing the exact objective at ``theta``; ``cache`` (a dict) receives under ``ll``
    the log-likelihoods at an accepted truncated step (the next E-step's, when the noise
    does not change).
    """
    packer = _Packer(theta)

    def solve(blocks):
        # Diagonal preconditioning: L-BFGS runs in u = √c ⊙ (θ − θ₀), c the diagonal curvature
        # of the objective at θ₀ (prior.curvature, floored). A change of variables only: the
        # objective is the same, but its curvature, which spans five orders of magnitude
        # between likelihood-determined weights and saturated type logits, becomes O(1).
        x0, P = packer.pack(theta), packer.pack(_preconditioner(theta, emission, prior, X, H, gamma, noise, S, blocks))

        def fun(u):
            val, g = m_step_objective(packer.unpack(x0 + P * u), emission, prior, X, H, gamma, noise, S,
                                      blocks=blocks)
            return val / scale, packer.pack(g) * P / scale

        res = minimize(fun, np.zeros_like(x0), jac=True, method="L-BFGS-B",
                       options={"maxiter": maxiter, "gtol": 1e-12})
        return packer.unpack(x0 + P * res.x)

    if floor > 0:
        # The truncated step runs in float32 (about twice as fast as float64, and each state
        # touches only the bins it explains); it is kept only if the exact float64 objective
        # improves.
        blocks = posterior_blocks(X, H, gamma, floor, np.float32)
        cand = solve(blocks)
        before = _exact_m_objective(theta, emission, prior, X, H, gamma, noise, S, x_const, ll)
        out = {}
        after = _exact_m_objective(cand, emission, prior, X, H, gamma, noise, S, x_const, out=out)
        if after <= before:
            if cache is not None:
                cache["ll"] = out["ll"]
            if stats is not None:
                stats["truncated"] = stats.get("truncated", 0) + 1
            return cand
    if stats is not None:
        stats["exact"] = stats.get("exact", 0) + 1
    return solve(None)


# Relative tolerance of the Gaussian-prior stage that starts the one-hot fit (or ``tol`` if
# larger): that stage only provides a starting point; the one-hot stage converges to ``tol``.
WARM_START_TOL = 1e-4
# L-BFGS iterations per M-step of that stage (or ``m_step_iter`` if smaller).
WARM_START_M_STEP_ITER = 20

# Floor added to the diagonal curvature of the preconditioner (in nats per unit² of the
# parameter): directions that neither the data nor the prior constrain keep a finite scale.
PRECONDITION_FLOOR = 0.1


def _preconditioner(theta, emission, prior, X, H, gamma, noise, S, blocks=None):
    """``1/√(c + floor)`` per parameter, ``c`` the diagonal curvature of ``−(Q_e + ln p(θ))``
    at ``theta`` (:func:`~neurodyn.states.emissions.weight_curvature` pulled back by the
    prior's ``curvature``; biases: the emission's Fisher information summed over bins)."""
    W, _ = prior.moments(theta)
    b = _bias_full(theta["bias"], S)
    C, cb = weight_curvature(emission, X, H, W, b, gamma, noise, blocks)
    curv = prior.curvature(theta, C)
    curv["bias"] = cb if theta["bias"].ndim == 2 else cb.sum(0)
    return {k: 1.0 / np.sqrt(np.asarray(curv[k], float) + PRECONDITION_FLOOR) for k in theta}


def n_free_parameters(n_states: int, n_neurons: int, emission: str, state_bias: bool) -> int:
    """Free parameters counted for BIC: weights, biases, transitions, initial, variances."""
    S, N = n_states, n_neurons
    k = S * N * N + (S * N if state_bias else N) + S * (S - 1) + (S - 1)
    if emission == "gaussian":
        k += S * N
    return k


def _glm_init(emission, prior_l2, X, H, state_bias, maxiter):
    """Single-state GLM fit used to initialise every state (ridge ``prior_l2`` on W)."""
    N = X.shape[1]
    gamma = np.ones((X.shape[0], 1))
    noise = emission.init_noise(X, 1)
    mean = X.mean(0)
    if emission.name == "poisson":
        b0 = np.log(np.expm1(np.maximum(mean, 1e-3)))
    elif emission.name == "bernoulli":
        m = np.clip(mean, 1e-3, 1 - 1e-3)
        b0 = np.log(m / (1 - m))
    else:
        b0 = mean
    theta = {"bias": b0[None], "W": np.zeros((1, N, N))}
    # A starting point only: float32 (twice as fast), gradients accumulated in float64.
    X32, H32, g32 = X.astype(np.float32), H.astype(np.float32), gamma.astype(np.float32)
    noise32 = None if noise is None else noise.astype(np.float32)

    def fun(v):
        th = {"bias": v[:N][None], "W": v[N:].reshape(1, N, N)}
        q, dW, db = expected_log_likelihood(emission, X32, H32, th["W"].astype(np.float32),
                                            th["bias"].astype(np.float32), g32, noise32)
        dW, db = dW.astype(float), db.astype(float)
        val = -q + 0.5 * prior_l2 * float((th["W"] ** 2).sum())
        g = np.concatenate([-db[0], (-dW + prior_l2 * th["W"]).ravel()])
        return val / X.shape[0], g / X.shape[0]

    v0 = np.concatenate([theta["bias"][0], theta["W"].ravel()])
    # Diagonally preconditioned, as the M-step (see _m_step); a starting point needs no more
    # than a relative precision of 1e-6 (the states start from it plus noise).
    C, c = weight_curvature(emission, X32, H32, theta["W"], theta["bias"], g32, noise32)
    P = 1.0 / np.sqrt(np.concatenate([c[0], (C[0] + prior_l2).ravel()]) + PRECONDITION_FLOOR)
    res = minimize(lambda u: (lambda f, g: (f, g * P))(*fun(v0 + P * u)), np.zeros_like(v0), jac=True,
                   method="L-BFGS-B", options={"maxiter": maxiter, "ftol": 1e-6, "gtol": 1e-12})
    v = v0 + P * res.x
    return v[:N], v[N:].reshape(N, N)


def fit_hmmglm(
    sequences,
    n_states: int,
    *,
    emission: str = "poisson",
    link: str = "softplus",
    prior: str = "none",
    prior_kwargs: dict | None = None,
    state_bias: bool = False,
    n_lags: int = 5,
    max_iter: int = 100,
    m_step_iter: int = 50,
    m_step_floor: float = POSTERIOR_FLOOR,
    tol: float = 1e-6,
    init_noise: float = 0.5,
    sticky: float = 0.98,
    learn_initial: bool = True,
    n_init: int = 1,
    init_iter: int | None = None,
    polish_iter: int = 0,
    warm_start: str | None = "gaussian",
    random_state=0,
    log_every: int = 10,
) -> HMMGLMParams:
    """Fit an HMM-GLM by generalised EM (see module docstring).

    Parameters
    ----------
    sequences : ndarray (T, N) or list of ndarray (T_i, N)
        Observations (counts, binary events or continuous traces).
    n_states : int
        Number of hidden states ``S``.
    emission : {"poisson", "bernoulli", "gaussian"}
    link : {"softplus", "sigmoid", "exp"}
        Poisson link (ignored otherwise).
    prior : {"none", "gaussian", "onehot"}
    prior_kwargs : dict
        ``l1`` (none), ``sigma`` (gaussian), ``tau``, ``n_kl_samples``,
        ``free_diagonal`` (onehot; see :class:`~neurodyn.states.priors.OneHotPrior`).
    state_bias : bool
        One bias per state and neuron (else one per neuron shared by the states, as in
        the paper).
    n_lags : int
        History basis length ``K`` (basis ``φ_k ∝ e^{−k}``).
    max_iter : int
        Most EM iterations (per stage: the Gaussian warm start and the one-hot fit each).
    m_step_iter : int
        L-BFGS iterations per M-step (diagonally preconditioned; it stops earlier at its
        own tolerance).
    m_step_floor : float
        Truncated M-step: each state's objective leaves out the bins where its posterior
        weight is at or below this, and the step is kept only if it raises the exact
        objective (generalised EM). Once EM has converged this way, exact M-steps
        continue until it converges again, so the result is a fixed point of exact EM.
        0 runs exact M-steps throughout.
    tol : float
        Converged when the objective changes by less than ``tol`` relative to its value
        between two EM iterations.
    init_noise : float
        Per-state weights start at the single-state GLM plus this many standard
        deviations of its weights of Gaussian noise.
    sticky : float
        Initial self-transition probability (paper: 0.98).
    n_init : int
        Restarts (different initial noise); the best final objective wins.
    init_iter : int or None
        With ``n_init > 1``: screen the restarts by running only this many EM iterations
        of each (of the Gaussian warm start, when used), and run only the best to the
        end. None runs every restart to the end.
    polish_iter : int
        One-hot prior only, off by default: after EM, hold the types at their one-hot
        argmax and run this many EM iterations on strengths, biases and the chain (a
        different objective, likelihood with hard types; ``history`` then continues
        with it).
    warm_start : {"gaussian", None}
        One-hot prior only: first fit the Gaussian-prior model (σ = 1/3) and start the
        one-hot fit from its weights, biases, chain and variances (default). That stage
        stops at a relative change of ``max(tol, 1e-4)``, with M-steps of at most
        ``min(m_step_iter, 20)`` L-BFGS iterations and without the exact-M-step finish. None starts
        it from the single-state GLM like the other priors (a worse optimum on the tests'
        generator).
    random_state : int, numpy.random.Generator or None
        Seeds the initial noise and the one-hot prior's Gumbel draws.
    log_every : int
        Log progress every ``log_every`` EM iterations (logger ``neurodyn.states``).

    Returns
    -------
    HMMGLMParams
        With ``history`` the objective after each E-step (``ln p(x) + ln p(θ)``; for the
        one-hot prior the evidence lower bound), ``converged`` and ``n_iter``.
    """
    if n_states < 1:
        raise InvalidInputError(f"n_states: expected >= 1, got {n_states}")
    if max_iter < 0 or m_step_iter < 1:
        raise InvalidInputError(f"max_iter, m_step_iter: expected >= 0 and >= 1, got {max_iter}, {m_step_iter}")
    if not tol >= 0:
        raise InvalidInputError(f"tol: expected >= 0, got {tol}")
    if n_init < 1 or (init_iter is not None and init_iter < 1):
        raise InvalidInputError(f"n_init, init_iter: expected >= 1, got {n_init}, {init_iter}")
    if polish_iter < 0:
        raise InvalidInputError(f"polish_iter: expected >= 0, got {polish_iter}")
    if not 0 <= m_step_floor < 1:
        raise InvalidInputError(f"m_step_floor: expected in [0, 1), got {m_step_floor}")
    if not 0 < sticky < 1 and n_states > 1:
        raise InvalidInputError(f"sticky: expected in (0, 1), got {sticky}")
    if warm_start not in (None, "gaussian"):
        raise InvalidInputError(f"warm_start: expected None or 'gaussian', got {warm_start!r}")
    em = make_emission(emission, **({"link": link} if emission == "poisson" else {}))
    pr = make_prior(prior, **(prior_kwargs or {}))
    basis = exponential_basis(n_lags)
    X, H, lengths = prepare_sequences(sequences, basis)
    em.validate(X, "sequences")
    S, N = n_states, X.shape[1]
    rng = np.random.default_rng(random_state)
    b_glm, W_glm = _glm_init(em, 1e-2 * X.shape[0] / 1000, X, H, state_bias, 200)
    if hasattr(pr, "draw_noise"):  # one set of Gumbel draws per fit: every restart optimises the same objective
        pr.draw_noise((S, N, N), rng)
    warm = warm_start == "gaussian" and prior == "onehot" and S > 1
    first = make_prior("gaussian") if warm else pr  # the prior of the first stage
    # The Gaussian stage only provides the one-hot fit's starting point: shorter M-steps, a
    # looser tolerance and no exact-M-step finish (the one-hot stage has all three).
    first_tol = max(tol, WARM_START_TOL) if warm else tol
    first_iter = min(m_step_iter, WARM_START_M_STEP_ITER) if warm else m_step_iter
    if S == 1:
        n_init = 1  # one state starts at the single-state GLM: restarts would be identical
    screen = n_init > 1 and init_iter is not None and init_iter < max_iter
    best = None
    for r in range(n_init):
        W0 = W_glm[None] + init_noise * (W_glm.std() + 1e-3) * rng.standard_normal((S, N, N))
        if S == 1:
            W0 = W_glm[None].copy()
        theta = first.init(W0, rng)
        theta["bias"] = np.tile(b_glm, (S, 1)) if state_bias else b_glm.copy()
        if state_bias and S > 1:
            theta["bias"] = theta["bias"] + init_noise * X.std(0) * rng.standard_normal((S, N)) * 0.5
        label = f"{r} (gaussian warm start)" if warm else r
        p = _run_em(em, first, theta, X, H, lengths, S, sticky, learn_initial, init_iter if screen else max_iter,
                    first_iter, first_tol, log_every, label, floor=m_step_floor, exact_finish=not warm)
        if not screen and warm:
            p = _continue(em, pr, p, X, H, lengths, S, sticky, learn_initial, max_iter, m_step_iter, tol, log_every,
                          r, m_step_floor, state_bias, rng, from_gaussian=True)
        if best is None or p.history[-1] > best.history[-1]:
            best = p
    if screen:  # only the best screened restart runs to the end
        best = _continue(em, first, best, X, H, lengths, S, sticky, learn_initial, max_iter - init_iter, first_iter,
                         first_tol, log_every, "best", m_step_floor, state_bias, rng, exact_finish=not warm)
        if warm:
            best = _continue(em, pr, best, X, H, lengths, S, sticky, learn_initial, max_iter, m_step_iter, tol,
                             log_every, "best", m_step_floor, state_bias, rng, from_gaussian=True)
    if prior == "onehot" and polish_iter > 0:
        hard = make_prior("onehot", **{**(prior_kwargs or {}), "frozen_types": True})
        theta = {**best.prior, "bias": best.bias if state_bias else best.bias[0]}
        p = _run_em(em, hard, theta, X, H, lengths, S, sticky, learn_initial, polish_iter, m_step_iter, tol,
                    log_every, "polish", start=best, floor=m_step_floor)
        p.history = best.history + p.history
        p.converged, p.n_iter = best.converged, best.n_iter + p.n_iter
        best = p
    if getattr(pr, "gumbel", None) is not None:
        best.gumbel = pr.gumbel
    return best


def _continue(em, pr, start, X, H, lengths, S, sticky, learn_initial, max_iter, m_step_iter, tol, log_every, label,
              floor, state_bias, rng, from_gaussian=False, exact_finish=True):
    """Run EM on from a previous fit ``start``; ``from_gaussian``: switch from the Gaussian
    prior of a warm start to ``pr`` (initialised at the fitted weights). The history of
    a continued run of the same prior is appended to ``start``'s."""
    theta = pr.init(start.prior["W"], rng) if from_gaussian else dict(start.prior)
    theta["bias"] = start.bias if state_bias else start.bias[0]
    p = _run_em(em, pr, theta, X, H, lengths, S, sticky, learn_initial, max_iter, m_step_iter, tol, log_every, label,
                start=start, floor=floor, exact_finish=exact_finish)
    p.n_iter += start.n_iter
    if not from_gaussian:
        p.history = start.history + p.history[1:]
    return p


def _run_em(em, pr, theta, X, H, lengths, S, sticky, learn_initial, max_iter, m_step_iter, tol, log_every, restart,
            start=None, floor=0.0, exact_finish=True):
    """EM from ``theta``; with ``exact_finish`` a run that converged with truncated M-steps
    continues with exact ones until it converges again (a fixed point of exact EM)."""
    log_pi0 = np.full(S, -np.log(S))
    A = np.full((S, S), (1 - sticky) / max(S - 1, 1)) if S > 1 else np.ones((1, 1))
    np.fill_diagonal(A, sticky if S > 1 else 1.0)
    log_A = np.log(A)
    noise = em.init_noise(X, S)
    if start is not None:
        log_pi0, log_A, noise = start.log_initial, start.log_transmat, start.noise
    n_bins = X.shape[0]
    history = []
    x_const = poisson_constant(X) if em.name == "poisson" else None
    stats: dict[str, int] = {}
    converged = False
    t0 = time.perf_counter()
    bar = Progress(max_iter + 1, f"EM restart {restart}", enabled=bool(log_every))
    cache: dict = {}
    for it in range(max_iter + 1):
        ll = cache.pop("ll", None)  # computed by the M-step's acceptance test at this theta
        if ll is None:
            ll = prior_log_likelihood(em, X, H, pr, theta, S, noise, x_const)
        seq_ll, gamma, xi, first = _e_step(ll, lengths, log_pi0, log_A)
        obj = float(seq_ll.sum() + pr.log_prior(theta)[0])
        history.append(obj)
        bar.update(1, objective_per_bin=obj / n_bins)
        if log_every and (it % log_every == 0):
            log.info(
                "restart %s EM iter %d: objective/bin %.6f (%.1f s)", restart, it, obj / n_bins, time.perf_counter() - t0
            )
        if it > 0 and abs(history[-1] - history[-2]) <= tol * abs(history[-2]):
            if floor == 0 or S == 1 or not exact_finish:
                converged = True
                break
            floor = 0.0  # converged with truncated M-steps: finish with exact ones
        if it == max_iter:
            break
        # M-step: closed-form Markov chain, L-BFGS for GLM + prior, exact noise.
        if S > 1:
            A = np.maximum(xi, 1e-300)
            log_A = np.log(A / A.sum(1, keepdims=True))
            if learn_initial:
                log_pi0 = np.log(np.maximum(first / first.sum(), 1e-300))
        theta = _m_step(theta, em, pr, X, H, gamma, noise, S, m_step_iter, n_bins, floor, stats, ll, x_const,
                        cache if noise is None else None)
        if hasattr(pr, "update_hyper"):  # one-hot: A0 enters only the KL term, solved exactly
            theta = pr.update_hyper(theta)
        if noise is not None:
            W, V = pr.moments(theta)
            b = _bias_full(theta["bias"], S)
            # Exact update of the Gaussian variance: E_q[(x − η)²] = (x − E η)² + Var η.
            extra = None if V is None else linear_predictor(H * H, V, np.zeros_like(b))
            noise = em.update_noise(X, linear_predictor(H, W, b), gamma, extra)
    bar.close()
    log.info("restart %s: %d EM iterations, %s (M-steps: %s): objective/bin %.6f", restart, it,
             "converged" if converged else "not converged", stats or "none", history[-1] / n_bins)
    bias = np.array(_bias_full(theta["bias"], S))
    prior_params = {k: v for k, v in theta.items() if k != "bias"}
    return HMMGLMParams(log_pi0, log_A, bias, prior_params, noise, history, stats, converged, it)


class HMMGLM(BaseEstimator):
    """HMM-GLM estimator (scikit-learn conventions) around :func:`fit_hmmglm`.

    Parameters are those of :func:`fit_hmmglm`, with the same defaults. Fitted
    attributes: ``weights_`` (S, N, N) used for evaluation (hard one-hot types for the
    one-hot prior), ``bias_`` (S, N), ``transmat_`` (S, S), ``initial_`` (S,),
    ``noise_`` (S, N) or None, ``types_`` (S, N, N) in {−1, 0, 1},
    ``prior_weights_`` (N, N), ``prior_adjacency_`` (N, N) in {−1, 0, 1},
    ``prior_adjacency_balanced_``, ``history_`` (objective per EM iteration),
    ``converged_``, ``n_iter_``, ``params_`` (:class:`HMMGLMParams`).
    """

    def __init__(
        self,
        n_states: int = 2,
        *,
        emission: str = "poisson",
        link: str = "softplus",
        prior: str = "none",
        prior_kwargs: dict | None = None,
        state_bias: bool = False,
        n_lags: int = 5,
        max_iter: int = 100,
        m_step_iter: int = 50,
        m_step_floor: float = POSTERIOR_FLOOR,
        tol: float = 1e-6,
        init_noise: float = 0.5,
        sticky: float = 0.98,
        learn_initial: bool = True,
        n_init: int = 1,
        init_iter: int | None = None,
        polish_iter: int = 0,
        warm_start: str | None = "gaussian",
        random_state=0,
        log_every: int = 10,
    ):
        self.n_states = n_states
        self.emission = emission
        self.link = link
        self.prior = prior
        self.prior_kwargs = prior_kwargs
        self.state_bias = state_bias
        self.n_lags = n_lags
        self.max_iter = max_iter
        self.m_step_iter = m_step_iter
        self.m_step_floor = m_step_floor
        self.tol = tol
        self.init_noise = init_noise
        self.sticky = sticky
        self.learn_initial = learn_initial
        self.n_init = n_init
        self.init_iter = init_iter
        self.polish_iter = polish_iter
        self.warm_start = warm_start
        self.random_state = random_state
        self.log_every = log_every

    def fit(self, sequences, y=None) -> HMMGLM:
        """Fit the model by generalised EM.

        Parameters
        ----------
        sequences : ndarray (T, N) or list of ndarray (T_i, N)
            Observations (counts, binary events or continuous traces); sequences are
            independent and share all parameters.
        y : None
            Ignored (scikit-learn convention).

        Returns
        -------
        HMMGLM
            The fitted estimator (``converged_`` says whether EM reached ``tol`` within
            ``max_iter`` iterations).
        """
        p = fit_hmmglm(sequences, **self.get_params())
        self._set(p)
        return self

    def _set(self, p: HMMGLMParams):
        pr = make_prior(self.prior, **(self.prior_kwargs or {}))
        self.params_ = p
        self.weights_ = np.array(pr.hard_weights(p.prior))
        self.bias_ = p.bias
        self.transmat_ = np.exp(p.log_transmat)
        self.initial_ = np.exp(p.log_initial)
        self.noise_ = p.noise
        self.types_ = pr.types(p.prior)
        self.prior_weights_ = pr.prior_weights(p.prior)
        self.prior_adjacency_ = pr.prior_types(p.prior)
        self.prior_adjacency_balanced_ = (
            pr.prior_types(p.prior, balanced=True) if self.prior == "onehot" else self.prior_adjacency_
        )
        self.history_ = np.array(p.history)
        self.converged_ = bool(p.converged)
        self.n_iter_ = int(p.n_iter)
        self.n_features_in_ = self.weights_.shape[1]

    def _emission(self):
        return make_emission(self.emission, **({"link": self.link} if self.emission == "poisson" else {}))

    def _log_lik(self, sequences):
        if not hasattr(self, "weights_"):
            raise InvalidInputError("HMMGLM: call fit before score/predict")
        X, H, lengths = prepare_sequences(sequences, exponential_basis(self.n_lags))
        if X.shape[1] != self.n_features_in_:
            raise InvalidInputError(f"sequences: expected {self.n_features_in_} neurons, got {X.shape[1]}")
        ll = emission_log_likelihood(self._emission(), X, H, self.weights_, self.bias_, self.noise_)
        starts = np.concatenate([[0], np.cumsum(lengths)])
        return [ll[starts[i] : starts[i + 1]] for i in range(len(lengths))]

    def score(self, sequences) -> float:
        """Held-out marginal log-likelihood ``Σ_i ln p(x^{(i)})`` (nats)."""
        return float(
            sum(
                messages.forward_backward(self.params_.log_initial, self.params_.log_transmat, ll).log_likelihood
                for ll in self._log_lik(sequences)
            )
        )

    def predict(self, sequences):
        """Viterbi state paths (one int array per sequence; a single array for one input)."""
        out = [messages.viterbi(self.params_.log_initial, self.params_.log_transmat, ll) for ll in self._log_lik(sequences)]
        return out[0] if isinstance(sequences, np.ndarray) and np.ndim(sequences) == 2 else out

    def predict_proba(self, sequences):
        """Posterior state marginals (one (T, S) array per sequence)."""
        out = [
            messages.forward_backward(self.params_.log_initial, self.params_.log_transmat, ll).posterior
            for ll in self._log_lik(sequences)
        ]
        return out[0] if isinstance(sequences, np.ndarray) and np.ndim(sequences) == 2 else out

    def bic(self, sequences) -> float:
        """``−2 ln p(x) + k ln(n_bins)`` with ``k`` from :func:`n_free_parameters`."""
        n = sum(len(s) for s in ([sequences] if np.ndim(sequences) == 2 and isinstance(sequences, np.ndarray) else sequences))
        k = n_free_parameters(self.n_states, self.n_features_in_, self.emission, self.state_bias)
        return -2.0 * self.score(sequences) + k * np.log(n)
