"""Cross-validated NTF fits for choosing the rank (Williams et al., Neuron 2018).

One *replicate* hides a random ``heldout_fraction`` of the observed entries of the
(window × animal × pair) tensor through the mask that :func:`non_negative_cp_hals`
accepts (entries already missing stay excluded from both sets), fits the rest from a
random start, and scores

    train_error = ‖P_train(X − X̂)‖ / ‖P_train X‖,   test_error = ‖P_test(X − X̂)‖ / ‖P_test X‖.

The masked HALS never reads a hidden entry (it imputes it from the current model), so the
held-out error is an honest estimate of how well the rank predicts entries it has not
seen, *provided the hidden entries share no noise with the visible ones*.  Affinity
windows overlap (stride < window), so neighbouring windows of one (animal, pair) share
frames: with single hidden entries, an extra component fitted to the noise of a stretch
of windows predicts the hidden entry inside it, and the held-out error falls at every
rank (measured in ``docs/connectome.md``, Rank selection).  The held-out units are
therefore blocks of ``heldout_block`` consecutive windows of one (animal, pair) fibre,
and the ``heldout_guard`` windows on either side of a block, which share its frames, are
left out of training as well (neither fitted nor scored; :func:`heldout_design` derives
both from the window length and stride).

The final model of the replicate is then refitted to *every* observed entry,
warm-started from the cross-validation fit (which saw only training entries, so nothing
leaks into the held-out score); this refit gives the factors and ``rel_error`` used for the
similarity of restarts and, for the chosen rank, the model the pipeline keeps.

Held-out sets are drawn per replicate, not per rank: replicate ``k`` of every rank hides the
same entries, as the folds of ordinary cross-validation are shared by the models compared.
When the rank chosen is the largest tried, :func:`rank_sweep` widens the sweep itself, one
rank at a time up to ``max_rank``, and warns if it still ends at the top.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from neurodyn.backend import Backend, backend_name, get_namespace, to_numpy
from neurodyn.connectome.ntf import NTFResult, chunk_rows, is_signed, non_negative_cp_hals, reconstruct
from neurodyn.connectome.rank import SweepFit, select_from_fits
from neurodyn.errors import InvalidInputError
from neurodyn.progress import Progress

log = logging.getLogger(__name__)  # its records reach the handlers of the package logger
#: A sweep shorter than this (seconds) logs no per-fit lines.
SWEEP_QUIET_S = 1.0

#: The affinity windows the held-out design defaults to (those of ``affinity_tensor``).
DEFAULT_WINDOW_S, DEFAULT_STRIDE_S = 40.0, 20.0


def heldout_mask(observed, heldout_fraction: float = 0.1, random_state: int | np.random.Generator | None = None,
                 *, block: int = 1) -> np.ndarray:
    """A random held-out set: ``True`` on about ``heldout_fraction`` of the observed entries.

    Parameters
    ----------
    observed : bool array, shape (I, J, K)
        ``True`` where the tensor is observed; unobserved entries are never held out.
    heldout_fraction : float in (0, 1)
        Probability that a held-out unit is drawn (independently per unit).
    random_state : int, numpy Generator or None
    block : int, default 1
        Length of a held-out unit along the first (window) mode: a unit is ``block``
        consecutive windows of one ``(animal, pair)`` fibre (``1``: single entries).

    Returns
    -------
    numpy.ndarray of bool, shape (I, J, K)
        Every slice (of any mode) with an observed entry keeps at least one training
        entry: were it fully hidden, its factor row would be held at 0 and the held-out
        error would measure that artefact, not the rank.
    """
    observed = np.asarray(to_numpy(observed), dtype=bool)
    if observed.ndim != 3:
        raise InvalidInputError(f"expected a 3-way mask, got {observed.ndim} dims", field="mask")
    if not 0.0 < float(heldout_fraction) < 1.0:
        raise InvalidInputError(f"{heldout_fraction!r}, expected a number in (0, 1)", field="heldout_fraction")
    if int(block) < 1:
        raise InvalidInputError(f"{block!r}, expected a positive integer", field="block")
    block = int(block)
    rng = np.random.default_rng(random_state)
    n_blocks = -(-observed.shape[0] // block)
    held = np.empty(observed.shape, dtype=bool)
    rows = max(1, chunk_rows((n_blocks,) + observed.shape[1:], 4))
    for b0 in range(0, n_blocks, rows):  # float draws a chunk of blocks at a time
        nb = min(rows, n_blocks - b0)
        draw = rng.random((nb,) + observed.shape[1:], dtype=np.float32) < np.float32(heldout_fraction)
        i0, i1 = b0 * block, min((b0 + nb) * block, observed.shape[0])
        held[i0:i1] = observed[i0:i1] & np.repeat(draw, block, axis=0)[: i1 - i0]
    del draw
    # Slices (of each mode in turn) left without a training entry get theirs back.  The
    # scans go a chunk of windows at a time, so no tensor-sized temporary is formed.
    scan = max(1, chunk_rows(observed.shape, 1))
    for mode in range(3):
        has_obs = np.zeros(observed.shape[mode], dtype=bool)
        has_train = np.zeros(observed.shape[mode], dtype=bool)
        for i0 in range(0, observed.shape[0], scan):
            obs, hel = observed[i0:i0 + scan], held[i0:i0 + scan]
            train = obs & ~hel
            axes = tuple(ax for ax in range(3) if ax != mode)
            if mode == 0:
                has_obs[i0:i0 + scan] = obs.any(axis=axes)
                has_train[i0:i0 + scan] = train.any(axis=axes)
            else:
                has_obs |= obs.any(axis=axes)
                has_train |= train.any(axis=axes)
            del train
        emptied = has_obs & ~has_train
        if emptied.any():
            index = [slice(None)] * 3
            index[mode] = emptied
            held[tuple(index)] = False
    if not held.any():
        raise InvalidInputError(f"no entry held out of {int(observed.sum())} observed ones at "
                                f"heldout_fraction={heldout_fraction}; the tensor is too small", field="mask")
    return held


class PackedMask:
    """A bool array of shape ``(I, J, K)`` stored one bit per entry (:func:`numpy.packbits`).

    The rank sweep keeps one held-out set per replicate for the whole sweep; packed, the
    sets cost an eighth of a byte per entry each instead of a byte.  :meth:`unpack` gives the
    bool array back (what :func:`cv_fit` fits through); slicing the first mode unpacks only
    those windows.
    """

    def __init__(self, mask):
        mask = np.asarray(to_numpy(mask), dtype=bool)
        if mask.ndim != 3:
            raise InvalidInputError(f"expected a 3-way mask, got {mask.ndim} dims", field="mask")
        self.shape = tuple(int(v) for v in mask.shape)
        self._row = self.shape[1] * self.shape[2]
        self._bits = np.packbits(mask.reshape(self.shape[0], self._row), axis=1)

    @property
    def nbytes(self) -> int:
        return int(self._bits.nbytes)

    def unpack(self) -> np.ndarray:
        """The bool ``(I, J, K)`` array."""
        return self[:]

    def __getitem__(self, index) -> np.ndarray:
        if not isinstance(index, slice):
            raise InvalidInputError("a packed mask is sliced along its first mode only", field="mask")
        rows = np.unpackbits(self._bits[index], axis=1, count=self._row).view(bool)
        return rows.reshape((rows.shape[0],) + self.shape[1:])


def guard_mask(heldout, guard: int) -> np.ndarray:
    """Entries within ``guard`` windows (first mode) of a held-out entry of the same fibre,
    themselves not held out: bool array of ``heldout``'s shape.

    Overlapping affinity windows share frames, so the window next to a held-out one carries
    part of its noise; leaving these neighbours out of training keeps the held-out error
    honest.  With windows of length ``w`` every stride ``s``, ``guard = ceil(w / s) − 1``
    removes every training entry that shares a frame with a held-out one.
    """
    held = np.asarray(to_numpy(heldout), dtype=bool)
    out = np.zeros(held.shape, dtype=bool)
    for step in range(1, int(guard) + 1):
        if step >= held.shape[0]:
            break
        out[step:] |= held[:-step]
        out[:-step] |= held[step:]
    return out & ~held


def heldout_design(window_s: float, stride_s: float) -> dict[str, int]:
    """``heldout_block`` and ``heldout_guard`` (in windows) of :func:`rank_sweep` for windows
    of ``window_s`` every ``stride_s``.

    ``overlap = ceil(window_s / stride_s)`` windows share frames with any one window;
    ``guard = overlap − 1`` keeps every training entry clear of a held-out entry's frames,
    and ``block = 2 · overlap`` makes a held-out unit span twice the reach of one window's
    frames, so that a component fitted to one stretch of noise cannot predict it (the
    choice is measured in ``docs/connectome.md``, Rank selection).
    """
    if not window_s > 0 or not stride_s > 0:
        raise InvalidInputError(f"window {window_s!r} s, stride {stride_s!r} s; expected positive lengths",
                                field="window_s")
    overlap = int(np.ceil(float(window_s) / float(stride_s) - 1e-9))
    return {"heldout_block": 2 * overlap, "heldout_guard": overlap - 1}


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


def cv_fit(tensor, rank: int, *, heldout, mask=None, guard: int = 0, max_iter: int = 300, tol: float = 1e-6,
           n_inner: int = 5, random_state: int | np.random.Generator | None = 0, sort_mode: int = 0,
           signed: bool = False) -> CVFit:
    """Fit one replicate: the training entries from a random start, then every observed entry.

    Parameters
    ----------
    tensor : array (I, J, K), non-negative where observed (numpy, torch or cupy).
    rank : int
    heldout : bool array (I, J, K)
        ``True`` on the held-out entries (e.g. from :func:`heldout_mask`).
    mask : bool array broadcastable to (I, J, K), optional
        ``True`` where observed (None: everything).
    guard : int, default 0
        Observed entries within ``guard`` windows of a held-out entry of the same
        ``(animal, pair)`` fibre are left out of training too (:func:`guard_mask`); they
        are neither trained on nor scored.
    max_iter, tol, n_inner, random_state, sort_mode, signed
        As in :func:`non_negative_cp_hals` (``random_state`` seeds the start).

    Returns
    -------
    CVFit
    """
    be = Backend(backend_name(tensor), "cuda" if _on_gpu(tensor) else "cpu")
    held_np = heldout.unpack() if isinstance(heldout, PackedMask) else np.asarray(to_numpy(heldout), dtype=bool)
    if held_np.shape != tuple(tensor.shape):
        raise InvalidInputError(f"held-out mask of shape {held_np.shape}; expected {tuple(tensor.shape)}",
                                field="heldout")
    # Without a mask every entry is observed: no all-True array is formed.
    obs_np = None if mask is None else np.broadcast_to(np.asarray(to_numpy(mask), dtype=bool), held_np.shape)
    if obs_np is not None and obs_np.all():
        obs_np = None
    rows = max(1, chunk_rows(held_np.shape, 1))
    if obs_np is not None and any(np.greater(held_np[i0:i0 + rows], obs_np[i0:i0 + rows]).any()
                                  for i0 in range(0, held_np.shape[0], rows)):
        raise InvalidInputError("held-out entries must be observed (mask True)", field="heldout")
    n_heldout = int(held_np.sum())
    # train = observed & ~held & ~guard, built in place (one bool array).
    train_np = np.logical_not(held_np)
    if obs_np is not None:
        train_np &= obs_np
    for step in range(1, int(guard) + 1):
        if step >= held_np.shape[0]:
            break
        # x > h is x & ~h for bools, without a temporary for ~h
        np.greater(train_np[step:], held_np[:-step], out=train_np[step:])
        np.greater(train_np[:-step], held_np[step:], out=train_np[:-step])
    train = be.asarray(train_np)
    del train_np
    kw = dict(max_iter=max_iter, tol=tol, n_inner=n_inner, sort_mode=sort_mode, signed=signed)
    cv = non_negative_cp_hals(tensor, rank, mask=train, random_state=random_state, **kw)
    train_error = masked_rel_error(tensor, cv.weights, cv.factors, train)
    del train
    test_error = masked_rel_error(tensor, cv.weights, cv.factors, be.asarray(held_np))
    del held_np
    observed = None if obs_np is None else be.asarray(obs_np)
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
    kwargs.setdefault("signed", is_signed(affinity))
    x, observed = affinity_arrays(affinity)
    return cv_fit(be.asarray(x), rank, heldout=heldout, mask=None if observed.all() else be.asarray(observed),
                  **kwargs)


@dataclass
class RankSweepResult:
    """Outcome of :func:`rank_sweep`: tables, chosen rank, every replicate and the final model.

    ``warning`` is ``None``, or the message of the :class:`RankSweepWarning` raised when
    the held-out error was still falling at the largest rank tried.
    """

    metrics: pd.DataFrame
    summary: pd.DataFrame
    rank: int
    fits: dict = field(default_factory=dict)
    model: NTFResult | None = None
    warning: str | None = None


class RankSweepWarning(UserWarning):
    """The rank chosen is the largest one tried: the sweep did not reach a plateau."""


def top_of_sweep_message(summary: pd.DataFrame, *, setting: str = "max_rank") -> str | None:
    """The warning for a sweep whose chosen rank is its largest (``None`` otherwise).

    ``setting`` names the keyword or configuration key that widens the sweep.
    """
    if summary.empty or "chosen" not in summary:
        return None
    if str(summary["selection"].iloc[0]) == "override":
        return None
    top = int(summary["rank"].max())
    chosen = int(summary.loc[summary["chosen"], "rank"].iloc[0])
    if chosen != top:
        return None
    errs = ", ".join(f"{e:.3f}" for e in summary["test_error"].to_numpy(dtype=float)) \
        if "test_error" in summary else ""
    return (f"the rank chosen, {top}, is the largest of the sweep {summary['rank'].tolist()}: held-out error "
            f"is still falling there ({errs}); the data may support more components. Widen the sweep "
            f"({setting}) or fix the rank (override).")


def rank_sweep(tensor, ranks: Sequence[int] = (1, 2, 3, 4, 5, 6), *, mask=None, restarts: int = 3,
               heldout_fraction: float = 0.1, heldout_block: int | None = None,
               heldout_guard: int | None = None, selection: str = "cv", n_se: float = 1.0, similarity_threshold: float = 0.9,
               elbow_fraction: float = 0.05, override: int | None = None, max_rank: int | None = 12,
               max_iter: int = 300, tol: float = 1e-6, n_inner: int = 5, signed: bool = False,
               random_state: int | np.random.Generator | None = 0) -> RankSweepResult:
    """Cross-validated rank sweep in one process (the workflow runs each fit as a job).

    Parameters
    ----------
    tensor : array, shape (I, J, K)
        Non-negative where observed (numpy, torch or cupy).
    ranks : sequence of int
        The ranks tried first.
    mask : bool array broadcastable to (I, J, K), optional
        ``True`` where observed.
    restarts : int
        Replicates per rank; replicate ``k`` holds out the same entries at every rank.
    heldout_fraction : float
        Share of observed ``(animal, pair)`` blocks each replicate holds out.
    heldout_block, heldout_guard : int or None
        Held-out units of ``heldout_block`` consecutive windows, with ``heldout_guard``
        windows on each side left out of training (:func:`heldout_mask`,
        :func:`guard_mask`).  :func:`heldout_design` derives both from the window length
        and stride; None takes them from the default windows (40 s every 20 s: 4 and 1).
    selection, n_se, similarity_threshold, elbow_fraction, override
        As in :func:`neurodyn.connectome.rank.select_from_fits`.
    max_rank : int or None, default 12
        When the rank chosen is the largest tried (the held-out error still falls there),
        the sweep extends by one rank at a time up to ``max_rank``.  If it ends at the top
        all the same (or ``max_rank`` is None), a :class:`RankSweepWarning` is raised and
        recorded in ``warning`` and the summary.
    max_iter, tol, n_inner, signed
        As in :func:`neurodyn.connectome.ntf.non_negative_cp_hals`.
    random_state : int, numpy Generator or None
        Seeds the held-out sets and the starts.

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
    if max_rank is not None and int(max_rank) < max(ranks):
        raise InvalidInputError(f"{max_rank!r} is below the largest rank of the sweep ({max(ranks)})",
                                field="max_rank")
    design = heldout_design(DEFAULT_WINDOW_S, DEFAULT_STRIDE_S)
    heldout_block = design["heldout_block"] if heldout_block is None else int(heldout_block)
    heldout_guard = design["heldout_guard"] if heldout_guard is None else int(heldout_guard)
    rng = np.random.default_rng(random_state)
    held_seeds = rng.integers(2**32, size=int(restarts))
    fit_seeds = rng.integers(2**32, size=(len(ranks), int(restarts)))
    extra_seed = int(rng.integers(2**32))
    # A broadcast view: without a mask no all-True array is formed.
    observed = (np.broadcast_to(np.ones((1, 1, 1), dtype=bool), tuple(tensor.shape)) if mask is None
                else np.broadcast_to(np.asarray(to_numpy(mask), dtype=bool), tuple(tensor.shape)))
    # One bit per entry: the sets live for the whole sweep.
    helds = [PackedMask(heldout_mask(observed, heldout_fraction, random_state=int(held_seeds[k]),
                                     block=heldout_block)) for k in range(int(restarts))]
    fits = {}
    kw = dict(mask=mask, guard=heldout_guard, max_iter=max_iter, tol=tol, n_inner=n_inner, signed=signed)

    # One line per replicate fitted (each fit also logs its own HALS progress when long);
    # the last replicate's line is the final one, so the bar is not closed.
    bar = Progress(len(ranks) * int(restarts), "rank sweep fits", every_s=0.0, min_s=SWEEP_QUIET_S, log=log)

    def fit_rank(rank: int, seeds) -> None:
        for k in range(int(restarts)):
            fits[(rank, k)] = cv_fit(tensor, rank, heldout=helds[k], random_state=int(seeds[k]), **kw)
            bar.update(1, rank=rank, restart=k, test_error=round(fits[(rank, k)].test_error, 4))

    def select():
        return select_from_fits({key: f.sweep_fit() for key, f in fits.items()}, selection=selection, n_se=n_se,
                                similarity_threshold=similarity_threshold, elbow_fraction=elbow_fraction,
                                override=override)

    for i, rank in enumerate(ranks):
        fit_rank(rank, fit_seeds[i])
    metrics, summary, rank = select()
    while (override is None and max_rank is not None and rank == max(ranks) and max(ranks) < int(max_rank)):
        new = max(ranks) + 1
        ranks.append(new)
        bar.total += int(restarts)
        log.info("rank sweep: the rank chosen is the largest tried; widening the sweep to rank %d", new)
        fit_rank(new, np.random.default_rng([extra_seed, new]).integers(2**32, size=int(restarts)))
        metrics, summary, rank = select()
    message = top_of_sweep_message(summary, setting="max_rank")
    summary["warning"] = message or ""
    if message:
        warnings.warn(message, RankSweepWarning, stacklevel=2)
    best = metrics[metrics["selected"]].iloc[0]
    return RankSweepResult(metrics, summary, rank, fits, fits[(rank, int(best["restart"]))].result, message)


class RankSweep(BaseEstimator):
    """:func:`rank_sweep` as a scikit-learn estimator (same parameters and defaults).

    Attributes
    ----------
    rank_ : int — the chosen rank.
    warning_ : str or None — set when the chosen rank is the largest tried (see ``max_rank``).
    metrics_, summary_ : DataFrame — per replicate and per rank (see :func:`select_from_fits`).
    model_ : NTFResult — refit of the best replicate of the chosen rank.
    fits_ : dict ``(rank, restart) -> CVFit``.
    n_iter_ : int — HALS iterations summed over every fit (cross-validation and refit).
    converged_ : bool — whether every fit stopped on ``tol`` before ``max_iter``.
    """

    def __init__(self, ranks: Sequence[int] = (1, 2, 3, 4, 5, 6), *, restarts: int = 3,
                 heldout_fraction: float = 0.1, heldout_block: int | None = None,
                 heldout_guard: int | None = None, selection: str = "cv", n_se: float = 1.0, similarity_threshold: float = 0.9,
                 elbow_fraction: float = 0.05, override: int | None = None, max_rank: int | None = 12,
                 max_iter: int = 300, tol: float = 1e-6, n_inner: int = 5, signed: bool = False,
                 random_state: int | np.random.Generator | None = 0):
        self.ranks = ranks
        self.restarts = restarts
        self.heldout_fraction = heldout_fraction
        self.heldout_block = heldout_block
        self.heldout_guard = heldout_guard
        self.max_rank = max_rank
        self.signed = signed
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
        self.warning_ = res.warning
        self.metrics_, self.summary_ = res.metrics, res.summary
        self.model_ = res.model
        self.fits_ = res.fits
        self.n_iter_ = int(sum(f.result.n_iter + f.cv_result.n_iter for f in res.fits.values()))
        self.converged_ = bool(all(f.result.converged and f.cv_result.converged for f in res.fits.values()))
        return self
