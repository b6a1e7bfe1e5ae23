"""The paper's synthetic benchmark (Li et al., ICLR 2024, Table 1) as library functions.

:func:`run_synthetic_repeat` draws one planted switching GLM with
:func:`~neurodyn.states.synthetic.paper_dataset`, fits the four models of Table 1 —
GLM (one state), HG (no prior), GHG (Gaussian prior), OHG (one-hot prior) — and scores
them on held-out sequences; :func:`summarize_benchmark` turns repeats into the table
(mean ± sd).

Every repeat also scores a reference row, ``REFERENCE``: the one-hot prior's estimate
of the connectome computed from the *planted* per-state types
(:func:`planted_prior_adjacency`), i.e. what OHG would report if it recovered every
state's types exactly. With S = 5 states the types of a pair are only five draws from
``a0``, and their majority often differs from ``argmax a0`` (e.g. ``a0 = (0.3, 0.4,
0.3)``), so this row is far from 100 % (``python -m neurodyn.states.benchmark`` prints
its average over 200 planted parameter sets).
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from neurodyn.states import metrics
from neurodyn.states.model import HMMGLM
from neurodyn.states.synthetic import paper_dataset

__all__ = ["MODELS", "REFERENCE", "planted_prior_adjacency", "run_synthetic_repeat", "summarize_benchmark"]

log = logging.getLogger("neurodyn.states")

# name -> (n_states is the true S?, prior, prior kwargs)
MODELS = {
    "GLM": (False, "none", {}),
    "HG": (True, "none", {}),
    "GHG": (True, "gaussian", {"sigma": 1.0 / 3.0}),
    "OHG": (True, "onehot", {"tau": 0.2}),
}


REFERENCE = "planted types"


def planted_prior_adjacency(types):
    """The prior's connectome estimate if every state's types were recovered exactly.

    With certain (one-hot) per-state types the shared logits ``A0`` are fitted to the type
    frequencies of each pair over the states; the estimate is read out with the argmax
    rule (exact ties go to "none") and the balanced rule (frequency relative to its mean
    over pairs), as :meth:`~neurodyn.states.priors.OneHotPrior.prior_types` does.

    Parameters
    ----------
    types : array of int, shape (S, N, N), values in {−1, 0, 1}

    Returns
    -------
    argmax, balanced : ndarray of int, shape (N, N)
    """
    types = np.asarray(types)
    freq = np.eye(3)[types + 1].mean(0)  # (N, N, 3)
    argmax = np.argmax(freq + 1e-12 * np.array([0.0, 1.0, 0.0]), axis=-1) - 1
    balanced = np.argmax(freq / np.maximum(freq.reshape(-1, 3).mean(0), 1e-12), axis=-1) - 1
    return argmax, balanced


def run_synthetic_repeat(
    seed: int,
    *,
    models=("GLM", "HG", "GHG", "OHG"),
    n_states: int = 5,
    n_neurons: int = 20,
    n_train: int = 10,
    n_test: int = 10,
    n_time: int = 2000,
    concentration=(0.2, 1.6, 0.2),
    fit: dict | None = None,
    ohg_warm_start: str | None = "gaussian",
) -> pd.DataFrame:
    """Fit and score the Table 1 models on one planted data set.

    Parameters
    ----------
    seed : int
        Seeds the planted parameters, the sequences and the fits.
    models : sequence of {"GLM", "HG", "GHG", "OHG"}
    n_states, n_neurons, n_train, n_test, n_time : int
        Paper: 5, 20, 10, 10, 5000.
    concentration : sequence of 3 floats
        Dirichlet concentration of the per-pair type probabilities (inh, none, exc):
        the authors' demo (0.2, 1.6, 0.2) or the paper's text (0.1, 0.8, 0.1).
    fit : dict
        Extra :class:`~neurodyn.states.model.HMMGLM` arguments (``max_iter``,
        ``m_step_iter``, ``link``, ...). Default link: the generator's bounded sigmoid.
    ohg_warm_start : {None, "gaussian"}
        Start OHG from a Gaussian-prior fit (see ``fit_hmmglm(warm_start=...)``).
        HMM models without types (HG, GHG) convert weights to types with the paper's
        half-extreme rule over all states' weights.

    Returns
    -------
    pandas.DataFrame
        One row per model: ``seed, model, heldout_ll_per_bin, state_accuracy,
        weight_error, adjacency_accuracy, prior_adjacency_accuracy,
        prior_adjacency_accuracy_balanced, n_iter, converged, fit_seconds``.
    """
    truth, train, test = paper_dataset(seed, n_train, n_test, n_time, n_states, n_neurons,
                                       concentration=tuple(concentration))
    xs = [x for x, _ in train]
    xt = [x for x, _ in test]
    z_true = np.concatenate([z for _, z in test])
    kwargs = {"link": "sigmoid", "random_state": seed, **(fit or {})}
    rows = []
    for name in models:
        true_S, prior, pkw = MODELS[name]
        S = n_states if true_S else 1
        t0 = time.perf_counter()
        m = HMMGLM(S, prior=prior, prior_kwargs=pkw, warm_start=ohg_warm_start if name == "OHG" else None,
                   **kwargs).fit(xs)
        seconds = time.perf_counter() - t0
        z = np.concatenate(m.predict(xt))
        if S > 1:
            perm = metrics.match_states(z_true, z, n_states)
            acc = metrics.state_accuracy(z_true, z, n_states)
            types = m.types_[perm]
        else:
            perm, acc = None, np.nan
            types = np.repeat(m.types_, n_states, axis=0)
        rows.append(
            {
                "seed": seed,
                "model": name,
                "heldout_ll_per_bin": m.score(xt) / len(z_true),
                "state_accuracy": acc,
                "weight_error": metrics.weight_error(truth.weights, m.weights_, perm),
                "adjacency_accuracy": metrics.balanced_accuracy(truth.types, types),
                "prior_adjacency_accuracy": metrics.balanced_accuracy(truth.prior_types, m.prior_adjacency_),
                "prior_adjacency_accuracy_balanced": metrics.balanced_accuracy(
                    truth.prior_types, m.prior_adjacency_balanced_
                ),
                "n_iter": m.n_iter_,
                "converged": m.converged_,
                "fit_seconds": seconds,
            }
        )
        log.info("seed %d %s (fit %.1f s): %s", seed, name, seconds,
                 {k: round(v, 4) for k, v in rows[-1].items() if isinstance(v, float)})
    ref_argmax, ref_balanced = planted_prior_adjacency(truth.types)
    rows.append(
        {
            "seed": seed,
            "model": REFERENCE,
            **{k: np.nan for k in ("heldout_ll_per_bin", "state_accuracy", "weight_error", "adjacency_accuracy")},
            "prior_adjacency_accuracy": metrics.balanced_accuracy(truth.prior_types, ref_argmax),
            "prior_adjacency_accuracy_balanced": metrics.balanced_accuracy(truth.prior_types, ref_balanced),
            "n_iter": 0,
            "converged": True,
            "fit_seconds": 0.0,
        }
    )
    return pd.DataFrame(rows)


def summarize_benchmark(results: pd.DataFrame) -> pd.DataFrame:
    """Table 1 layout: one row per model, ``mean ± sd`` over seeds (percentages for accuracies)."""
    order = [m for m in (*MODELS, REFERENCE) if m in set(results["model"])]
    cols = {
        "heldout_ll_per_bin": ("test LL / bin", 1.0, 4),
        "state_accuracy": ("state acc %", 100.0, 2),
        "weight_error": ("weight err", 1.0, 2),
        "adjacency_accuracy": ("adj acc %", 100.0, 2),
        "prior_adjacency_accuracy": ("adj-prior acc % (argmax)", 100.0, 2),
        "prior_adjacency_accuracy_balanced": ("adj-prior acc % (balanced rule)", 100.0, 2),
    }
    out = []
    for name in order:
        sub = results[results["model"] == name]
        row = {"model": name, "n_seeds": int(sub["seed"].nunique())}
        for key, (label, scale, digits) in cols.items():
            v = sub[key].to_numpy(float) * scale
            if np.all(np.isnan(v)):
                row[label] = "–"
            else:
                row[label] = f"{np.nanmean(v):.{digits}f} ± {np.nanstd(v, ddof=1) if len(v) > 1 else 0.0:.{digits}f}"
        out.append(row)
    return pd.DataFrame(out)


if __name__ == "__main__":  # the reference row's average over many planted parameter sets
    from neurodyn.states.synthetic import paper_parameters

    acc = np.array(
        [
            [metrics.balanced_accuracy(t.prior_types, a) for a in planted_prior_adjacency(t.types)]
            for t in (paper_parameters(5, 20, np.random.default_rng(seed)) for seed in range(200))
        ]
    )
    for rule, col in zip(("argmax", "balanced"), acc.T * 100):
        print(f"{REFERENCE}, {rule} rule: {col.mean():.1f} ± {col.std(ddof=1):.1f} % (200 parameter sets)")
