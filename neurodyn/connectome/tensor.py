"""The affinity tensor: time window × animal × neuron pair, with a mask.

For a cohort (dims ``animal, time, neuron``; ``traces`` NaN where an animal lacks a
neuron; bool ``present``), the tensor entry ``A[w, a, p]`` is the window-``w`` mean affinity
of animal ``a`` for pair ``p = (i, j)``, ``i < j`` (the upper triangle, ``P = N(N−1)/2``;
symmetry comes for free).  A pair is observed in an animal only if both neurons are
present there, and in window ``w`` only if both were tracked together on at least
``min_coverage`` of its frames: unobserved entries are *masked* (``mask = False``, a
full-shape ``(window, animal, pair)`` mask) and hold 0 only as a placeholder, never read
by the factorization (Dyballa et al., ICLR 2024, §3).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import xarray as xr

from neurodyn.connectome.affinity import MAD_TO_SD, window_affinities, window_bounds, window_coverage
from neurodyn.errors import InvalidInputError, MemoryBudgetError
from neurodyn.progress import Progress

log = logging.getLogger(__name__)  # its records reach the handlers of the package logger

GIB = 1024**3
#: Seconds between progress lines of a long tensor build (logger ``neurodyn.connectome``).
PROGRESS_EVERY_S = 10.0
#: Chance levels :func:`affinity_tensor` can subtract.
CHANCE = ("none", "independent", "median")


def pair_index(n_neurons: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices ``(i, j)`` of the upper triangle, ``i < j``, length ``P``."""
    return np.triu_indices(n_neurons, k=1)


def fold_pairs(values: np.ndarray, n_neurons: int) -> np.ndarray:
    """A symmetric ``(N, N)`` matrix (zero diagonal) from a length-``P`` pair vector."""
    values = np.asarray(values)
    i, j = pair_index(n_neurons)
    if values.shape[-1] != i.size:
        raise InvalidInputError(f"{values.shape[-1]} pair values do not fold into {n_neurons} neurons "
                                f"(expected {i.size})", field="pair")
    out = np.zeros(values.shape[:-1] + (n_neurons, n_neurons), dtype=values.dtype)
    out[..., i, j] = values
    out[..., j, i] = values
    return out


def n_pairs_for(n_pairs: int) -> int:
    """Number of neurons ``N`` with ``N(N−1)/2 = n_pairs``."""
    n = int(round((1 + np.sqrt(1 + 8 * n_pairs)) / 2))
    if n * (n - 1) // 2 != n_pairs:
        raise InvalidInputError(f"{n_pairs} is not a triangular number of pairs", field="pair")
    return n


def tensor_memory_bytes(n_windows: int, n_animals: int, n_neurons: int, dtype: Any = np.float32, *,
                        rank: int = 20, n_time: int | None = None) -> int:
    """Bytes the largest step holding the tensor needs (building it, or reading and fitting
    it with a full mask), with headroom: the memory model of
    :mod:`neurodyn.connectome.memory` (:func:`~neurodyn.connectome.memory.tensor_stages`).
    ``rank`` (the largest rank fitted) enters only the factor-sized terms; ``n_time`` adds
    the cohort and its per-animal intermediates to the building step."""
    from neurodyn.connectome.memory import HEADROOM, tensor_stages

    stages = tensor_stages(n_windows, n_animals, n_neurons, dtype=dtype, rank=rank, n_time=n_time)
    return int(HEADROOM * max(stages.values()))


def check_memory(n_windows: int, n_animals: int, n_neurons: int, dtype: Any, max_memory_gb: float, *,
                 rank: int = 20, n_time: int | None = None) -> int:
    """Raise :class:`MemoryBudgetError` before allocating if the request is over budget
    (:func:`tensor_memory_bytes`); return the bytes needed."""
    need = tensor_memory_bytes(n_windows, n_animals, n_neurons, dtype, rank=rank, n_time=n_time)
    if need > max_memory_gb * GIB:
        raise MemoryBudgetError(
            f"the affinity tensor ({n_windows} windows × {n_animals} animals × "
            f"{n_neurons * (n_neurons - 1) // 2} pairs, {np.dtype(dtype).name}), its mask and the factorization "
            f"need {need / GIB:.2f} GiB > budget {max_memory_gb} GiB; raise connectome.stride_s, "
            "lower the number of neurons or raise max_memory_gb", field="max_memory_gb")
    return need


def _check_cohort(cohort: xr.Dataset) -> None:
    if not isinstance(cohort, xr.Dataset) or "traces" not in cohort:
        raise InvalidInputError("expected a cohort Dataset with a 'traces' variable", field="traces")
    if tuple(cohort["traces"].dims) != ("animal", "time", "neuron"):
        raise InvalidInputError(f"dims are {cohort['traces'].dims}, expected ('animal', 'time', 'neuron')",
                                field="traces")
    if "sampling_rate_hz" not in cohort.attrs:
        raise InvalidInputError("missing attribute", field="sampling_rate_hz")


def affinity_tensor(cohort: xr.Dataset, *, method: str = "windowed_cosine", window_s: float = 40.0,
                    stride_s: float = 20.0, dtype: Any = "float32", max_memory_gb: float = 8.0,
                    chance: str = "independent", chance_mads: float = 0.0, min_coverage: float = 0.5,
                    smooth_s: float = 1.0, saturation: float | None = None) -> xr.Dataset:
    """Window × animal × pair affinity tensor of a cohort, with its per-window mask.

    Parameters
    ----------
    cohort : xarray.Dataset
        dims ``(animal, time, neuron)``, ``traces`` (NaN where absent or on frames where a
        neuron was not tracked), optional bool ``present (animal, neuron)`` (default: a
        neuron is present where not all NaN), attr ``sampling_rate_hz``.
    method : str
        Affinity name (:data:`neurodyn.connectome.affinity.AFFINITIES`):
        ``windowed_cosine`` (default: whether two neurons move together in a window, not
        how much, so a neuron's activity level does not make a component),
        ``differential`` (the paper's per-time-point affinity averaged in windows) or
        ``correlation``.  ``docs/connectome.md`` gives the benchmark behind the default.
    window_s, stride_s : float
        Window length and step, seconds (defaults: the pipeline's 40 s windows every 20 s).
    dtype : numpy dtype (or its name) of the tensor, ``"float32"`` by default.
    max_memory_gb : float
        Budget checked before allocating (see :func:`check_memory`).
    chance : ``"none"``, ``"independent"`` or ``"median"``
        Chance level subtracted.  ``none`` subtracts nothing.
        ``independent`` (default; derivative affinities, ``differential`` unsaturated):
        per pair and window, what two independent neurons with the same derivatives in the
        window would score (see :func:`neurodyn.connectome.affinity.windowed_cosine_affinity`
        and :func:`~neurodyn.connectome.affinity.differential_affinity`); it uses no other
        pair, so co-activation shared by most pairs (a brain-wide state) stays.  The
        excess is signed (attr ``signed = 1``; independent pairs score about 0, with no
        positive floor), and the NTF fits it with non-negative factors.  For
        ``correlation`` it subtracts nothing: independent traces have expected Pearson
        correlation 0.
        ``median``: per window and animal, the median affinity over the observed entries,
        clipped at 0;
        it also erases co-activation shared by most pairs, such as brain-wide states
        (``docs/connectome.md``, Affinity, gives the recovery numbers of each).
    chance_mads : float
        With ``chance='median'``, also subtract this many robust SDs (1.4826 MAD over
        the observed entries) of the window's affinities.
    min_coverage : float in (0, 1]
        An entry ``(window, animal, pair)`` is observed when both neurons are present in
        the animal and tracked together on at least this fraction of the window's frames;
        otherwise it is masked (its value, 0, is a placeholder the factorization never
        reads).  Observed entries average the affinity over the jointly tracked frames only.
    smooth_s : float
        Gaussian smoothing of the derivative, seconds (derivative affinities; ignored by
        ``correlation``).
    saturation : float or None
        ``tanh`` saturation level of the derivative affinities (None: off; ignored by
        ``correlation``).

    Returns
    -------
    xarray.Dataset
        ``affinity (window, animal, pair)`` with masked entries = 0, ``mask (window,
        animal, pair)`` bool (the full-shape mask of :func:`neurodyn.connectome.ntf.NTF`),
        ``pair_present (animal, pair)`` (both neurons present in the animal),
        ``present (animal, neuron)``, coords ``window``,
        ``window_start_s``/``window_center_s``/``window_end_s`` (window), ``pair_i``/``pair_j``
        (pair; neuron names), ``neuron``, ``animal``; attrs ``method``, ``chance``,
        ``min_coverage``, ``window_s``, ``stride_s``, ``sampling_rate_hz``, ``n_neurons``.
    """
    _check_cohort(cohort)
    if chance not in CHANCE:
        raise InvalidInputError(f"{chance!r}, expected one of {CHANCE}", field="chance")
    if not 0 < float(min_coverage) <= 1:
        raise InvalidInputError(f"{min_coverage!r}, expected a fraction in (0, 1]", field="min_coverage")
    fs = float(cohort.attrs["sampling_rate_hz"])
    n_animals, n_time, n_neurons = cohort["traces"].shape
    if n_neurons < 2:
        raise InvalidInputError(f"{n_neurons} neuron(s); need at least 2 for pairs", field="neuron")
    # Refuse an over-budget request before the float64 working copy of the cohort exists.
    check_memory(len(window_bounds(n_time, fs, window_s, stride_s)), n_animals, n_neurons, dtype, max_memory_gb)
    traces = np.asarray(cohort["traces"].values, dtype=np.float64)
    if "present" in cohort:
        present = np.asarray(cohort["present"].values, dtype=bool)
    else:
        present = ~np.isnan(traces).all(axis=1)
    windows = window_bounds(n_time, fs, window_s, stride_s)
    params = {} if method == "correlation" else {"smooth_s": smooth_s, "saturation": saturation}
    ii, jj = pair_index(n_neurons)
    tensor = np.zeros((len(windows), n_animals, ii.size), dtype=dtype)
    pair_present = present[:, ii] & present[:, jj]
    mask = np.zeros(tensor.shape, dtype=bool)
    extra = {"chance": "independent"} if chance == "independent" and method != "correlation" else {}
    bar = Progress(n_animals * len(windows), "affinity windows", every_s=PROGRESS_EVERY_S, log=log)
    for a in range(n_animals):
        keep = np.flatnonzero(present[a])
        if keep.size < 2:
            bar.update(len(windows))
            continue
        local = np.full(n_neurons, -1)
        local[keep] = np.arange(keep.size)
        pairs = np.flatnonzero(pair_present[a])
        li, lj = local[ii[pairs]], local[jj[pairs]]
        # All pairs present: a slice writes in place where an index array would gather.
        where = slice(None) if pairs.size == ii.size else pairs
        x = traces[a] if keep.size == n_neurons else traces[a][:, keep]  # a view when all are present
        # One window at a time, straight into the tensor's dtype: only one window's (N, N)
        # float64 matrices are alive, never the (W, N, N) stack.
        per_window = zip(window_affinities(x, fs, windows, method, **params, **extra), window_coverage(x, windows))
        for w, (mat, cover) in enumerate(per_window):
            vals = mat[li, lj]
            del mat
            observed = cover[li, lj] >= min_coverage - 1e-12
            del cover
            vals = np.where(observed, vals, 0.0)
            if chance == "median":
                obs = vals[observed]
                if obs.size:
                    level = np.median(obs)
                    spread = MAD_TO_SD * np.median(np.abs(obs - level))
                    vals = np.where(observed, np.maximum(vals - level - chance_mads * spread, 0.0), 0.0)
                del obs
            tensor[w, a, where] = vals
            mask[w, a, where] = observed
            bar.update(1)
    bar.close()
    time = np.asarray(cohort["time"].values, dtype=np.float64) if "time" in cohort.coords else np.arange(n_time) / fs
    start_s = time[windows[:, 0]]
    end_s = time[windows[:, 1] - 1] + 1.0 / fs
    neurons = [str(n) for n in cohort["neuron"].values]
    ds = xr.Dataset(
        {
            "affinity": (("window", "animal", "pair"), tensor),
            "mask": (("window", "animal", "pair"), mask),
            "pair_present": (("animal", "pair"), pair_present),
            "present": (("animal", "neuron"), present),
        },
        coords={
            "window": np.arange(len(windows)),
            "window_start_s": ("window", start_s),
            "window_end_s": ("window", end_s),
            "window_center_s": ("window", (start_s + end_s) / 2),
            "animal": [str(a) for a in cohort["animal"].values],
            "neuron": neurons,
            "pair": np.arange(ii.size),
            "pair_i": ("pair", np.asarray(neurons, dtype=object)[ii].astype(str)),
            "pair_j": ("pair", np.asarray(neurons, dtype=object)[jj].astype(str)),
        },
        attrs={"method": method, "chance": chance, "min_coverage": float(min_coverage),
               "signed": int(chance == "independent" and method != "correlation"),
               "window_s": float(window_s), "stride_s": float(stride_s),
               "sampling_rate_hz": fs, "n_neurons": int(n_neurons)},
    )
    return ds
