"""Choosing the number of components by an ensemble of fits (ranks × random restarts).

Following Williams et al. (Neuron 2018, "tensor component analysis") as used by Dyballa
et al. (ICLR 2024): for each rank fit several random restarts, and look at

- the reconstruction error (best restart per rank), and
- the run-to-run *similarity*: each restart's components are matched to those of the
  best restart (Hungarian assignment on factor congruence), and the similarity is the
  mean matched congruence.  The congruence of two components is the product over modes
  of the cosines of their factor columns (1 for identical, 0 for orthogonal in any mode).

Rule (:func:`select_rank`): the *error elbow* ``r_e`` is the smallest rank after which one
more component lowers the best error by less than ``elbow_fraction`` of the total drop
over the sweep; the chosen rank is the largest ``r ≤ r_e`` whose similarity is at least
``similarity_threshold`` (the smallest rank when none is).  A configured rank overrides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from neurodyn.backend import to_numpy
from neurodyn.errors import InvalidInputError


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


def sweep_metrics(fits: Mapping[tuple[int, int], tuple[float, Sequence]]) -> pd.DataFrame:
    """One row per (rank, restart): ``rank, restart, rel_error, similarity_to_best, is_best``.

    ``fits`` maps ``(rank, restart)`` to ``(rel_error, factors)``.
    """
    rows = []
    for rank in sorted({r for r, _ in fits}):
        runs = {k: v for (r, k), v in fits.items() if r == rank}
        best = min(runs, key=lambda k: runs[k][0])
        for k in sorted(runs):
            err, factors = runs[k]
            sim = 1.0 if k == best else similarity(factors, runs[best][1])
            rows.append({"rank": rank, "restart": k, "rel_error": float(err), "similarity_to_best": sim,
                         "is_best": k == best})
    return pd.DataFrame(rows)


def rank_summary(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per rank: ``best_error``, ``mean_error``, ``similarity`` (mean over non-best restarts)."""
    out = []
    for rank, g in metrics.groupby("rank"):
        others = g[~g["is_best"]]
        sim = float(others["similarity_to_best"].mean()) if len(others) else 1.0
        out.append({"rank": int(rank), "best_error": float(g["rel_error"].min()),
                    "mean_error": float(g["rel_error"].mean()), "similarity": sim, "n_restarts": len(g)})
    return pd.DataFrame(out).sort_values("rank").reset_index(drop=True)


def select_rank(summary: pd.DataFrame, *, similarity_threshold: float = 0.9, elbow_fraction: float = 0.05,
                override: int | None = None) -> int:
    """The rank chosen by the rule in the module doc (``override`` wins when given)."""
    if summary.empty:
        raise InvalidInputError("no fits in the rank sweep", field="ranks")
    ranks = summary["rank"].to_numpy()
    if override is not None:
        if int(override) not in set(ranks.tolist()):
            raise InvalidInputError(f"rank {override} was not in the sweep {ranks.tolist()}", field="rank")
        return int(override)
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


def select_from_fits(fits: Mapping[tuple[int, int], tuple[float, Sequence]], *, similarity_threshold: float = 0.9,
                     elbow_fraction: float = 0.05, override: int | None = None):
    """Metrics, per-rank summary and the chosen rank of a sweep, in one call.

    Returns ``(metrics, summary, rank)``; ``summary`` has a bool column ``chosen`` and
    ``metrics`` a bool column ``selected`` marking the best restart of the chosen rank
    (the final model).
    """
    metrics = sweep_metrics(fits)
    summary = rank_summary(metrics)
    rank = select_rank(summary, similarity_threshold=similarity_threshold, elbow_fraction=elbow_fraction,
                       override=override)
    summary["chosen"] = summary["rank"] == rank
    metrics["selected"] = (metrics["rank"] == rank) & metrics["is_best"]
    return metrics, summary, rank
