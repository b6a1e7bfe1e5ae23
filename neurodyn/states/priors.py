"""Priors over the per-state coupling matrices ``W_s`` (Li et al., ICLR 2024, section 3).

Each prior owns a parametrisation of the weights, maps it to ``W`` (shape ``(S, N, N)``),
pulls a gradient in ``W`` back to its own parameters, and scores its log-density:

- :class:`NoPrior` — plain HMM-GLM ("HG"); optionally an L1 penalty ("HG-L1"),
  smoothed as ``λ Σ sqrt(W² + ε²)`` so that the M-step stays a smooth problem.
- :class:`GaussianPrior` — "GHG": ``W_s ~ N(W0, σ²)`` independently per state, with the
  shared ``W0`` learned (paper: σ = 1/3).
- :class:`OneHotPrior` — "OHG": ``W_s = (a_s^{exc} − a_s^{inh}) ⊙ softplus(ρ_s)`` with
  the connection type ``a_s[n, n'] ∈ Δ²`` over ``(inh, none, exc)`` and a shared
  Gumbel-softmax (Concrete) prior with learned logits ``A0`` (N, N, 3) and
  temperature τ (paper: 0.2).

The one-hot prior is fitted as a latent-variable model: the per-state types have a
Concrete variational posterior with free logits ``L_s`` at the paper's temperature, and
EM maximises a deterministic evidence lower bound (so it is monotone and converges); see
:class:`OneHotPrior`. Evaluation
(``hard_weights``) uses the one-hot argmax of ``L``, as in the paper; adjacency is
``argmax − 1 ∈ {−1, 0, +1}``.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, gammaln, log_softmax, logsumexp, softmax

from neurodyn.errors import InvalidInputError

__all__ = [
    "NoPrior",
    "GaussianPrior",
    "OneHotPrior",
    "make_prior",
    "concrete_log_density",
    "exp_concrete_log_density",
    "concrete_log_ratio",
    "weights_to_types",
]

INH, NONE, EXC = 0, 1, 2


def _softplus(x):
    return np.logaddexp(0.0, x)


def _inv_softplus(y):
    y = np.maximum(y, 1e-8)
    return y + np.log(-np.expm1(-y))


def concrete_log_density(a, log_alpha, tau: float) -> np.ndarray:
    """Log-density of the Concrete / Gumbel-softmax distribution on the simplex.

    ``ln p(a) = ln Γ(k) + (k−1) ln τ − k ln Σ_i α_i a_i^{−τ} + Σ_i (ln α_i − (τ+1) ln a_i)``
    (Maddison et al. 2017, eq. 20; Jang et al. 2017), density with respect to the
    Lebesgue measure on the first ``k−1`` coordinates.

    Parameters
    ----------
    a : ndarray, shape (..., k)
        Points on the open simplex.
    log_alpha : ndarray, shape (..., k)
        Normalised log location ``ln α`` (log-softmax of the logits).
    tau : float
        Temperature.
    """
    a = np.asarray(a, float)
    k = a.shape[-1]
    la = np.log(a)
    return (
        gammaln(k)
        + (k - 1) * np.log(tau)
        - k * logsumexp(log_alpha - tau * la, axis=-1)
        + np.sum(log_alpha - (tau + 1) * la, axis=-1)
    )


def exp_concrete_log_density(log_a, log_alpha, tau: float, return_grad: bool = False):
    """Log-density of ``ln a`` when ``a`` is Concrete (the "ExpConcrete" distribution).

    ``ln q(y) = ln Γ(k) + (k−1) ln τ + Σ_i u_i − k LSE(u)``, ``u_i = ln α_i − τ y_i``,
    ``y = ln a`` (Maddison et al. 2017, eq. 26). Equal to the Concrete density times the
    Jacobian ``Π a_i`` of ``y ↦ a``.

    Returns the value (shape ``(...)``) and, with ``return_grad``, the gradients
    ``(∂/∂y, ∂/∂ln α)``; both sum to zero over the last axis.
    """
    k = log_a.shape[-1]
    u = log_alpha - tau * log_a
    lse = logsumexp(u, axis=-1, keepdims=True)
    value = gammaln(k) + (k - 1) * np.log(tau) + u.sum(-1) - k * lse[..., 0]
    if not return_grad:
        return value
    g = 1.0 - k * np.exp(u - lse)
    return value, -tau * g, g


def weights_to_types(W) -> np.ndarray:
    """Paper's conversion of weights to types: ``w ≥ max/2 → +1``, ``w ≤ min/2 → −1``, else 0.

    Parameters
    ----------
    W : ndarray, shape (S, N, N) or (N, N)
        The extremes are taken over the whole array, i.e. over **all** states' weights
        (the paper's rule, eq. 8), not per state.
    """
    W = np.asarray(W, float)
    hi, lo = W.max(), W.min()
    out = np.zeros(W.shape, dtype=np.int64)
    if hi > 0:
        out[W >= hi / 2] = 1
    if lo < 0:
        out[W <= lo / 2] = -1
    return out


class _PlainWeights:
    """Priors whose parameter ``W`` is the weights themselves (no latent types)."""

    def weights(self, p):
        return p["W"]

    hard_weights = weights

    def moments(self, p):
        """Mean and variance of the weights (deterministic: variance None)."""
        return self.weights(p), None

    def pullback_moments(self, p, dW, dV=None):
        return self.pullback(p, dW)


class NoPrior(_PlainWeights):
    """No prior ("HG"); ``l1 > 0`` adds ``−l1 Σ sqrt(W² + ε²)`` ("HG-L1")."""

    name = "none"

    def __init__(self, l1: float = 0.0, eps: float = 1e-3):
        self.l1 = float(l1)
        self.eps = float(eps)

    def init(self, W, rng):
        return {"W": np.array(W, float)}

    def pullback(self, p, dW):
        return {"W": dW}

    def log_prior(self, p):
        if self.l1 == 0:
            return 0.0, {"W": np.zeros_like(p["W"])}
        r = np.sqrt(p["W"] ** 2 + self.eps**2)
        return -self.l1 * float(r.sum()), {"W": -self.l1 * p["W"] / r}

    def curvature(self, p, C):
        """Diagonal curvature of ``−(Q_e + ln p)`` per parameter, given ``C`` (the emission's
        Fisher diagonal in ``W``): the M-step's preconditioner."""
        if self.l1 == 0:
            return {"W": C}
        r = np.sqrt(p["W"] ** 2 + self.eps**2)
        return {"W": C + self.l1 * self.eps**2 / r**3}

    def types(self, p):
        return weights_to_types(p["W"])

    def prior_weights(self, p):
        return p["W"].mean(0)

    def prior_types(self, p):
        return weights_to_types(self.prior_weights(p))

    def permute(self, p, perm):
        return {"W": p["W"][perm]}


class GaussianPrior(_PlainWeights):
    """``W_s ~ N(W0, σ² I)`` per state with learned shared mean ``W0`` ("GHG")."""

    name = "gaussian"

    def __init__(self, sigma: float = 1.0 / 3.0):
        if sigma <= 0:
            raise InvalidInputError(f"prior sigma: expected > 0, got {sigma}")
        self.sigma = float(sigma)

    def init(self, W, rng):
        W = np.array(W, float)
        return {"W": W, "W0": W.mean(0)}

    def pullback(self, p, dW):
        return {"W": dW, "W0": np.zeros_like(p["W0"])}

    def log_prior(self, p):
        D = p["W"] - p["W0"][None]
        v = -0.5 * float((D**2).sum()) / self.sigma**2
        return v, {"W": -D / self.sigma**2, "W0": D.sum(0) / self.sigma**2}

    def curvature(self, p, C):
        """Diagonal curvature per parameter (see :meth:`NoPrior.curvature`)."""
        k = 1.0 / self.sigma**2
        return {"W": C + k, "W0": np.full(p["W0"].shape, k * p["W"].shape[0])}

    def types(self, p):
        return weights_to_types(p["W"])

    def prior_weights(self, p):
        return p["W0"]

    def prior_types(self, p):
        return weights_to_types(p["W0"])

    def permute(self, p, perm):
        return {"W": p["W"][perm], "W0": p["W0"]}


class OneHotPrior:
    """One-hot type prior ("OHG"): Concrete types with shared logits ``A0``, temperature τ.

    Model (the paper's): per state and ordered pair the connection type is a relaxed one-hot
    ``a_s[n, n'] ∈ Δ²`` over (inh, none, exc) with prior ``Concrete(softmax A0[n, n'], τ)``
    and ``W_s = (a_s^exc − a_s^inh) ⊙ softplus(ρ_s)``.

    Fitting (variational EM): the types are latent, with a posterior of the same family,
    ``q(a_s[n, n']) = Concrete(softmax L_s[n, n'], τ)`` with free logits ``L``. The
    objective is the evidence lower bound ``E_q[ln p(x | W)] − KL(q ‖ p)``:

    - ``KL``: per pair, the log density ratio at a Gumbel-softmax sample
      ``a = softmax((L + g)/τ)`` has the closed form :func:`concrete_log_ratio` (the
      ``(τ+1) ln a`` terms cancel); it is averaged over ``n_kl_samples`` Gumbel draws made
      once per fit (common random numbers), so the term is a smooth, deterministic
      function of ``L`` and ``A0``.
    - ``E_q[ln p(x | W)]``: through the mean and variance of each weight under ``q``
      (:meth:`moments`, at the τ → 0 values of the type moments: a Concrete sample at
      τ = 0.2 lies within ``e^{−Δ/τ}`` of a vertex), the pre-activation taken as Gaussian
      and the expectation by Gauss–Hermite quadrature
      (:func:`~neurodyn.states.emissions.moment_log_likelihood`).

    Evaluation (``hard_weights``) uses the one-hot argmax of ``L``, as in the paper;
    adjacency is ``argmax − 1``.

    Parameters
    ----------
    tau : float
        Concrete temperature (paper: 0.2).
    n_kl_samples : int
        Gumbel draws of the KL term's sample average.
    strength_sigma : float or None
        Standard deviation of a Gaussian prior ``ρ ~ N(0, σ²)`` on the strength logits
        (strength ``softplus(ρ)``, 0.69 at ρ = 0, where the authors' code starts them).
        Without it "exc/inh with strength → 0" and "none" are the same model and EM drifts
        along that ridge without converging. None: no prior on ρ.
    init_scale : float
        Logit given to the sign of an initial weight of one standard deviation.
    free_diagonal : bool
        Self-history weights ``W_s[n, n]`` are free real parameters outside the type
        prior (parameter ``diag``, shape (S, N)). Use it for autoregressive emissions,
        where the self term models the indicator's decay rather than a connection; the
        paper's synthetic protocol types the diagonal like any pair (False).
    frozen_types : bool
        Hold the types at the one-hot argmax of ``L`` (no KL term): refits strengths,
        biases and the chain for the hard types used in evaluation.
    """

    name = "onehot"

    def __init__(self, tau: float = 0.2, n_kl_samples: int = 16, strength_sigma: float | None = 1.0,
                 init_scale: float = 2.0, free_diagonal: bool = False, frozen_types: bool = False):
        if tau <= 0:
            raise InvalidInputError(f"prior tau: expected > 0, got {tau}")
        if int(n_kl_samples) < 1:
            raise InvalidInputError(f"prior n_kl_samples: expected >= 1, got {n_kl_samples}")
        self.tau = float(tau)
        self.n_kl_samples = int(n_kl_samples)
        if strength_sigma is not None and strength_sigma <= 0:
            raise InvalidInputError(f"prior strength_sigma: expected > 0 or None, got {strength_sigma}")
        self.strength_sigma = None if strength_sigma is None else float(strength_sigma)
        self.init_scale = float(init_scale)
        self.free_diagonal = bool(free_diagonal)
        self.frozen_types = bool(frozen_types)
        self.gumbel = None  # (n_kl_samples, S, N, N, 3), drawn by draw_noise

    def draw_noise(self, shape, rng):
        """The fixed Gumbel draws of a fit (``shape`` = (S, N, N))."""
        self.gumbel = np.random.default_rng(rng).gumbel(size=(self.n_kl_samples, *shape, 3))
        self._lse_neg_g = _lse_last(-self.gumbel)
        return self

    def init(self, W, rng):
        W = np.array(W, float)
        if self.gumbel is None or self.gumbel.shape[1:-1] != W.shape:
            self.draw_noise(W.shape, rng)
        z = W / (W.std() + 1e-12) * self.init_scale
        L = np.stack([-z, np.full_like(z, self.init_scale), z], axis=-1)
        rho = _inv_softplus(np.maximum(np.abs(W), 0.1 * np.abs(W).mean() + 1e-3))
        p = {"rho": rho, "L": L}
        if self.free_diagonal:
            p["diag"] = np.diagonal(W, axis1=1, axis2=2).copy()
            i = np.arange(W.shape[1])
            L[:, i, i] = 0.0
        # Shared logits start at the mean of the initial type probabilities.
        p["A0"] = np.log(softmax(L, axis=-1).mean(0))
        return p

    def _with_diag(self, p, W, value=None):
        if not self.free_diagonal:
            return W
        W = W.copy()
        i = np.arange(W.shape[-1])
        W[..., i, i] = p["diag"] if value is None else value
        return W

    def moments(self, p):
        """Mean and variance of ``W`` under ``q`` (S, N, N); variance None with frozen types."""
        if self.frozen_types:
            return self.hard_weights(p), None
        a = softmax(p["L"], axis=-1)
        sp = _softplus(p["rho"])
        d, e = a[..., EXC] - a[..., INH], a[..., EXC] + a[..., INH]
        mean = self._with_diag(p, d * sp)
        var = self._with_diag(p, (e - d * d) * sp * sp, 0.0)
        return mean, var

    def weights(self, p):
        """Mean weights under ``q`` (a summary; evaluation uses ``hard_weights``)."""
        return self.moments(p)[0]

    def hard_weights(self, p):
        t = np.argmax(p["L"], axis=-1) - 1
        return self._with_diag(p, t * _softplus(p["rho"]))

    def pullback_moments(self, p, dW, dV=None):
        """Gradient in ``p`` of a function of the weights' mean (``dW``) and variance (``dV``)."""
        g = {k: np.zeros_like(v) for k, v in p.items()}
        sp, sig = _softplus(p["rho"]), expit(p["rho"])
        if self.frozen_types:
            g["rho"] = dW * (np.argmax(p["L"], axis=-1) - 1) * sig
        else:
            a = softmax(p["L"], axis=-1)
            d, e = a[..., EXC] - a[..., INH], a[..., EXC] + a[..., INH]
            dV = np.zeros_like(dW) if dV is None else dV
            da = np.zeros_like(a)
            # mean = d·sp, var = (e − d²)·sp²
            dd = dW * sp - 2.0 * dV * d * sp * sp
            de = dV * sp * sp
            da[..., EXC] = dd + de
            da[..., INH] = -dd + de
            g["L"] = a * (da - (a * da).sum(-1, keepdims=True))
            g["rho"] = (dW * d + 2.0 * dV * (e - d * d) * sp) * sig
        if self.free_diagonal:
            i = np.arange(dW.shape[-1])
            g["diag"] = dW[:, i, i].copy()
            g["rho"][:, i, i] = 0.0
            g["L"][:, i, i] = 0.0
        return g

    def pullback(self, p, dW):
        return self.pullback_moments(p, dW, None)

    def log_prior(self, p):
        """``−KL(q ‖ p)`` over states and pairs (sample average of :func:`concrete_log_ratio`)."""
        g = {k: np.zeros_like(v) for k, v in p.items()}
        total = 0.0
        if self.strength_sigma is not None:  # ρ ~ N(0, σ²): strength softplus(ρ) near 0.69 a priori
            rho = p["rho"]
            if self.free_diagonal:
                rho = rho.copy()
                i = np.arange(rho.shape[-1])
                rho[:, i, i] = 0.0
            total -= 0.5 * float((rho**2).sum()) / self.strength_sigma**2
            g["rho"] = -rho / self.strength_sigma**2
        if self.frozen_types:
            return total, g
        if self.gumbel is None or self.gumbel.shape[1:-1] != p["L"].shape[:-1]:
            raise InvalidInputError("OneHotPrior: call init (or draw_noise) before evaluating the prior")
        log_alpha = log_softmax(p["A0"], axis=-1)
        v, dL, dla = self._kl_terms(p["L"], log_alpha)
        # dla sums to zero over types, so the log-softmax Jacobian of A0 drops out.
        g["L"], g["A0"] = dL, dla.sum(0)
        if self.free_diagonal:
            i = np.arange(v.shape[-1])
            v = v.copy()
            v[:, i, i] = 0.0
            g["L"][:, i, i] = 0.0
            g["A0"][i, i] = 0.0
        return total + float(v.sum()), g

    def _kl_terms(self, L, log_alpha):
        """:func:`concrete_log_ratio` and its gradients averaged over the fixed draws.

        The same arithmetic with the categories as separate contiguous arrays (reductions
        over a last axis of length 3 are slow in numpy; the M-step calls this every step).
        Returns the per-pair value (S, N, N) and the gradients in ``L`` (S, N, N, 3) and
        ``ln α`` (S, N, N, 3).
        """
        k = self.gumbel.shape[-1]
        if getattr(self, "_g_parts", None) is None or self._g_parts[0].shape != self.gumbel.shape[:-1]:
            self._g_parts = [np.ascontiguousarray(self.gumbel[..., i]) for i in range(k)]
            self._lse_neg_g = _lse_last(-self.gumbel)
            self._mean_lse_neg_g = self._lse_neg_g.mean(0)
        base = [log_alpha[..., i] - L[..., i] for i in range(k)]  # (S, N, N)
        u = [base[i][None] - self._g_parts[i] for i in range(k)]  # (n, S, N, N)
        m = u[0].copy()
        for ui in u[1:]:
            np.maximum(m, ui, out=m)
        z = np.zeros_like(m)
        for ui in u:
            ui -= m
            np.exp(ui, out=ui)
            z += ui
        lse = np.log(z)
        lse += m
        value = sum(base) - k * lse.mean(0) + k * self._mean_lse_neg_g
        r = np.stack([(ui / z).mean(0) for ui in u], axis=-1)  # mean responsibility (S, N, N, 3)
        return value, k * r - 1.0, 1.0 - k * r

    def update_hyper(self, p, maxiter: int = 100):
        """``A0`` maximising the KL term for the current ``L`` (it enters nothing else):
        an exact block step of the M-step, so EM stays monotone."""
        if self.frozen_types:
            return p
        shape = p["A0"].shape

        def fun(v):
            val, g = self.log_prior({**p, "A0": v.reshape(shape)})
            return -val, -g["A0"].ravel()

        res = minimize(fun, p["A0"].ravel(), jac=True, method="L-BFGS-B", options={"maxiter": maxiter})
        if res.fun <= fun(p["A0"].ravel())[0]:
            return {**p, "A0": res.x.reshape(shape)}
        return p

    def curvature(self, p, C):
        """Diagonal curvature of ``−(Q_e + ln p)`` per parameter (the M-step's
        preconditioner): the emission's Fisher diagonal ``C`` in the mean weight, pulled
        back through ``W = (a^exc − a^inh) softplus ρ`` (Gauss–Newton, mean path only),
        plus the exact diagonal of the KL term's Hessian in ``L`` and ``A0``
        (``k r(1 − r)``, averaged over the Gumbel draws) and ``1/σ²`` of the strength prior."""
        sp, sig = _softplus(p["rho"]), expit(p["rho"])
        out = {k: np.ones_like(v) for k, v in p.items()}
        prior_rho = 0.0 if self.strength_sigma is None else 1.0 / self.strength_sigma**2
        if self.frozen_types:
            t = np.argmax(p["L"], axis=-1) - 1
            out["rho"] = C * (t * sig) ** 2 + prior_rho
        else:
            a = softmax(p["L"], axis=-1)
            d = a[..., EXC] - a[..., INH]
            dm_dL = sp[..., None] * a * (np.array([-1.0, 0.0, 1.0]) - d[..., None])
            u = log_softmax(p["A0"], axis=-1)[None, None] - p["L"][None] - self.gumbel
            u -= u.max(-1, keepdims=True)
            r = np.exp(u)
            r /= r.sum(-1, keepdims=True)
            kl = 3.0 * (r * (1.0 - r)).mean(0)
            out["L"] = C[..., None] * dm_dL**2 + kl
            out["rho"] = C * (d * sig) ** 2 + prior_rho
            out["A0"] = kl.sum(0)
        if self.free_diagonal:
            i = np.arange(C.shape[-1])
            out["diag"] = C[:, i, i].copy()
        return out

    def types(self, p):
        t = np.argmax(p["L"], axis=-1) - 1
        if self.free_diagonal:
            i = np.arange(t.shape[1])
            t[:, i, i] = np.sign(p["diag"]).astype(t.dtype)
        return t

    def prior_weights(self, p):
        """Expected sign under the prior: ``α_exc − α_inh`` (shape (N, N))."""
        al = softmax(p["A0"], axis=-1)
        return al[..., EXC] - al[..., INH]

    def prior_types(self, p, balanced: bool = False):
        """``argmax A0 − 1``; with ``balanced``, ``argmax_k α_k / ᾱ_k`` where ``ᾱ`` is the
        mean of ``α`` over pairs — the Bayes decision for *balanced* accuracy, which
        weighs the rare exc/inh classes as much as "none"."""
        al = softmax(p["A0"], axis=-1)
        if not balanced:
            # Exact ties (e.g. two states exc, two none, one inh) go to "none".
            return np.argmax(al + 1e-12 * np.array([0.0, 1.0, 0.0]), axis=-1) - 1
        return np.argmax(al / al.reshape(-1, 3).mean(0), axis=-1) - 1

    def permute(self, p, perm):
        out = {"rho": p["rho"][perm], "L": p["L"][perm], "A0": p["A0"]}
        if "diag" in p:
            out["diag"] = p["diag"][perm]
        return out


def _lse_last(u):
    """``logsumexp`` over the last axis (plain numpy: the KL term calls it many times)."""
    m = u.max(-1, keepdims=True)
    return (m + np.log(np.exp(u - m).sum(-1, keepdims=True)))[..., 0]


def concrete_log_ratio(L, log_alpha, g, return_grad: bool = False, lse_neg_g=None):
    """``ln Concrete(a; α, τ) − ln Concrete(a; softmax L, τ)`` at ``a = softmax((L + g)/τ)``.

    ``= Σ_i ln α_i − Σ_i L_i − k LSE_i(ln α_i − L_i − g_i) + k LSE_i(−g_i)``, independent of
    τ; its mean over Gumbel draws ``g`` is ``−KL(q ‖ p)`` for ``q = Concrete(softmax L, τ)``
    and ``p = Concrete(α, τ)``. Broadcasts over leading axes; the last axis holds the ``k``
    categories. ``lse_neg_g``: ``LSE(−g)`` when already computed.

    Returns
    -------
    value : ndarray
    dL, dlog_alpha : ndarray (with ``return_grad``); each sums to zero over the categories.
    """
    k = np.shape(g)[-1]
    u = log_alpha - L - g
    m = u.max(-1, keepdims=True)
    e = np.exp(u - m)
    z = e.sum(-1, keepdims=True)
    lse = m[..., 0] + np.log(z[..., 0])
    if lse_neg_g is None:
        lse_neg_g = _lse_last(-g)
    value = np.sum(log_alpha - L, axis=-1) - k * lse + k * lse_neg_g
    if not return_grad:
        return value
    r = e / z
    return value, k * r - 1.0, 1.0 - k * r


def make_prior(name: str, **kwargs):
    """Prior by name: ``none`` (kw ``l1``), ``gaussian`` (kw ``sigma``), ``onehot`` (kw ``tau``)."""
    if name == "none":
        return NoPrior(**kwargs)
    if name == "gaussian":
        return GaussianPrior(**kwargs)
    if name == "onehot":
        return OneHotPrior(**kwargs)
    raise InvalidInputError(f"prior: expected 'none', 'gaussian' or 'onehot', got {name!r}")
