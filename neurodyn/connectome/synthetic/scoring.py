"""Scoring a fitted connectome against a planted truth: planted factors on the fit's windows,
matched congruence and community NMI."""

from __future__ import annotations

import numpy as np
import xarray as xr


def windowed_profile(truth: xr.Dataset, window_start_s: np.ndarray, window_end_s: np.ndarray) -> np.ndarray:
    """Planted temporal profiles averaged in the tensor's windows, ``(n_windows, K)``."""
    t = np.asarray(truth["time"].values)
    prof = np.asarray(truth["temporal_profile"].values)
    out = np.empty((len(window_start_s), prof.shape[0]))
    for w, (a, b) in enumerate(zip(window_start_s, window_end_s)):
        sel = (t >= a - 1e-9) & (t < b - 1e-9)
        out[w] = prof[:, sel].mean(axis=1) if sel.any() else np.nan
    return out


def planted_factors(truth: xr.Dataset, ntf: xr.Dataset) -> list[np.ndarray]:
    """Planted time, animal and pair factors on the fit's windows, animals and pairs."""
    time_f = windowed_profile(truth, ntf["window_start_s"].values, ntf["window_end_s"].values)
    animal_f = truth["animal_loading"].sel(animal=[str(a) for a in ntf["animal"].values]).values
    pw = truth["pair_weight"]
    pi = [str(n) for n in ntf["pair_i"].values]
    pj = [str(n) for n in ntf["pair_j"].values]
    pair_f = np.stack([pw.sel(component=k).sel(neuron=xr.DataArray(pi, dims="p"),
                                               neuron_b=xr.DataArray(pj, dims="p")).values
                       for k in truth["component"].values], axis=1)
    return [time_f, animal_f, pair_f]


def planted_recovery(truth: xr.Dataset, ntf: xr.Dataset, communities=None):
    """How well a fit recovers the planted components and communities.

    Planted components are matched to fitted ones by the Hungarian assignment on the
    congruence (product over modes of factor cosines, as in
    :mod:`neurodyn.connectome.rank`); extra fitted components stay unmatched.

    Returns
    -------
    pandas.DataFrame, one row per planted component: ``planted``, ``fitted``,
    ``congruence`` (product over modes), ``congruence_time``, ``congruence_animal``,
    ``congruence_pair``, and, when ``communities`` (a
    :func:`neurodyn.connectome.communities.component_communities` table) is given, ``nmi``
    — planted vs fitted community labels of the matched component over the neurons of
    its planted communities — and ``nmi_all`` over all neurons (the neurons outside every
    planted community count as one more group there, although nothing makes them a
    community, so a fit that splits them by their residual structure scores lower).
    """
    import pandas as pd
    from sklearn.metrics import normalized_mutual_info_score

    from neurodyn.connectome.ntf import dataset_factors
    from neurodyn.connectome.rank import congruence_matrix, match_components

    planted = planted_factors(truth, ntf)
    fitted = dataset_factors(ntf)
    rows_idx, cols_idx, scores = match_components(planted, fitted)
    rows = []
    for k, c, s in zip(rows_idx, cols_idx, scores):
        row = {"planted": int(truth["component"].values[k]), "fitted": int(ntf["component"].values[c]),
               "congruence": float(s)}
        for m, name in enumerate(("time", "animal", "pair")):
            row[f"congruence_{name}"] = float(congruence_matrix([planted[m][:, [k]]], [fitted[m][:, [c]]])[0, 0])
        if communities is not None:
            tab = communities[communities["component"] == row["fitted"]].set_index("neuron")
            names = [n for n in truth["neuron"].values.astype(str) if n in tab.index]
            if not names:  # no communities for the matched component (e.g. flagged background)
                row["nmi"] = row["nmi_all"] = float("nan")
                rows.append(row)
                continue
            true_lab = truth["community"].sel(component=row["planted"], neuron=names).values
            fit_lab = tab.loc[names, "community"].to_numpy()
            members = true_lab > 0
            row["nmi"] = float(normalized_mutual_info_score(true_lab[members], fit_lab[members]))
            row["nmi_all"] = float(normalized_mutual_info_score(true_lab, fit_lab))
        rows.append(row)
    return pd.DataFrame(rows)
