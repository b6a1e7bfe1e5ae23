"""Choosing the number of NTF components from an ensemble of fits (ranks × replicates).

Following Williams et al. (Neuron 2018, "tensor component analysis"), as used by Dyballa
et al. (ICLR 2024), each rank is fitted several times (replicates: random restarts), and
two things are measured per rank:

- **held-out error** (the default criterion).  Each replicate hides its own random
  ``heldout_fraction`` of the observed entries through the NTF mask, fits the rest, and
  scores the hidden entries: ``test_error = ‖P_test(X − X̂)‖ / ‖P_test X‖`` (and the same on
  the fitted entries, ``train_error``).  The fits are made by
  :mod:`neurodyn.connectome.crossval`.  Training error falls with every extra component;
  held-out error stops falling once the extra components only fit noise, and rises when
  they overfit, so the held-out curve locates the rank the data support;
- **similarity of restarts**: each replicate's components are matched to those of the
  best replicate (Hungarian assignment on factor congruence); the similarity is the mean
  matched congruence.  The congruence of two components is the product over modes of the
  cosines of their factor columns (1 for identical, 0 for orthogonal in any mode).

Rules (:func:`select_rank`, ``selection=``):

``"cv"`` (default) — the one-standard-error rule of cross-validation (Breiman et al. 1984;
    Hastie, Tibshirani & Friedman, *Elements of Statistical Learning*, §7.10): let ``r₀``
    minimise the mean held-out error over replicates and ``se₀`` be its standard error
    (sample s.d. over replicates / √n).  The chosen rank is the smallest rank whose mean
    held-out error is at most ``err(r₀) + n_se · se₀`` and whose restarts are stable
    (similarity ≥ ``similarity_threshold``).  A rank within noise of the best is not
    distinguishable from it by the data, and the simplest such model is kept; on data
    with no low-rank structure beyond the mean, rank 1 is the minimum and is returned.
    If no rank within the band is stable, the largest stable rank below the band is
    returned (rank ``ranks[0]`` when there is none).
``"elbow"`` — the earlier rule, kept for comparison: the *error elbow* ``r_e`` is the
    smallest rank after which one more component lowers the best training error by less
    than ``elbow_fraction`` of the total drop over the sweep; the chosen rank is the
    largest ``r ≤ r_e`` whose similarity is at least ``similarity_threshold``.  At a
    realistic noise floor every extra component lowers the training error by a similar
    small amount, the elbow never triggers and this rule returns the largest stable rank
    (over-splitting): see ``docs/connectome.md``.

A configured rank (``override``) wins over both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from neurodyn.backend import to_numpy
from neurodyn.errors import InvalidInputError

SELECTIONS = ("cv", "elbow")


@dataclass
class SweepFit:
    """One fit of a rank sweep.

    Attributes
    ----------
    rel_error : float — relative error of the fit to every observed entry (the final model).
    factors : list of 3 arrays — its factors (for the similarity of restarts).
    train_error, test_error : float — relative errors on the fitted and held-out entries
        of the replicate's cross-validation fit (NaN when it was not cross-validated).
    """

    rel_error: float
    factors: Sequence
    train_error: float = float("nan")
    test_error: float = float("nan")


def _as_fit(value) -> SweepFit:
    if isinstance(value, SweepFit):
        return value
    if isinstance(value, tuple | list) and len(value) in (2, 4):
        return SweepFit(*value)
    raise InvalidInputError(f"a sweep entry of type {type(value).__name__}; expected a SweepFit, "
                            "(rel_error, factors) or (rel_error, factors, train_error, test_error)", field="fits")


def _unit(f: np.ndarray) -> np.ndarray:
    f = np.asarray(to_numpy(f), dtype=np.float64)
    n = np.linalg.norm(f, axis=0)
    return f / np.where(n > 0, n, 1.0)


def congruence_matrix(factors_a: Sequence, factors_b: Sequence, modes: Sequence[int] | None = None) -> np.ndarray:
    """``(R_a, R_b)`` congruence: product over ``modes`` of column cosines."""
    modes = range(len(factors_a)) if modes is None else modes
    out = None
    for m in modes:
        cos = _unit(factors_a[m]).T @ _unit(factors_b[m])
        out = cos if out is None else out * cos
    return out


def match_components(factors_a: Sequence, factors_b: Sequence,
                     modes: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hungarian matching maximising congruence; returns ``(rows, cols, scores)``."""
    cong = congruence_matrix(factors_a, factors_b, modes)
    rows, cols = linear_sum_assignment(-cong)
    return rows, cols, cong[rows, cols]


def similarity(factors_a: Sequence, factors_b: Sequence) -> float:
    """Mean matched congruence of two fits (over the components of the smaller one)."""
    return float(np.mean(match_components(factors_a, factors_b)[2]))


def sweep_metrics(fits: Mapping[tuple[int, int], SweepFit | tuple]) -> pd.DataFrame:
    """One row per (rank, restart): ``rank, restart, rel_error, train_error, test_error,
    similarity_to_best, is_best``.

    ``fits`` maps ``(rank, restart)`` to a :class:`SweepFit` or a tuple ``(rel_error,
    factors)`` / ``(rel_error, factors, train_error, test_error)``.  ``is_best`` marks the
    restart with the lowest ``rel_error`` of its rank.
    """
    fits = {k: _as_fit(v) for k, v in fits.items()}
    rows = []
    for rank in sorted({r for r, _ in fits}):
        runs = {k: v for (r, k), v in fits.items() if r == rank}
        best = min(runs, key=lambda k: runs[k].rel_error)
        for k in sorted(runs):
            fit = runs[k]
            sim = 1.0 if k == best else similarity(fit.factors, runs[best].factors)
            rows.append({"rank": rank, "restart": k, "rel_error": float(fit.rel_error),
                         "train_error": float(fit.train_error), "test_error": float(fit.test_error),
                         "similarity_to_best": sim, "is_best": k == best})
    return pd.DataFrame(rows)


def _mean_sd_se(values: pd.Series) -> tuple[float, float, float]:
    v = values.to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    sd = float(np.std(v, ddof=1)) if v.size > 1 else 0.0
    return float(v.mean()), sd, sd / np.sqrt(v.size)


def rank_summary(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per rank: ``best_error``, ``mean_error``, ``similarity`` (mean over non-best restarts),
    ``n_restarts`` and, over replicates, the mean, s.d. and standard error of the training
    and held-out errors (``train_error``, ``train_sd``, ``test_error``, ``test_sd``,
    ``test_se``)."""
    out = []
    for rank, g in metrics.groupby("rank"):
        others = g[~g["is_best"]]
        sim = float(others["similarity_to_best"].mean()) if len(others) else 1.0
        row = {"rank": int(rank), "best_error": float(g["rel_error"].min()),
               "mean_error": float(g["rel_error"].mean()), "similarity": sim, "n_restarts": len(g)}
        for col in ("train_error", "test_error"):
            mean, sd, se = _mean_sd_se(g[col]) if col in g else (float("nan"),) * 3
            row[col], row[col.replace("_error", "_sd")] = mean, sd
            if col == "test_error":
                row["test_se"] = se
        out.append(row)
    return pd.DataFrame(out).sort_values("rank").reset_index(drop=True)


def cv_threshold(summary: pd.DataFrame, n_se: float = 1.0) -> float:
    """``min_r err(r) + n_se · se(r_min)``: the held-out error band of the one-SE rule."""
    if "test_error" not in summary or not np.isfinite(summary["test_error"].to_numpy(dtype=float)).any():
        raise InvalidInputError("the sweep has no held-out errors; fit it with cross-validation "
                                "(neurodyn.connectome.crossval) or use selection='elbow'", field="test_error")
    err = summary["test_error"].to_numpy(dtype=float)
    i0 = int(np.nanargmin(err))
    se = float(summary["test_se"].to_numpy(dtype=float)[i0])
    return float(err[i0] + n_se * (se if np.isfinite(se) else 0.0))


def _select_cv(summary: pd.DataFrame, n_se: float, similarity_threshold: float) -> int:
    threshold = cv_threshold(summary, n_se)
    ranks = summary["rank"].to_numpy()
    err = summary["test_error"].to_numpy(dtype=float)
    stable = summary["similarity"].to_numpy(dtype=float) >= similarity_threshold
    within = np.isfinite(err) & (err <= threshold * (1 + 1e-12))
    ok = np.flatnonzero(within & stable)
    if ok.size:
        return int(ranks[ok[0]])
    first = int(np.flatnonzero(within)[0])
    below = np.flatnonzero(stable[:first])
    return int(ranks[below[-1]]) if below.size else int(ranks[0])


def _select_elbow(summary: pd.DataFrame, elbow_fraction: float, similarity_threshold: float) -> int:
    ranks = summary["rank"].to_numpy()
    err = summary["best_error"].to_numpy()
    sim = summary["similarity"].to_numpy()
    total = err[0] - err.min()
    elbow_idx = len(ranks) - 1
    for i in range(len(ranks) - 1):
        if err[i] - err[i + 1] < elbow_fraction * total:
            elbow_idx = i
            break
    ok = [i for i in range(elbow_idx + 1) if sim[i] >= similarity_threshold]
    return int(ranks[max(ok)]) if ok else int(ranks[0])


def select_rank(summary: pd.DataFrame, *, selection: str = "cv", n_se: float = 1.0,
                similarity_threshold: float = 0.9, elbow_fraction: float = 0.05,
                override: int | None = None) -> int:
    """The rank chosen by ``selection`` (``"cv"`` or ``"elbow"``, see the module doc);
    ``override`` wins when given."""
    if summary.empty:
        raise InvalidInputError("no fits in the rank sweep", field="ranks")
    if selection not in SELECTIONS:
        raise InvalidInputError(f"{selection!r}; expected one of {list(SELECTIONS)}", field="selection")
    ranks = summary["rank"].to_numpy()
    if override is not None:
        if int(override) not in set(ranks.tolist()):
            raise InvalidInputError(f"rank {override} was not in the sweep {ranks.tolist()}", field="rank")
        return int(override)
    if selection == "cv":
        return _select_cv(summary, n_se, similarity_threshold)
    return _select_elbow(summary, elbow_fraction, similarity_threshold)


def select_from_fits(fits: Mapping[tuple[int, int], SweepFit | tuple], *, selection: str = "cv",
                     n_se: float = 1.0, similarity_threshold: float = 0.9, elbow_fraction: float = 0.05,
                     override: int | None = None):
    """Metrics, per-rank summary and the chosen rank of a sweep, in one call.

    Parameters
    ----------
    fits : mapping ``(rank, restart) -> SweepFit`` (or a tuple, see :func:`sweep_metrics`).
    selection : ``"cv"`` (held-out error, one-SE rule) or ``"elbow"`` (training-error elbow).
    n_se : float — width of the held-out band, in standard errors (``"cv"``).
    similarity_threshold : float — least similarity of restarts for a rank to be chosen.
    elbow_fraction : float — the elbow's fraction of the total error drop (``"elbow"``).
    override : int, optional — use this rank (must be in the sweep).

    Returns
    -------
    ``(metrics, summary, rank)``.  ``summary`` has bool columns ``chosen`` and, where
    held-out errors exist, ``within_se`` (inside the one-SE band) plus the band's
    ``test_threshold`` and ``n_se``; ``stable`` (similarity ≥ threshold) and ``selection``; ``metrics`` has a bool column ``selected`` marking the best restart
    of the chosen rank (the final model).
    """
    metrics = sweep_metrics(fits)
    summary = rank_summary(metrics)
    rank = select_rank(summary, selection=selection, n_se=n_se, similarity_threshold=similarity_threshold,
                       elbow_fraction=elbow_fraction, override=override)
    if np.isfinite(summary["test_error"].to_numpy(dtype=float)).any():
        thr = cv_threshold(summary, n_se)
        summary["test_threshold"] = thr
        summary["n_se"] = float(n_se)
        summary["within_se"] = summary["test_error"] <= thr * (1 + 1e-12)
    summary["stable"] = summary["similarity"] >= similarity_threshold
    summary["selection"] = "override" if override is not None else selection
    summary["chosen"] = summary["rank"] == rank
    metrics["selected"] = (metrics["rank"] == rank) & metrics["is_best"]
    return metrics, summary, rank
