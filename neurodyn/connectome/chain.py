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

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from neurodyn.connectome.communities import DEFAULT_METHOD, component_communities
from neurodyn.connectome.crossval import RankSweepResult, affinity_arrays, heldout_design, rank_sweep
from neurodyn.connectome.memory import chain_memory_plan, check_chain_memory
from neurodyn.connectome.ntf import is_signed, ntf_to_dataset
from neurodyn.connectome.tensor import affinity_tensor
from neurodyn.errors import InvalidInputError
from neurodyn.progress import Heartbeat

log = logging.getLogger(__name__)  # its records reach the handlers of the package logger

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


def plan_chain(cohort: xr.Dataset, *, affinity: Mapping | None = None, rank: Mapping | None = None) -> dict:
    """:func:`~neurodyn.connectome.memory.chain_memory_plan` of :func:`connectome` on
    ``cohort`` with these settings (from sizes alone; nothing is computed)."""
    import inspect

    from neurodyn.connectome.crossval import rank_sweep as _sweep

    aff_kw = {k: v.default for k, v in inspect.signature(affinity_tensor).parameters.items()
              if v.default is not inspect.Parameter.empty}
    aff_kw.update(dict(affinity or {}))
    rank_kw = {k: v.default for k, v in inspect.signature(_sweep).parameters.items()
               if v.default is not inspect.Parameter.empty}
    rank_kw.update(dict(rank or {}))
    n_animals, n_time, n_neurons = (int(v) for v in cohort["traces"].shape)
    top = max([int(r) for r in rank_kw["ranks"]] + ([int(rank_kw["max_rank"])] if rank_kw["max_rank"] else []))
    names = max((len(str(v)) for v in cohort["neuron"].values), default=1)
    masked = n_animals > 1 or bool(np.isnan(np.asarray(cohort["traces"].values[:, :1])).any()) \
        or "present" in cohort and not bool(np.asarray(cohort["present"].values).all())
    return chain_memory_plan(n_animals, n_time, n_neurons, sampling_rate_hz=float(cohort.attrs["sampling_rate_hz"]),
                             window_s=float(aff_kw["window_s"]), stride_s=float(aff_kw["stride_s"]), max_rank=top,
                             restarts=int(rank_kw["restarts"]), dtype=aff_kw["dtype"], masked=masked,
                             name_length=names)


def affinity_step(cohort: xr.Dataset, *, affinity: Mapping | None = None, max_memory_gb: float = 8.0) -> xr.Dataset:
    """Step 1 of :func:`connectome`: the affinity tensor at the library's defaults."""
    return affinity_tensor(cohort, max_memory_gb=max_memory_gb, **dict(affinity or {}))


def rank_step(aff: xr.Dataset, *, rank: Mapping | None = None, ntf: Mapping | None = None,
              random_state: int = 0) -> RankSweepResult:
    """Step 2 of :func:`connectome`: the cross-validated rank sweep of an affinity tensor
    (held-out design from its windows; no mask when every entry is observed)."""
    x, observed = affinity_arrays(aff)
    mask = None if observed.all() else observed
    del observed
    rank_kw = {**heldout_design(aff.attrs["window_s"], aff.attrs["stride_s"]), **dict(rank or {})}
    rank_kw.setdefault("signed", is_signed(aff))
    return rank_sweep(x, mask=mask, random_state=random_state, **rank_kw, **dict(ntf or {}))


def model_step(sweep: RankSweepResult, aff: xr.Dataset, *,
               background_spread: float = BACKGROUND_SPREAD) -> xr.Dataset:
    """Step 3 of :func:`connectome`: the final model (the refit of the best replicate of the
    chosen rank) as a Dataset, its background components flagged."""
    return flag_background(ntf_to_dataset(sweep.model, aff), background_spread)


def community_step(fitted: xr.Dataset, *, method: str = DEFAULT_METHOD, random_state: int = 0,
                   every_s: float = 30.0, **kwargs) -> pd.DataFrame:
    """Step 4 of :func:`connectome`: communities of the non-background components of
    ``fitted`` (:func:`~neurodyn.connectome.communities.component_communities`, one component
    at a time, so that a long search logs where it is and how long the rest should take).

    ``kwargs`` go to ``component_communities`` (``weight_model``; with ``method="sbm"`` also ``model``, ``max_blocks``).
    Same table as one ``component_communities`` call on the kept components; its
    ``attrs["time_s"]`` gives each component's wall time.
    """
    keep = ~np.asarray(fitted["background"].values, dtype=bool) if "background" in fitted else \
        np.ones(fitted.sizes["component"], dtype=bool)
    local = _subset(fitted, keep)
    components = local["component"].values.tolist()
    if not components:
        return pd.DataFrame(columns=["component", "neuron", "community", "strength", "method"])
    tables, took = [], []
    for i, k in enumerate(components):
        expected = float(np.mean(took)) if took else None
        desc = f"communities ({method}): component {k}, {i + 1} of {len(components)}"
        t0 = time.perf_counter()
        with Heartbeat(desc, every_s=every_s, expected_s=expected, log=log):
            tables.append(component_communities(local.isel(component=[i]), method=method,
                                                random_state=random_state, **kwargs))
        took.append(time.perf_counter() - t0)
        left = float(np.mean(took)) * (len(components) - i - 1)
        if sum(took) >= every_s or i + 1 == len(components) and sum(took) >= 1.0:
            log.info("%s done in %.0fs; ~%.0fs left", desc, took[-1], left)
    table = pd.concat(tables, ignore_index=True)
    table.attrs["time_s"] = dict(zip((int(k) for k in components), took))
    return table


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
        Budget of the whole chain: refused before anything is computed when
        :func:`plan_chain` exceeds it (the error names a stride or a number of neurons
        that would fit), and the affinity tensor's own guard.
    random_state : int
        Seeds the held-out sets, the starts and the community search.

    Returns
    -------
    ConnectomeResult
    """
    check_chain_memory(plan_chain(cohort, affinity=affinity, rank=rank), max_memory_gb)
    aff = affinity_step(cohort, affinity=affinity, max_memory_gb=max_memory_gb)
    sweep = rank_step(aff, rank=rank, ntf=ntf, random_state=random_state)
    model = model_step(sweep, aff, background_spread=background_spread)
    keep = ~np.asarray(model["background"].values, dtype=bool)
    comm_kw = dict(communities or {})
    method = comm_kw.pop("method", DEFAULT_METHOD)
    table = community_step(model, method=method, random_state=random_state, **comm_kw)
    others = {}
    for name in baselines:
        if name == method:
            continue
        if name == "leiden":
            from neurodyn.connectome.communities import leiden_available

            if not leiden_available():
                continue
        others[name] = (component_communities(_subset(model, keep), method=name, random_state=random_state)
                        if keep.any() else table.iloc[:0].assign(method=name))
    return ConnectomeResult(aff, sweep, model, table, others)
