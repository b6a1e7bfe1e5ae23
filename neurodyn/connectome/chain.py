"""The whole connectome chain in one call: traces → affinity tensor → rank → NTF → communities.

:func:`connectome` runs, at the library's defaults, what the pipeline runs as separate
jobs: :func:`~neurodyn.connectome.tensor.affinity_tensor`, the cross-validated
:func:`~neurodyn.connectome.crossval.rank_sweep` (whose best replicate at the chosen rank
is the model kept), the flagging of *background* components (:func:`background_components`)
and :func:`~neurodyn.connectome.communities.component_communities` on every other
component, with the baselines beside it on the same graphs.

A background component is brain-wide co-activation: its pair factor is spread over most
pairs rather than concentrated on a few communities.  It is real structure (an arousal or
locomotion state that drives most neurons together) and is kept in the model, named and
reported, but it has no community structure to find, so the community step skips it and
it does not count as a community component.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from neurodyn.connectome.communities import DEFAULT_METHOD, component_communities
from neurodyn.connectome.crossval import RankSweepResult, affinity_arrays, heldout_design, rank_sweep
from neurodyn.connectome.ntf import is_signed, ntf_to_dataset
from neurodyn.connectome.tensor import affinity_tensor
from neurodyn.errors import InvalidInputError

#: Least pair spread (:func:`pair_spread`) of a background component.
BACKGROUND_SPREAD = 0.5


def _otsu_floor(values: np.ndarray) -> float:
    """Mean of the lower class of Otsu's two-class split of ``values`` (1-d): the level
    of the pairs a component leaves out."""
    v = np.sort(np.asarray(values, dtype=np.float64))
    if v.size < 2 or v[-1] <= v[0]:
        return float(v[0]) if v.size else 0.0
    csum = np.cumsum(v)
    n = np.arange(1, v.size)
    m_low = csum[:-1] / n
    m_high = (csum[-1] - csum[:-1]) / (v.size - n)
    between = n * (v.size - n) * (m_high - m_low) ** 2
    return float(m_low[int(np.argmax(between))])


def pair_spread(ntf: xr.Dataset) -> np.ndarray:
    """Fraction of pairs each component spreads over, shape (R,), in [0, 1].

    The participation ratio ``(Σ_p e_p)² / (P · Σ_p e_p²)`` of the pair factor's excess
    over its floor, ``e = max(c − f, 0)``, with ``f`` the mean of the lower class of
    Otsu's two-class split of ``c`` (the level of the pairs the component leaves out,
    which the clipped chance level leaves slightly above 0).  It is ``q`` for a factor
    uniform on a fraction ``q`` of the pairs: about 0.2 for communities of a third of the
    neurons, 0.64 for one group of 80 % of the neurons.
    """
    c = np.asarray(ntf["pair_factor"].values, dtype=np.float64)
    if c.ndim != 2:
        raise InvalidInputError(f"pair_factor of shape {c.shape}; expected (component, pair)", field="pair_factor")
    out = np.zeros(c.shape[0])
    for k, row in enumerate(c):
        e = np.maximum(row - _otsu_floor(row), 0.0)
        energy = float((e**2).sum())
        out[k] = float(e.sum()) ** 2 / (e.size * energy) if energy > 0 else 0.0
    return out


def background_components(ntf: xr.Dataset, threshold: float = BACKGROUND_SPREAD) -> np.ndarray:
    """Bool (R,): components whose pair spread is at least ``threshold`` (brain-wide co-activation)."""
    if not 0.0 < float(threshold) <= 1.0:
        raise InvalidInputError(f"{threshold!r}, expected a fraction in (0, 1]", field="background_spread")
    return pair_spread(ntf) >= float(threshold)


def flag_background(ntf: xr.Dataset, threshold: float = BACKGROUND_SPREAD) -> xr.Dataset:
    """``ntf`` with ``pair_spread (component)`` and bool ``background (component)`` added."""
    out = ntf.copy()
    out["pair_spread"] = ("component", pair_spread(ntf))
    out["background"] = ("component", background_components(ntf, threshold))
    out.attrs["background_spread"] = float(threshold)
    return out


@dataclass
class ConnectomeResult:
    """Outcome of :func:`connectome`.

    Attributes
    ----------
    affinity : xarray.Dataset
        The (window, animal, pair) affinity tensor and its mask.
    sweep : RankSweepResult
        The rank sweep (``sweep.summary`` per rank, ``sweep.warning`` if it ended at the top).
    ntf : xarray.Dataset
        The model at the chosen rank, with ``pair_spread`` and ``background`` per component.
    communities : pandas.DataFrame
        Communities of the non-background components (one row per component and neuron).
    baselines : dict of str to pandas.DataFrame
        The same table for each baseline method, on the same graphs.
    """

    affinity: xr.Dataset
    sweep: RankSweepResult
    ntf: xr.Dataset
    communities: pd.DataFrame
    baselines: dict = field(default_factory=dict)

    @property
    def rank(self) -> int:
        """Number of components of the model (background included)."""
        return int(self.sweep.rank)

    @property
    def background(self) -> np.ndarray:
        """Bool (R,): which components are flagged as background."""
        return np.asarray(self.ntf["background"].values, dtype=bool)

    @property
    def n_community_components(self) -> int:
        """Components that are not background."""
        return int((~self.background).sum())


def _subset(ntf: xr.Dataset, keep: np.ndarray) -> xr.Dataset:
    return ntf.isel(component=np.flatnonzero(keep))


def connectome(cohort: xr.Dataset, *, affinity: Mapping | None = None, rank: Mapping | None = None,
               ntf: Mapping | None = None, communities: Mapping | None = None,
               baselines: Sequence[str] = ("louvain", "leiden"), background_spread: float = BACKGROUND_SPREAD,
               max_memory_gb: float = 8.0, random_state: int = 0) -> ConnectomeResult:
    """Run the dynamic-connectome chain on a cohort at the library's defaults.

    Parameters
    ----------
    cohort : xarray.Dataset
        dims ``(animal, time, neuron)`` with ``traces`` and attr ``sampling_rate_hz``
        (:func:`neurodyn.data.cohort.build_cohort`).
    affinity : mapping, optional
        Keywords of :func:`~neurodyn.connectome.tensor.affinity_tensor`.
    rank : mapping, optional
        Keywords of :func:`~neurodyn.connectome.crossval.rank_sweep` (``ranks``,
        ``restarts``, ``max_rank``, ``override``, …).  ``heldout_block`` and
        ``heldout_guard`` default to :func:`~neurodyn.connectome.crossval.heldout_design`
        of the affinity's window and stride.
    ntf : mapping, optional
        ``max_iter``, ``tol``, ``n_inner`` of the fits.
    communities : mapping, optional
        Keywords of :func:`~neurodyn.connectome.communities.component_communities`
        (``method``, ``model``, ``weight_model``, ``max_blocks``).
    baselines : sequence of str
        Other community methods run on the same graphs (``leiden`` is skipped when
        ``leidenalg`` is not installed).
    background_spread : float
        Least pair spread of a background component (:func:`background_components`).
    max_memory_gb : float
        Budget of the affinity tensor.
    random_state : int
        Seeds the held-out sets, the starts and the community search.

    Returns
    -------
    ConnectomeResult
    """
    aff = affinity_tensor(cohort, max_memory_gb=max_memory_gb, **dict(affinity or {}))
    x, observed = affinity_arrays(aff)
    rank_kw = {**heldout_design(aff.attrs["window_s"], aff.attrs["stride_s"]), **dict(rank or {})}
    rank_kw.setdefault("signed", is_signed(aff))
    sweep = rank_sweep(x, mask=None if observed.all() else observed, random_state=random_state,
                       **rank_kw, **dict(ntf or {}))
    model = flag_background(ntf_to_dataset(sweep.model, aff), background_spread)
    keep = ~np.asarray(model["background"].values, dtype=bool)
    comm_kw = dict(communities or {})
    method = comm_kw.pop("method", DEFAULT_METHOD)
    local = _subset(model, keep)
    table = (component_communities(local, method=method, random_state=random_state, **comm_kw) if keep.any()
             else pd.DataFrame(columns=["component", "neuron", "community", "strength", "method"]))
    others = {}
    for name in baselines:
        if name == method:
            continue
        if name == "leiden":
            from neurodyn.connectome.communities import leiden_available

            if not leiden_available():
                continue
        others[name] = (component_communities(local, method=name, random_state=random_state) if keep.any()
                        else table.iloc[:0].assign(method=name))
    return ConnectomeResult(aff, sweep, model, table, others)
