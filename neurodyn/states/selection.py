"""Choosing the number of states ``S``: held-out log-likelihood and BIC over a range."""

from __future__ import annotations


import pandas as pd

from neurodyn.errors import InvalidInputError
from neurodyn.states.model import HMMGLM

__all__ = ["select_n_states"]


def select_n_states(train, test, n_states_range, **model_kwargs):
    """Fit one :class:`HMMGLM` per ``S`` and score it.

    Parameters
    ----------
    train, test : list of ndarray (T_i, N)
        Training and held-out sequences.
    n_states_range : iterable of int
    **model_kwargs
        Passed to :class:`HMMGLM`.

    Returns
    -------
    table : pandas.DataFrame
        One row per ``S``: ``n_states, train_ll, heldout_ll, heldout_ll_per_bin, bic``
        (BIC on the training data; lower is better).
    models : dict
        Only when ``return_models=True`` is passed: the fitted models by ``S``.
    """
    return_models = model_kwargs.pop("return_models", False)
    values = sorted({int(s) for s in n_states_range})
    if not values or values[0] < 1:
        raise InvalidInputError(f"n_states_range: expected positive integers, got {list(n_states_range)}")
    n_test = sum(len(x) for x in test)
    rows, models = [], {}
    for S in values:
        m = HMMGLM(S, **model_kwargs).fit(train)
        ll_test = m.score(test)
        rows.append(
            {
                "n_states": S,
                "train_ll": m.score(train),
                "heldout_ll": ll_test,
                "heldout_ll_per_bin": ll_test / n_test,
                "bic": m.bic(train),
            }
        )
        models[S] = m
    table = pd.DataFrame(rows)
    return (table, models) if return_models else table


def best_n_states(table, criterion: str = "heldout_ll") -> int:
    """``S`` with the highest held-out log-likelihood (or lowest ``bic``)."""
    if criterion == "bic":
        return int(table.loc[table["bic"].idxmin(), "n_states"])
    return int(table.loc[table[criterion].idxmax(), "n_states"])


__all__.append("best_n_states")

