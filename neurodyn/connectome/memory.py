"""Up-front memory plan of the connectome branch (cohort → affinity tensor → NTF → communities).

Large cohorts must fail *before* anything big is allocated.  :func:`connectome_memory_plan`
counts the bytes of the largest arrays each stage holds at once, from sizes alone;
:func:`check_connectome_memory` raises :class:`~neurodyn.errors.MemoryBudgetError` when the
largest stage exceeds a budget.

What each stage holds (``A`` animals, ``T`` frames, ``N`` neurons, ``P = N(N−1)/2`` pairs,
``W`` windows, ``R`` rank, ``s`` the tensor's item size):

- ``cohort``: the aligned float32 cohort ``A·T·N·4`` plus a float64 working copy ``A·T·N·8``
  that :func:`~neurodyn.connectome.tensor.affinity_tensor` reads from.
- ``affinity``: the cohort and its copy, the tensor ``W·A·P·s`` and one animal's float64
  intermediates (the tensor is built one animal at a time): two ``W·N·N`` matrices, four
  ``W·P`` pair vectors and ``6·T·N`` derivative buffers.
- ``ntf``: the tensor and its working copies (:data:`NTF_COPIES_MASKED` when a pair is
  unobserved in some animal: observed part, reconstruction, residual and imputed copy
  plus temporaries; :data:`NTF_COPIES_FULL` when every pair is observed) and the
  ``(W·A)·R`` MTTKRP blocks.
- ``communities``: a few ``N·N`` float64 graphs per component.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurodyn.connectome.affinity import window_bounds
from neurodyn.errors import InvalidInputError, MemoryBudgetError

GIB = 1024**3
#: Tensor-sized arrays alive at once inside the masked HALS iteration: the data, its
#: observed part, the reconstruction, the difference, a zero fill, the residual, and the
#: previous and the new imputed copy.  ``benchmarks/large_cohort.py`` measured a traced
#: peak of 8.0 tensors (1.98 GiB for a 0.246 GiB tensor).
NTF_COPIES_MASKED = 8
#: Without a mask the data is used in place: the data and two temporaries.
NTF_COPIES_FULL = 3
#: Headroom on the largest stage for what the counts leave out (masks, coordinates,
#: factors, interpreter); the benchmark's traced peaks exceeded the counts by 0.5 % (NTF)
#: to 14 % (cohort building, which is never the largest stage at scale).
HEADROOM = 1.10


def n_windows_for(n_time: int, sampling_rate_hz: float, window_s: float, stride_s: float) -> int:
    """Number of sliding windows of :func:`~neurodyn.connectome.affinity.window_bounds`."""
    return int(len(window_bounds(n_time, sampling_rate_hz, window_s, stride_s)))


def connectome_memory_plan(n_animals: int, n_time: int, n_neurons: int, *, sampling_rate_hz: float,
                           window_s: float, stride_s: float, rank: int = 1, dtype: Any = np.float32,
                           masked: bool = True) -> dict[str, int]:
    """Bytes each stage of the connectome branch holds at its peak (see the module doc).

    Parameters
    ----------
    n_animals, n_time, n_neurons : int
        Cohort size ``A``, ``T``, ``N``.
    sampling_rate_hz, window_s, stride_s : float
        The affinity windows (give ``W``).
    rank : int
        Largest NTF rank that will be fitted.
    dtype : dtype of the tensor (float32 by default).
    masked : bool
        Whether some pair is unobserved in some animal (the masked NTF keeps more copies).

    Returns
    -------
    dict with keys ``n_windows``, ``n_pairs``, ``tensor``, ``cohort``, ``affinity``, ``ntf``,
    ``communities`` and ``peak`` (the largest stage times :data:`HEADROOM`), all bytes except the
    two counts.
    """
    for name, value in (("n_animals", n_animals), ("n_time", n_time), ("n_neurons", n_neurons), ("rank", rank)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise InvalidInputError(f"{value!r}; expected a positive integer", field=name)
    if n_neurons < 2:
        raise InvalidInputError(f"{n_neurons} neuron(s); need at least 2 for pairs", field="n_neurons")
    a, t, n, r = int(n_animals), int(n_time), int(n_neurons), int(rank)
    w = n_windows_for(t, sampling_rate_hz, window_s, stride_s)
    p = n * (n - 1) // 2
    item = np.dtype(dtype).itemsize
    tensor = w * a * p * item
    cohort = a * t * n * (4 + 8)
    per_animal = 2 * w * n * n * 8 + 4 * w * p * 8 + 6 * t * n * 8
    affinity = a * t * n * (4 + 8) + tensor + per_animal
    copies = NTF_COPIES_MASKED if masked else NTF_COPIES_FULL
    ntf = copies * tensor + 2 * w * a * r * item + 2 * p * r * item
    communities = r * 4 * n * n * 8
    plan = {"n_windows": w, "n_pairs": p, "tensor": tensor, "cohort": cohort, "affinity": affinity, "ntf": ntf,
            "communities": communities}
    plan["peak"] = int(HEADROOM * max(cohort, affinity, ntf, communities))
    return plan


def check_connectome_memory(plan: dict[str, int], max_memory_gb: float) -> dict[str, int]:
    """Raise :class:`MemoryBudgetError` if the plan's peak stage exceeds ``max_memory_gb`` GiB.

    Returns the plan unchanged when it fits, so calls chain.
    """
    try:
        budget = float(max_memory_gb)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{max_memory_gb!r}; expected a number of GiB", field="max_memory_gb") from None
    if not budget > 0:
        raise InvalidInputError(f"{max_memory_gb!r}; expected a positive number of GiB", field="max_memory_gb")
    stages = {k: plan[k] for k in ("cohort", "affinity", "ntf", "communities")}
    worst = max(stages, key=stages.get)
    if plan["peak"] > budget * GIB:
        raise MemoryBudgetError(
            f"the connectome branch needs {plan['peak'] / GIB:.2f} GiB at its '{worst}' stage "
            f"({plan['n_windows']} windows × {plan['n_pairs']} pairs; tensor {plan['tensor'] / GIB:.2f} GiB) "
            f"> budget {budget:g} GiB; raise stride_s, use fewer neurons or animals, or raise max_memory_gb",
            field="max_memory_gb")
    return plan


def format_plan(plan: dict[str, int]) -> str:
    """One line per stage, GiB, for logs."""
    lines = [f"windows={plan['n_windows']} pairs={plan['n_pairs']} tensor={plan['tensor'] / GIB:.3f} GiB"]
    lines += [f"  {k:<12s}{plan[k] / GIB:8.3f} GiB" for k in ("cohort", "affinity", "ntf", "communities", "peak")]
    return "\n".join(lines)
