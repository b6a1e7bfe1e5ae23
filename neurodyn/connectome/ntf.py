"""Non-negative CP (tensor) factorization by HALS, with a mask, on any array backend.

The model (Dyballa et al., ICLR 2024, §3; Cichocki & Phan 2009 for HALS):

    X[i, j, k] ≈ Σ_r λ_r · A[i, r] · B[j, r] · C[k, r],      A, B, C ≥ 0

for a 3-way tensor ``X`` (time window × animal × neuron pair).  HALS updates one column
of one factor at a time by the exact non-negative minimiser with the others fixed:

    A[:, r] ← max(0, A[:, r] + (M[:, r] − A G[:, r]) / G[r, r])

with ``M = X_(1) (C ⊙ B)`` the MTTKRP of mode 1 and ``G = (BᵀB) * (CᵀC)`` (Hadamard product
of the other factors' Gram matrices).  Efficiency:

- one GEMM ``T = X_(ij,k) C`` (shape ``(I·J, R)``) serves the MTTKRPs of modes 1 *and* 2,
  because ``C`` is unchanged until the third mode is updated; the third mode needs one
  GEMM with the Khatri–Rao product of the new ``A``, ``B``.  Two passes over ``X`` per
  iteration instead of three, with no unfolding copies;
- the fit is tracked without reconstructing: ``‖X − X̂‖² = ‖X‖² − 2⟨M₃, C⟩ + Σ(G₃ * CᵀC)``;
- float32 by default.

A mask (``True`` = observed) is handled by expectation–maximisation: before each sweep
the unobserved entries are replaced by the current reconstruction, so masked values are
never read (corrupting them cannot change the fit), and the error is measured on the
observed entries only.  Factor rows of slices with no observed entry at all (an animal
that lacks every pair) are held at 0, so such a slice cannot change the fit of the others.

Memory: the filled tensor of the E-step is never materialised.  It is formed a chunk of
first-mode slices at a time (:data:`CHUNK_BYTES`), used for that chunk's rows of the
MTTKRP and its share of the error, and dropped; the third mode's MTTKRP forms it again
from the same (pre-update) factors.  That costs one extra reconstruction GEMM per
iteration and keeps the masked fit at the input plus a few chunks, like the unmasked
one (see :mod:`neurodyn.connectome.memory`).  The input checks (sign, finiteness, norm)
are chunked the same way.

Factors are returned with unit-norm columns (scale in ``λ``) and components sorted by
the peak position of the first-mode (time) factor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from neurodyn.backend import Backend, BackendRNG, backend_name, device_name, device_of, get_namespace, to_backend, to_numpy
from neurodyn.errors import InvalidInputError
from neurodyn.progress import Progress


@dataclass
class NTFResult:
    """A fitted non-negative CP model.

    Attributes
    ----------
    weights : array (R,) — λ, the component scales.
    factors : list of 3 arrays, (I, R), (J, R), (K, R) — unit-norm columns.
    errors : list of float — relative error after each iteration (observed entries).
    n_iter : int — iterations run.
    converged : bool — whether the tolerance stopped the fit.
    """

    weights: Any
    factors: list
    errors: list = field(default_factory=list)
    n_iter: int = 0
    converged: bool = False

    @property
    def rel_error(self) -> float:
        return float(self.errors[-1]) if self.errors else float("nan")

    def to_numpy(self) -> NTFResult:
        return NTFResult(to_numpy(self.weights), [to_numpy(f) for f in self.factors], list(self.errors),
                         self.n_iter, self.converged)

    def to_cptensor(self):
        """This result as a tensorly ``CPTensor`` of numpy arrays (weights λ, three factors).

        ``tensorly.cp_to_tensor(result.to_cptensor())`` equals :func:`reconstruct`.
        """
        from tensorly.cp_tensor import CPTensor

        res = self.to_numpy()
        return CPTensor((res.weights, list(res.factors)))

    @classmethod
    def from_cptensor(cls, cp_tensor) -> NTFResult:
        """An unfitted-history result (``errors=[]``, ``n_iter=0``) from a tensorly ``CPTensor``
        or a ``(weights, factors)`` pair; ``weights=None`` (tensorly's convention for
        all-ones) becomes ones.  Values are kept as given (no re-normalisation)."""
        weights, factors = cp_tensor
        factors = [np.asarray(to_numpy(f)) for f in factors]
        if len(factors) != 3:
            raise InvalidInputError(f"a CP tensor of order {len(factors)}; expected 3 factors", field="cp_tensor")
        rank = factors[0].shape[1]
        if any(f.ndim != 2 or f.shape[1] != rank for f in factors):
            raise InvalidInputError("factors must be 2-D with the same number of columns", field="cp_tensor")
        weights = np.ones(rank, dtype=factors[0].dtype) if weights is None else np.asarray(to_numpy(weights))
        if weights.shape != (rank,):
            raise InvalidInputError(f"weights of shape {weights.shape}; expected ({rank},)", field="cp_tensor")
        if (weights < 0).any() or any((f < 0).any() for f in factors):
            raise InvalidInputError("negative weights or factor entries; the model is non-negative",
                                    field="cp_tensor")
        return cls(weights, factors)


def _hals_sweeps(factor, mttkrp, gram, n_inner: int):
    """``n_inner`` HALS column sweeps of one factor (Gauss–Seidel over columns)."""
    xp = get_namespace(factor)
    rank = factor.shape[1]
    diag = np.diag(to_numpy(gram))
    for _ in range(n_inner):
        for r in range(rank):
            g_rr = gram[r, r]
            if diag[r] <= 0:
                continue
            col = factor[:, r] + (mttkrp[:, r] - factor @ gram[:, r]) / g_rr
            factor[:, r] = xp.clip(col, min=0.0)
    return factor


#: Bytes of first-mode slices handled at once by the chunked passes (input checks, the
#: masked path's E-step): big enough for efficient GEMMs, small next to a large tensor.
CHUNK_BYTES = 16 * 2**20


def chunk_rows(shape, itemsize: int, chunk_bytes: int | None = None) -> int:
    """First-mode slices per chunk of a tensor of ``shape`` (at least one, at most all);
    ``chunk_bytes`` defaults to :data:`CHUNK_BYTES` (read at call time)."""
    chunk_bytes = CHUNK_BYTES if chunk_bytes is None else int(chunk_bytes)
    row = int(shape[1]) * int(shape[2]) * int(itemsize)
    return int(max(1, min(int(shape[0]), chunk_bytes // max(row, 1))))


def _scan_observed(tensor, mask, rows: int):
    """Chunked checks and sums over the observed entries (no tensor-sized temporary).

    Returns ``(any_negative, all_finite, sum, sum_of_squares, n_observed)``.
    """
    xp = get_namespace(tensor)
    negative, finite = False, True
    total = total2 = n_obs = 0.0
    for i0 in range(0, tensor.shape[0], rows):
        x = tensor[i0:i0 + rows]
        if mask is not None:
            m = mask[i0:i0 + rows]
            x = xp.where(m, x, xp.zeros_like(x))
            n_obs += float(xp.count_nonzero(m))
        negative = negative or bool(xp.any(x < 0))
        finite = finite and bool(xp.all(xp.isfinite(x)))
        total += float(xp.sum(x))
        total2 += float(xp.sum(x * x))
    if mask is None:
        n_obs = float(tensor.shape[0] * tensor.shape[1] * tensor.shape[2])
    return negative, finite, total, total2, n_obs


def _filled_rows(tensor, mask, a, b, c, i0: int, i1: int):
    """Rows ``i0:i1`` of the E-step tensor (data where observed, model elsewhere) and of
    the model, both ``(i1 − i0, J, K)``."""
    xp = get_namespace(tensor)
    nj, nk, rank = tensor.shape[1], tensor.shape[2], a.shape[1]
    kr = xp.reshape(a[i0:i1, None, :] * b[None, :, :], ((i1 - i0) * nj, rank))
    x_hat = xp.reshape(kr @ c.T, (i1 - i0, nj, nk))
    return xp.where(mask[i0:i1], tensor[i0:i1], x_hat), x_hat


def _masked_pass(tensor, mask, a, b, c, rows: int, *, mttkrp: bool = True, error: bool = True):
    """One chunked pass over the E-step tensor ``Y``: ``Y_(ij,k) C`` as ``(I, J, R)`` and
    ``‖mask·(X − X̂)‖²`` (observed entries), without forming ``Y`` whole."""
    xp = get_namespace(tensor)
    ni, nj, _ = tensor.shape
    rank = a.shape[1]
    t = xp.empty((ni, nj, rank), dtype=tensor.dtype, device=device_of(tensor)) if mttkrp else None
    sq = 0.0
    for i0 in range(0, ni, rows):
        i1 = min(ni, i0 + rows)
        y, x_hat = _filled_rows(tensor, mask, a, b, c, i0, i1)
        if error:
            # Y − X̂ is X − X̂ where observed and exactly 0 elsewhere.
            x_hat -= y
            x_hat *= x_hat
            sq += float(xp.sum(x_hat))
        del x_hat
        if mttkrp:
            t[i0:i1] = xp.reshape(xp.reshape(y, ((i1 - i0) * nj, -1)) @ c, (i1 - i0, nj, rank))
        del y
    return t, sq


def _masked_mode3(tensor, mask, a_old, b_old, c_old, kr, rows: int):
    """``Y_(ij,k)ᵀ KR`` of the E-step tensor of the factors entering the iteration, chunked."""
    xp = get_namespace(tensor)
    ni, nj, nk = tensor.shape
    m3 = xp.zeros((nk, kr.shape[1]), dtype=tensor.dtype, device=device_of(tensor))
    for i0 in range(0, ni, rows):
        i1 = min(ni, i0 + rows)
        y, x_hat = _filled_rows(tensor, mask, a_old, b_old, c_old, i0, i1)
        del x_hat
        m3 += xp.reshape(y, ((i1 - i0) * nj, nk)).T @ kr[i0 * nj:i1 * nj]
        del y
    return m3


def reconstruct(weights, factors):
    """Full tensor ``Σ_r λ_r a_r ∘ b_r ∘ c_r`` of shape (I, J, K)."""
    xp = get_namespace(*factors)
    a, b, c = factors
    ab = xp.reshape(a[:, None, :] * b[None, :, :], (a.shape[0] * b.shape[0], -1)) * weights[None, :]
    return xp.reshape(ab @ c.T, (a.shape[0], b.shape[0], c.shape[0]))


def _random_init(tensor, rank, rng: BackendRNG, scale_target: float, dtype):
    """Uniform [0, 1) factors scaled so that the mean of the model matches the data's."""
    shape = tensor.shape
    factors = [rng.uniform((n, rank), dtype=dtype) for n in shape]
    # E[model entry] = R · (1/2)³ for uniform factors.
    s = (max(scale_target, 1e-12) / (rank / 8.0)) ** (1.0 / 3.0)
    return [f * s for f in factors]


def normalize_and_sort(weights, factors, sort_mode: int = 0):
    """Unit-norm columns (norms into λ), components ordered by the peak of ``sort_mode``."""
    xp = get_namespace(*factors)
    weights = weights * 1.0
    out = []
    for f in factors:
        norms = xp.sqrt(xp.sum(f * f, axis=0))
        safe = xp.where(norms > 0, norms, xp.ones_like(norms))
        out.append(f / safe[None, :])
        weights = weights * norms
    peak = np.argmax(to_numpy(out[sort_mode]), axis=0)
    # Ties (equal peak) keep larger components first.
    order = np.lexsort((-to_numpy(weights), peak))
    idx = xp.asarray(order.astype(np.int64), device=device_of(weights))
    return xp.take(weights, idx, axis=0), [xp.take(f, idx, axis=1) for f in out]


def non_negative_cp_hals(
    tensor,
    rank: int,
    *,
    mask=None,
    max_iter: int = 300,
    tol: float = 1e-6,
    n_inner: int = 5,
    init: str | list = "random",
    random_state: int | np.random.Generator | None = 0,
    sort_mode: int = 0,
    signed: bool = False,
) -> NTFResult:
    """Masked non-negative CP decomposition of a 3-way tensor by HALS.

    Parameters
    ----------
    tensor : array (I, J, K), non-negative unless ``signed``; numpy, torch (CPU/GPU) or cupy.
        The dtype is kept (use float32 for speed, float64 for exactness).
    rank : int
        Number of components ``R``.
    mask : bool array broadcastable to (I, J, K), optional
        ``True`` where observed.  Unobserved entries are never read.
    max_iter : int
        Most outer iterations (one update of every factor each).
    tol : float
        Stop when the relative error improves by less than ``tol`` in one iteration.
    n_inner : int
        HALS sweeps over the columns of each factor per outer iteration; they cost
        ``O(n R²)`` against the ``O(IJKR)`` MTTKRP, so several are nearly free.
    init : ``"random"``, a list of three initial factors, or a ``(weights, factors)`` pair
        such as a tensorly ``CPTensor`` (the weights are folded into the first factor).
    random_state : seed of the random initialisation.
    sort_mode : int
        Mode whose peak position orders the components (0 = time).
    signed : bool, default False
        Accept negative entries: the data are an excess over a chance level with zero-mean
        noise (``chance='independent'`` affinities), and the factors stay non-negative (the
        least-squares fit of a non-negative model; each HALS update is still the exact
        non-negative minimiser).  Their sum over the observed entries must be positive.

    Returns
    -------
    NTFResult
    """
    xp = get_namespace(tensor)
    if tensor.ndim != 3:
        raise InvalidInputError(f"expected a 3-way tensor, got {tensor.ndim} dims", field="tensor")
    if int(rank) < 1:
        raise InvalidInputError(f"{rank!r}, expected a positive integer", field="rank")
    dtype = tensor.dtype
    ni, nj, nk = tensor.shape
    rank = int(rank)
    rows = chunk_rows(tensor.shape, to_numpy(xp.reshape(tensor, (-1,))[:1]).dtype.itemsize)
    if mask is not None:
        if backend_name(mask) != backend_name(tensor):
            mask = to_backend(mask, backend_name(tensor), _backend_like(tensor).device)
        if mask.dtype != xp.bool:
            mask = xp.astype(mask, xp.bool)
        # A view: a per-(animal, pair) mask stays (1, J, K) in memory.
        mask = xp.broadcast_to(mask, tensor.shape)
    negative, finite, total, norm_x2, n_obs = _scan_observed(tensor, mask, rows)
    if negative and not signed:
        raise InvalidInputError("negative entries; the factorization is non-negative (pass signed=True for an "
                                "excess over chance)", field="tensor")
    if signed and not total > 0:
        raise InvalidInputError("the observed entries sum to ≤ 0; a non-negative model has nothing to fit",
                                field="tensor")
    if mask is not None and n_obs == 0:
        raise InvalidInputError("every entry is masked", field="mask")
    if not finite:
        raise InvalidInputError("NaN or inf in observed entries (mask them instead)", field="tensor")
    if norm_x2 == 0:
        raise InvalidInputError("the tensor is zero on all observed entries", field="tensor")

    rng = BackendRNG(random_state, _backend_like(tensor))
    if isinstance(init, str):
        if init != "random":
            raise InvalidInputError(f"unknown init {init!r}; expected 'random' or a list of factors", field="init")
        np_dtype = to_numpy(xp.reshape(tensor, (-1,))[:1]).dtype
        factors = _random_init(tensor, rank, rng, total / n_obs, np_dtype)
    else:
        if len(init) == 2:  # (weights, factors), e.g. a tensorly CPTensor
            weights0, init = init
            init = list(init)
            if weights0 is not None and len(init) == 3:
                init[0] = np.asarray(to_numpy(init[0])) * np.asarray(to_numpy(weights0))[None, :]
        where = (backend_name(tensor), _backend_like(tensor).device)
        factors = [xp.asarray(to_backend(f, *where), dtype=dtype) * 1.0 for f in init]
        if [tuple(f.shape) for f in factors] != [(ni, rank), (nj, rank), (nk, rank)]:
            raise InvalidInputError("initial factors do not match the tensor shape and rank", field="init")
    if mask is not None:
        # A slice with no observed entry (an animal missing every pair) carries no
        # information: plain EM would keep its arbitrary start, and a large start slows or
        # distorts the fit of the others.  A zero row stays zero under HALS, which makes the
        # fit identical to one without that slice.
        factors = [f * xp.astype(xp.any(mask, axis=tuple(ax for ax in range(3) if ax != mode))[:, None], dtype)
                   for mode, f in enumerate(factors)]
    a, b, c = factors

    x_mat = xp.reshape(tensor, (ni * nj, nk)) if mask is None else None
    errors: list[float] = []
    converged = False
    it = 0
    bar = Progress(max_iter, f"HALS rank {rank}")
    for it in range(1, max_iter + 1):
        bar.update(1, rel_error=errors[-1] if errors else float("nan"))
        if mask is not None:
            # E-step, chunked: the unobserved entries take the current model; the error of
            # the factors entering this iteration is measured on the observed entries.
            t, sq = _masked_pass(tensor, mask, a, b, c, rows, error=it > 1)
            if it > 1:
                errors.append(float(np.sqrt(sq) / np.sqrt(norm_x2)))
                if len(errors) > 1 and abs(errors[-2] - errors[-1]) < tol:
                    converged = True
                    break
            a_old, b_old = a * 1.0, b * 1.0  # the sweeps below update a and b in place
        else:
            t = xp.reshape(x_mat @ c, (ni, nj, rank))
        ctc = c.T @ c
        # Mode 1 (time windows).
        m1 = xp.sum(t * b[None, :, :], axis=1)
        a = _hals_sweeps(a, m1, (b.T @ b) * ctc, n_inner)
        # Mode 2 (animals): same T, since C has not changed.
        ata = a.T @ a
        m2 = xp.sum(t * a[:, None, :], axis=0)
        b = _hals_sweeps(b, m2, ata * ctc, n_inner)
        del t
        # Mode 3 (pairs): one GEMM with the Khatri–Rao product of the new A, B.
        btb = b.T @ b
        kr = xp.reshape(a[:, None, :] * b[None, :, :], (ni * nj, rank))
        if mask is None:
            m3 = x_mat.T @ kr
        else:
            # The E-step tensor is that of the factors entering the iteration (as for T).
            m3 = _masked_mode3(tensor, mask, a_old, b_old, c, kr, rows)
        g3 = ata * btb
        c = _hals_sweeps(c, m3, g3, n_inner)
        if mask is None:
            fit2 = norm_x2 - 2.0 * float(xp.sum(m3 * c)) + float(xp.sum(g3 * (c.T @ c)))
            errors.append(float(np.sqrt(max(fit2, 0.0) / norm_x2)))
            if len(errors) > 1 and abs(errors[-2] - errors[-1]) < tol:
                converged = True
                break
    bar.close()
    if mask is not None and not converged:
        _, sq = _masked_pass(tensor, mask, a, b, c, rows, mttkrp=False)
        errors.append(float(np.sqrt(sq) / np.sqrt(norm_x2)))
    weights, factors = normalize_and_sort(xp.ones(rank, dtype=dtype), [a, b, c], sort_mode)
    return NTFResult(weights, factors, errors, it, converged)


def _backend_like(x):
    """The backend and device of ``x`` (its own GPU, not the current one)."""
    return Backend(backend_name(x), device_name(x))


class NTF(BaseEstimator):
    """Masked non-negative CP decomposition as a scikit-learn estimator.

    Wraps :func:`non_negative_cp_hals` (same parameters and defaults):

    >>> model = NTF(rank=4, random_state=0).fit(tensor, mask=mask)   # doctest: +SKIP
    >>> model.weights_, model.factors_, model.errors_[-1]             # doctest: +SKIP
    >>> cp = model.to_cptensor()          # a tensorly CPTensor        # doctest: +SKIP

    Parameters
    ----------
    rank : int
        Number of components ``R``.
    max_iter, tol, n_inner, init, random_state, sort_mode, signed
        As in :func:`non_negative_cp_hals`.  ``init`` may also be a tensorly
        ``CPTensor`` (e.g. from :meth:`to_cptensor` or any tensorly decomposition): a warm
        start.

    Attributes
    ----------
    weights_ : array (R,)
        Component scales λ (unit-norm factor columns).
    factors_ : list of 3 arrays (I, R), (J, R), (K, R)
    errors_ : list of float
        Relative error (observed entries) after each iteration.
    rel_error_ : float
        The last of ``errors_``.
    n_iter_ : int
        Iterations run.
    converged_ : bool
        Whether ``tol`` stopped the fit before ``max_iter``.
    result_ : NTFResult
    """

    def __init__(self, rank: int, *, max_iter: int = 300, tol: float = 1e-6, n_inner: int = 5,
                 init: str | list = "random", random_state: int | np.random.Generator | None = 0,
                 sort_mode: int = 0, signed: bool = False):
        self.rank = rank
        self.signed = signed
        self.max_iter = max_iter
        self.tol = tol
        self.n_inner = n_inner
        self.init = init
        self.random_state = random_state
        self.sort_mode = sort_mode

    def fit(self, tensor, y=None, mask=None) -> NTF:
        """Fit the non-negative CP model to ``tensor``.

        Parameters
        ----------
        tensor : array, shape (I, J, K)
            Non-negative data; numpy, torch (CPU/GPU) or cupy.  The dtype is kept.
        y : None
            Ignored (scikit-learn convention).
        mask : bool array broadcastable to (I, J, K), optional
            ``True`` where observed; unobserved entries are never read.

        Returns
        -------
        NTF
            ``self``, fitted.

        Raises
        ------
        InvalidInputError
            On a tensor that is not 3-way, negative or non-finite where observed, all
            zero, fully masked, or on a bad ``rank``/``init``.
        """
        params = self.get_params()
        rank = params.pop("rank")
        res = non_negative_cp_hals(tensor, rank, mask=mask, **params)
        self.result_ = res
        self.weights_ = res.weights
        self.factors_ = res.factors
        self.errors_ = res.errors
        self.rel_error_ = res.rel_error
        self.n_iter_ = res.n_iter
        self.converged_ = res.converged
        return self

    def reconstruct(self):
        """The fitted full tensor ``Σ_r λ_r a_r ∘ b_r ∘ c_r``, shape (I, J, K)."""
        check_is_fitted(self, "weights_")
        return reconstruct(self.weights_, self.factors_)

    def to_cptensor(self):
        """The fitted model as a tensorly ``CPTensor`` (numpy arrays); see :func:`to_cptensor`."""
        check_is_fitted(self, "weights_")
        return self.result_.to_cptensor()

    @classmethod
    def from_cptensor(cls, cp_tensor, **params) -> NTF:
        """A fitted-state ``NTF`` holding a tensorly ``CPTensor`` (e.g. from tensorly's own
        decompositions), so that :meth:`reconstruct`, :func:`ntf_to_dataset` of its
        ``result_`` and the pipeline's tables apply to it.

        ``params`` are estimator parameters; ``rank`` is taken from the CP tensor.  The
        iteration attributes are ``n_iter_ = 0`` and ``converged_ = False`` (nothing was
        fitted here).
        """
        res = NTFResult.from_cptensor(cp_tensor)
        model = cls(rank=int(res.weights.shape[0]), **params)
        model.result_ = res
        model.weights_, model.factors_, model.errors_ = res.weights, res.factors, res.errors
        model.rel_error_, model.n_iter_, model.converged_ = res.rel_error, res.n_iter, res.converged
        return model


def to_cptensor(result):
    """A tensorly ``CPTensor`` (numpy) from an :class:`NTFResult`, a fitted :class:`NTF` or a
    Dataset of :func:`ntf_to_dataset` (e.g. the pipeline's ``connectome/ntf.nc``).

    ``tensorly.cp_to_tensor`` of the result equals :func:`reconstruct` of the fit.
    """
    if isinstance(result, NTF):
        return result.to_cptensor()
    if isinstance(result, NTFResult):
        return result.to_cptensor()
    if hasattr(result, "data_vars") and "pair_factor" in result:
        return NTFResult(np.asarray(result["weight"].values), dataset_factors(result)).to_cptensor()
    raise InvalidInputError(f"cannot convert a {type(result).__name__} to a CPTensor; expected an NTFResult, "
                            "a fitted NTF or an NTF Dataset", field="result")


def from_cptensor(cp_tensor) -> NTFResult:
    """An :class:`NTFResult` from a tensorly ``CPTensor`` or a ``(weights, factors)`` pair
    (3-way, non-negative); see :meth:`NTFResult.from_cptensor`."""
    return NTFResult.from_cptensor(cp_tensor)


def is_signed(affinity) -> bool:
    """Whether an affinity-tensor Dataset holds a signed excess over chance (attr ``signed``)."""
    return bool(int(affinity.attrs.get("signed", 0)))


def fit_affinity(affinity, rank: int, **kwargs) -> NTFResult:
    """Fit :func:`non_negative_cp_hals` to an affinity-tensor Dataset (its mask applied).

    ``affinity`` is the output of :func:`neurodyn.connectome.tensor.affinity_tensor`;
    ``kwargs`` go to :func:`non_negative_cp_hals` plus ``backend``/``device`` (default numpy).
    """
    from neurodyn.backend import Backend

    be = Backend(kwargs.pop("backend", "numpy"), kwargs.pop("device", "cpu"))
    kwargs.setdefault("signed", is_signed(affinity))
    x = be.asarray(np.asarray(affinity["affinity"].values))
    # The mask is (window, animal, pair), or (animal, pair) in files written before the per-window mask.
    mask = affinity["mask"].broadcast_like(affinity["affinity"]).transpose(*affinity["affinity"].dims)
    mask = np.asarray(mask.values, dtype=bool)
    res = non_negative_cp_hals(x, rank, mask=None if mask.all() else be.asarray(mask), **kwargs)
    return res.to_numpy()


def ntf_to_dataset(result: NTFResult, affinity, attrs: dict | None = None):
    """An xarray Dataset of a fit, with the affinity tensor's coordinates.

    Variables: ``weight (component)``, ``time_factor (component, window)``,
    ``animal_factor (component, animal)``, ``pair_factor (component, pair)``,
    ``error (iteration)``; coords from ``affinity`` (window times, animal, pair_i/pair_j,
    neuron); attrs ``rank``, ``rel_error``, ``n_iter``, ``converged`` plus ``attrs``.
    """
    import xarray as xr

    res = result.to_numpy()
    rank = res.weights.shape[0]
    a, b, c = res.factors
    coords = {k: affinity.coords[k] for k in ("window", "window_start_s", "window_end_s", "window_center_s",
                                              "animal", "pair", "pair_i", "pair_j", "neuron")}
    ds = xr.Dataset(
        {
            "weight": (("component",), res.weights.astype(np.float64)),
            "time_factor": (("component", "window"), a.T.astype(np.float64)),
            "animal_factor": (("component", "animal"), b.T.astype(np.float64)),
            "pair_factor": (("component", "pair"), c.T.astype(np.float64)),
            "error": (("iteration",), np.asarray(res.errors, dtype=np.float64)),
        },
        coords={"component": np.arange(rank), "iteration": np.arange(1, len(res.errors) + 1), **coords},
        attrs={"rank": int(rank), "rel_error": res.rel_error, "n_iter": int(res.n_iter),
               "converged": int(res.converged), "affinity_method": str(affinity.attrs.get("method", "")),
               **dict(attrs or {})},
    )
    return ds


def dataset_factors(ds) -> list[np.ndarray]:
    """The three factor matrices ``(n, R)`` of a Dataset from :func:`ntf_to_dataset`."""
    return [np.asarray(ds[v].values).T for v in ("time_factor", "animal_factor", "pair_factor")]


def components_table(ds, n_top_pairs: int = 5):
    """One row per component: λ, peak time, relative error, loadings and strongest pairs.

    Columns ``component, weight, peak_time_s, rel_error, loading_<animal>…, top_pairs``
    (``top_pairs``: the ``n_top_pairs`` largest entries of the pair factor, ``A–B``).
    """
    import pandas as pd

    rows = []
    centers = np.asarray(ds["window_center_s"].values)
    for k in ds["component"].values.tolist():
        tf = np.asarray(ds["time_factor"].sel(component=k).values)
        pf = np.asarray(ds["pair_factor"].sel(component=k).values)
        top = np.argsort(-pf)[:n_top_pairs]
        row = {"component": int(k), "weight": float(ds["weight"].sel(component=k)),
               "peak_time_s": float(centers[int(np.argmax(tf))]), "rel_error": float(ds.attrs["rel_error"])}
        for a in ds["animal"].values:
            row[f"loading_{a}"] = float(ds["animal_factor"].sel(component=k, animal=a))
        row["top_pairs"] = "; ".join(f"{ds['pair_i'].values[p]}–{ds['pair_j'].values[p]}" for p in top)
        rows.append(row)
    return pd.DataFrame(rows)
