"""Cross-validated NTF fits for choosing the rank (Williams et al., Neuron 2018).

One *replicate* hides a random ``heldout_fraction`` of the observed entries of the
(window × animal × pair) tensor through the mask that :func:`non_negative_cp_hals`
accepts (entries already missing stay excluded from both sets), fits the rest from a
random start, and scores

    train_error = ‖P_train(X − X̂)‖ / ‖P_train X‖,   test_error = ‖P_test(X − X̂)‖ / ‖P_test X‖.

The masked HALS never reads a hidden entry (it imputes it from the current model), so the
held-out error is an honest estimate of how well the rank predicts entries it has not
seen.  The final model of the replicate is then refitted to *every* observed entry,
warm-started from the cross-validation fit (which saw only training entries, so nothing
leaks into the held-out score); this refit gives the factors and ``rel_error`` used for the
similarity of restarts and, for the chosen rank, the model the pipeline keeps.

Held-out sets are drawn per replicate, not per rank: replicate ``k`` of every rank hides the
same entries, as the folds of ordinary cross-validation are shared by the models compared.

Caveat: the affinity windows overlap (stride < window), so neighbouring windows of one
(animal, pair) share frames, and a hidden entry is partly correlated with visible ones.
A CP component is shared by all pairs, so it cannot fit such pair-specific noise unless
the rank approaches the number of pairs; at the ranks swept here the effect is small, and
the no-structure control in ``docs/connectome.md`` measures it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from neurodyn.backend import Backend, backend_name, get_namespace, to_numpy
from neurodyn.connectome.ntf import NTFResult, chunk_rows, non_negative_cp_hals, reconstruct
from neurodyn.connectome.rank import SweepFit, select_from_fits
from neurodyn.errors import InvalidInputError


def heldout_mask(observed, heldout_fraction: float = 0.1, random_state: int | np.random.Generator | None = None
                 ) -> np.ndarray:
    """A random held-out set: ``True`` on about ``heldout_fraction`` of the observed entries.

    Parameters
    ----------
    observed : bool array (I, J, K)
        ``True`` where the tensor is observed; unobserved entries are never held out.
    heldout_fraction : float in (0, 1)
        Probability that an observed entry is held out (independently per entry).
    random_state : int, numpy Generator or None

    Returns
    -------
    bool numpy array of ``observed``'s shape.  Every slice (of any mode) with an observed
    entry keeps at least one training entry: were it fully hidden, its factor row would be
    held at 0 and the held-out error would measure that artefact, not the rank.
    """
    observed = np.asarray(to_numpy(observed), dtype=bool)
    if observed.ndim != 3:
        raise InvalidInputError(f"expected a 3-way mask, got {observed.ndim} dims", field="mask")
    if not 0.0 < float(heldout_fraction) < 1.0:
        raise InvalidInputError(f"{heldout_fraction!r}, expected a number in (0, 1)", field="heldout_fraction")
    rng = np.random.default_rng(random_state)
    held = np.empty(observed.shape, dtype=bool)
    rows = chunk_rows(observed.shape, 4)
    for i0 in range(0, observed.shape[0], rows):  # float draws a chunk at a time
        draw = rng.random((min(rows, observed.shape[0] - i0),) + observed.shape[1:], dtype=np.float32)
        held[i0:i0 + rows] = observed[i0:i0 + rows] & (draw < np.float32(heldout_fraction))
    for mode in range(3):
        axes = tuple(ax for ax in range(3) if ax != mode)
        emptied = observed.any(axis=axes) & ~(observed & ~held).any(axis=axes)
        if emptied.any():
            index = [slice(None)] * 3
            index[mode] = emptied
            held[tuple(index)] = False
    if not held.any():
        raise InvalidInputError(f"no entry held out of {int(observed.sum())} observed ones at "
                                f"heldout_fraction={heldout_fraction}; the tensor is too small", field="mask")
    return held


def masked_rel_error(tensor, weights, factors, where) -> float:
    """``‖P(X − X̂)‖ / ‖P X‖`` over the entries where ``where`` is ``True``, with ``X̂`` the CP
    model ``(weights, factors)``; formed a chunk of first-mode slices at a time, so no
    tensor-sized temporary is held."""
    xp = get_namespace(tensor)
    a, b, c = factors
    rows = chunk_rows(tensor.shape, np.dtype(to_numpy(xp.reshape(tensor, (-1,))[:1]).dtype).itemsize)
    num = den = 0.0
    for i0 in range(0, tensor.shape[0], rows):
        x = tensor[i0:i0 + rows]
        m = where[i0:i0 + rows]
        # two chunk-sized buffers, updated in place (the memory model counts two chunks)
        resid = reconstruct(weights, [a[i0:i0 + rows], b, c])
        resid -= x
        resid *= m
        resid *= resid
        num += float(xp.sum(resid))
        del resid
        data = x * m
        data *= data
        den += float(xp.sum(data))
        del data
    return float(np.sqrt(num / den)) if den > 0 else float("nan")


@dataclass
class CVFit:
    """One cross-validated replicate.

    Attributes
    ----------
    result : NTFResult — the refit to every observed entry (warm-started from ``cv_result``).
    cv_result : NTFResult — the fit to the training entries only.
    train_error, test_error : float — relative errors of ``cv_result`` on the training and
        held-out entries.
    n_heldout : int — number of held-out entries.
    """

    result: NTFResult
    cv_result: NTFResult
    train_error: float
    test_error: float
    n_heldout: int = 0

    def sweep_fit(self) -> SweepFit:
        return SweepFit(self.result.rel_error, self.result.factors, self.train_error, self.test_error)


def cv_fit(tensor, rank: int, *, heldout, mask=None, max_iter: int = 300, tol: float = 1e-6, n_inner: int = 5,
           random_state: int | np.random.Generator | None = 0, sort_mode: int = 0) -> CVFit:
    """Fit one replicate: the training entries from a random start, then every observed entry.

    Parameters
    ----------
    tensor : array (I, J, K), non-negative where observed (numpy, torch or cupy).
    rank : int
    heldout : bool array (I, J, K)
        ``True`` on the held-out entries (e.g. from :func:`heldout_mask`).
    mask : bool array broadcastable to (I, J, K), optional
        ``True`` where observed (None: everything).
    max_iter, tol, n_inner, random_state, sort_mode
        As in :func:`non_negative_cp_hals` (``random_state`` seeds the start).

    Returns
    -------
    CVFit
    """
    be = Backend(backend_name(tensor), "cuda" if _on_gpu(tensor) else "cpu")
    held_np = np.asarray(to_numpy(heldout), dtype=bool)
    if held_np.shape != tuple(tensor.shape):
        raise InvalidInputError(f"held-out mask of shape {held_np.shape}; expected {tuple(tensor.shape)}",
                                field="heldout")
    obs_np = (np.ones(held_np.shape, dtype=bool) if mask is None
              else np.broadcast_to(np.asarray(to_numpy(mask), dtype=bool), held_np.shape))
    if (held_np & ~obs_np).any():
        raise InvalidInputError("held-out entries must be observed (mask True)", field="heldout")
    n_heldout = int(held_np.sum())
    train = be.asarray(obs_np & ~held_np)
    kw = dict(max_iter=max_iter, tol=tol, n_inner=n_inner, sort_mode=sort_mode)
    cv = non_negative_cp_hals(tensor, rank, mask=train, random_state=random_state, **kw)
    train_error = masked_rel_error(tensor, cv.weights, cv.factors, train)
    del train
    test_error = masked_rel_error(tensor, cv.weights, cv.factors, be.asarray(held_np))
    observed = None if obs_np.all() else be.asarray(obs_np)
    full = non_negative_cp_hals(tensor, rank, mask=observed, init=(cv.weights, cv.factors),
                                random_state=random_state, **kw)
    return CVFit(full.to_numpy(), cv.to_numpy(), train_error, test_error, n_heldout)


def _on_gpu(x) -> bool:
    name = backend_name(x)
    return (name == "torch" and x.device.type == "cuda") or name == "cupy"


def affinity_arrays(affinity) -> tuple[np.ndarray, np.ndarray]:
    """``(tensor, observed)`` numpy arrays of an affinity Dataset, the mask broadcast to the
    tensor's full (window, animal, pair) shape whatever dims it is stored with."""
    x = affinity["affinity"]
    observed = affinity["mask"].astype(bool).broadcast_like(x).transpose(*x.dims)
    return np.asarray(x.values), np.asarray(observed.values, dtype=bool)


def cv_fit_affinity(affinity, rank: int, *, heldout, backend: str = "numpy", device: str = "cpu", **kwargs) -> CVFit:
    """:func:`cv_fit` on an affinity-tensor Dataset (its mask applied), on ``backend``/``device``."""
    be = Backend(backend, device)
    x, observed = affinity_arrays(affinity)
    return cv_fit(be.asarray(x), rank, heldout=heldout, mask=None if observed.all() else be.asarray(observed),
                  **kwargs)


@dataclass
class RankSweepResult:
    """Outcome of :func:`rank_sweep`: tables, chosen rank, every replicate and the final model."""

    metrics: pd.DataFrame
    summary: pd.DataFrame
    rank: int
    fits: dict = field(default_factory=dict)
    model: NTFResult | None = None


def rank_sweep(tensor, ranks: Sequence[int] = (1, 2, 3, 4, 5, 6), *, mask=None, restarts: int = 3,
               heldout_fraction: float = 0.1, selection: str = "cv", n_se: float = 1.0,
               similarity_threshold: float = 0.9, elbow_fraction: float = 0.05, override: int | None = None,
               max_iter: int = 300, tol: float = 1e-6, n_inner: int = 5,
               random_state: int | np.random.Generator | None = 0) -> RankSweepResult:
    """Cross-validated rank sweep in one process (the workflow runs each fit as a job).

    Parameters
    ----------
    tensor : array (I, J, K), non-negative where observed.
    ranks : sequence of int — the ranks tried.
    mask : bool array broadcastable to (I, J, K), optional — ``True`` where observed.
    restarts : int — replicates per rank; replicate ``k`` holds out the same entries at
        every rank.
    heldout_fraction : float — share of observed entries each replicate holds out.
    selection, n_se, similarity_threshold, elbow_fraction, override
        As in :func:`neurodyn.connectome.rank.select_from_fits`.
    max_iter, tol, n_inner : as in :func:`non_negative_cp_hals`.
    random_state : int, numpy Generator or None — seeds the held-out sets and the starts.

    Returns
    -------
    RankSweepResult
        ``model`` is the refit of the best replicate of the chosen rank.
    """
    ranks = [int(r) for r in ranks]
    if not ranks or min(ranks) < 1 or len(set(ranks)) != len(ranks):
        raise InvalidInputError(f"{ranks!r}, expected distinct positive integers", field="ranks")
    if int(restarts) < 1:
        raise InvalidInputError(f"{restarts!r}, expected a positive integer", field="restarts")
    rng = np.random.default_rng(random_state)
    held_seeds = rng.integers(2**32, size=int(restarts))
    fit_seeds = rng.integers(2**32, size=(len(ranks), int(restarts)))
    observed = (np.ones(tuple(tensor.shape), dtype=bool) if mask is None
                else np.broadcast_to(np.asarray(to_numpy(mask), dtype=bool), tuple(tensor.shape)))
    fits = {}
    for k in range(int(restarts)):
        held = heldout_mask(observed, heldout_fraction, random_state=int(held_seeds[k]))
        for i, rank in enumerate(ranks):
            fits[(rank, k)] = cv_fit(tensor, rank, heldout=held, mask=mask, max_iter=max_iter, tol=tol,
                                     n_inner=n_inner, random_state=int(fit_seeds[i, k]))
    metrics, summary, rank = select_from_fits({key: f.sweep_fit() for key, f in fits.items()},
                                              selection=selection, n_se=n_se,
                                              similarity_threshold=similarity_threshold,
                                              elbow_fraction=elbow_fraction, override=override)
    best = metrics[metrics["selected"]].iloc[0]
    return RankSweepResult(metrics, summary, rank, fits, fits[(rank, int(best["restart"]))].result)


class RankSweep(BaseEstimator):
    """:func:`rank_sweep` as a scikit-learn estimator (same parameters and defaults).

    Attributes
    ----------
    rank_ : int — the chosen rank.
    metrics_, summary_ : DataFrame — per replicate and per rank (see :func:`select_from_fits`).
    model_ : NTFResult — refit of the best replicate of the chosen rank.
    fits_ : dict ``(rank, restart) -> CVFit``.
    n_iter_ : int — HALS iterations summed over every fit (cross-validation and refit).
    converged_ : bool — whether every fit stopped on ``tol`` before ``max_iter``.
    """

    def __init__(self, ranks: Sequence[int] = (1, 2, 3, 4, 5, 6), *, restarts: int = 3,
                 heldout_fraction: float = 0.1, selection: str = "cv", n_se: float = 1.0,
                 similarity_threshold: float = 0.9, elbow_fraction: float = 0.05, override: int | None = None,
                 max_iter: int = 300, tol: float = 1e-6, n_inner: int = 5,
                 random_state: int | np.random.Generator | None = 0):
        self.ranks = ranks
        self.restarts = restarts
        self.heldout_fraction = heldout_fraction
        self.selection = selection
        self.n_se = n_se
        self.similarity_threshold = similarity_threshold
        self.elbow_fraction = elbow_fraction
        self.override = override
        self.max_iter = max_iter
        self.tol = tol
        self.n_inner = n_inner
        self.random_state = random_state

    def fit(self, tensor, y=None, mask=None) -> RankSweep:
        """Run the cross-validated sweep and choose the rank.

        Parameters
        ----------
        tensor : array, shape (I, J, K)
            Non-negative data where observed.
        y : None
            Ignored (scikit-learn convention).
        mask : bool array broadcastable to (I, J, K), optional
            ``True`` where observed.

        Returns
        -------
        RankSweep
            ``self``, fitted.
        """
        res = rank_sweep(tensor, mask=mask, **self.get_params())
        self.rank_ = res.rank
        self.metrics_, self.summary_ = res.metrics, res.summary
        self.model_ = res.model
        self.fits_ = res.fits
        self.n_iter_ = int(sum(f.result.n_iter + f.cv_result.n_iter for f in res.fits.values()))
        self.converged_ = bool(all(f.result.converged and f.cv_result.converged for f in res.fits.values()))
        return self
