"""Rank selection by ensembles of restarts: matching, metrics and the training-error elbow rule
(``selection="elbow"``; the cross-validated default is tested in test_connectome_rank_cv.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurodyn.connectome.ntf import non_negative_cp_hals
from neurodyn.connectome.rank import congruence_matrix, match_components, rank_summary, select_rank, sweep_metrics
from neurodyn.errors import InvalidInputError


def test_matching_undoes_permutation_and_scaling():
    rng = np.random.default_rng(0)
    f = [rng.uniform(size=(n, 4)) for n in (10, 3, 20)]
    perm = [2, 0, 3, 1]
    g = [2.5 * x[:, perm] for x in f]
    rows, cols, scores = match_components(f, g)
    np.testing.assert_array_equal(np.asarray(perm)[cols], rows)
    np.testing.assert_allclose(scores, 1.0)
    assert congruence_matrix(f, g).shape == (4, 4)


def test_rank_sweep_picks_planted_rank():
    rng = np.random.default_rng(1)
    truth = [rng.uniform(size=(n, 3)) ** 4 for n in (25, 6, 80)]
    x = np.einsum("ir,jr,kr->ijk", *truth) + 0.002 * rng.uniform(size=(25, 6, 80))
    fits = {}
    for rank in range(1, 6):
        for restart in range(3):
            res = non_negative_cp_hals(x, rank, max_iter=400, tol=1e-8, random_state=100 * rank + restart)
            fits[(rank, restart)] = (res.rel_error, res.factors)
    metrics = sweep_metrics(fits)
    assert len(metrics) == 15 and metrics["is_best"].sum() == 5
    summary = rank_summary(metrics)
    assert summary.loc[summary["rank"] == 3, "similarity"].item() > 0.99
    assert summary.loc[summary["rank"] == 3, "best_error"].item() < 0.03  # the added noise floor
    # At a negligible noise floor the elbow works.
    assert select_rank(summary, selection="elbow") == 3
    assert select_rank(summary, override=5) == 5


def test_elbow_rule_on_table():
    summary = pd.DataFrame({"rank": [1, 2, 3, 4, 5], "best_error": [0.9, 0.5, 0.3, 0.29, 0.285],
                            "similarity": [1.0, 0.98, 0.95, 0.6, 0.5]})
    assert select_rank(summary, selection="elbow") == 3
    # Unstable at the elbow: fall back to the largest stable rank below it.
    summary.loc[2, "similarity"] = 0.5
    assert select_rank(summary, selection="elbow") == 2
    with pytest.raises(InvalidInputError, match="rank"):
        select_rank(summary, override=9)
