"""The connectome branch's memory model (cohort → affinity tensor → NTF → communities).

One model, used by the pipeline's guard (:func:`neurodyn.connectome.tensor.check_memory`),
by the SLURM requests of the NTF rules (:func:`rank_fit_mem_mb`, :func:`ntf_result_mem_mb`),
by tests and by benchmarks.  Large cohorts must fail *before* anything big is allocated:
:func:`connectome_memory_plan` counts the bytes of the largest arrays each stage holds at
once, from sizes alone; :func:`check_connectome_memory` raises
:class:`~neurodyn.errors.MemoryBudgetError` when the largest stage exceeds a budget.

What each stage holds (``A`` animals, ``T`` frames, ``N`` neurons, ``P = N(N−1)/2`` pairs,
``W`` windows, ``R`` rank, ``s`` the tensor's item size):

- ``cohort``: the aligned float32 cohort ``A·T·N·4`` plus a float64 working copy ``A·T·N·8``
  that :func:`~neurodyn.connectome.tensor.affinity_tensor` reads from.
- ``affinity``: the cohort and its copy, the tensor ``W·A·P·s``, a full bool mask
  ``W·A·P`` and one animal's and one window's float64 intermediates (the tensor is built
  one animal and one window at a time, straight into its dtype):
  :data:`AFFINITY_WINDOW_MATRICES` ``N·N`` matrices, :data:`AFFINITY_PAIR_VECTORS` pair
  vectors (the pair indices and the window's values) and :data:`AFFINITY_FRAME_BUFFERS`
  ``T·N`` derivative buffers.
- ``ntf``: :func:`ntf_memory` — what :func:`~neurodyn.connectome.ntf.non_negative_cp_hals`
  allocates, read off its code and checked against traced peaks in
  ``tests/test_connectome_memory.py``: the input tensor, the mask, a few chunks of
  first-mode slices (:data:`~neurodyn.connectome.ntf.CHUNK_BYTES`; two for the masked
  E-step, one for the input scan of the unmasked path) and the factor-sized arrays.  The
  masked path never forms a tensor-sized temporary, so it costs about what the unmasked
  path costs.
- ``communities``: a few ``N·N`` float64 graphs per component.

A pipeline job adds Snakemake and the script's interpreter (:data:`JOB_BASELINE_BYTES`) to
its largest stage; reading a tensor written by :func:`neurodyn.io.write_netcdf` holds the
tensor plus the mask twice (its stored int8 and the decoded bool).
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from neurodyn.connectome.affinity import window_bounds
from neurodyn.connectome.ntf import chunk_rows
from neurodyn.errors import InputFileError, InvalidInputError, MemoryBudgetError

GIB = 1024**3
MIB = 1024**2
#: Chunk-sized temporaries alive at once in the masked HALS iteration: the model rows and
#: the E-step rows (data where observed, model elsewhere) of one chunk of first-mode slices.
NTF_CHUNKS_MASKED = 2
#: Without a mask: the squared chunk of the input scan (the iteration reads the data in place).
NTF_CHUNKS_FULL = 1
#: Headroom on the largest stage for what the counts leave out (allocator slack,
#: interpreter objects).  ``tests/test_connectome_memory.py`` checks that the NTF count is
#: at least the traced peak and at most 15 % above it; ``benchmarks/ntf_masked_memory.py``
#: found it within 1.4 % of the peak RSS at the paper's size.
HEADROOM = 1.10
#: Resident memory of a pipeline job before it loads data.  A SLURM job runs Snakemake
#: itself (it parses the workflow and starts the rule's script) and the script's
#: interpreter: ``benchmarks/ntf_masked_memory.py`` measured 222 MiB peak RSS for Snakemake
#: resolving one rank-fit job and 157 MiB for an interpreter after the rank-fit script's
#: imports; their sum (379 MiB) rounded up to leave room for the script's preamble.
JOB_BASELINE_BYTES = 512 * MIB
MASK_KINDS = (None, "slices", "full")
#: Float64 ``N·N`` matrices alive while one window's affinity is formed (products, energy,
#: the chance level, its count and the result) and its coverage.
AFFINITY_WINDOW_MATRICES = 6
#: Eight-byte pair vectors alive while the tensor is built: the upper-triangle indices
#: ``(i, j)`` and their per-animal copies, and one window's values and mask.
AFFINITY_PAIR_VECTORS = 8
#: Float64 ``T·N`` buffers of the derivative affinities beside the cohort's float64 copy:
#: one animal's traces (when some neurons are absent), and the derivative with its
#: smoothing and scaling temporaries (the parts of ĝ are formed one window at a time).
AFFINITY_FRAME_BUFFERS = 4
#: Bytes per character of a NumPy unicode string (the ``pair_i``/``pair_j`` coordinates).
UNICODE_CHAR = 4
#: Resident memory of an interpreter after importing the connectome branch and the heap
#: that earlier steps leave behind (170 MiB after the imports, 1.29 GiB resident against
#: 1.10 GiB counted after the final NTF at 2000 cells in ``benchmarks/connectome_scale.py``).
INTERPRETER_BYTES = 384 * MIB
#: Float64 ``T·N`` buffers of reading a suite2p plane: the corrected fluorescence, the
#: baseline's filled copy and result, ΔF/F and the Recording's copy (56 bytes per cell and
#: frame measured at 2000 cells).
READ_FRAME_BUFFERS = 6
#: What the nested SBM's search holds beyond its graph, measured, not derived
#: (``benchmarks/connectome_scale.py``: 0.45 GiB at 500 nodes, 0.66 GiB at 2000 nodes).
COMMUNITY_WORKSPACE_BYTES = 768 * MIB


def ntf_memory(shape, rank: int, *, dtype: Any = np.float32, mask: str | None = "full") -> dict[str, int]:
    """Bytes :func:`~neurodyn.connectome.ntf.non_negative_cp_hals` holds at its peak.

    Parameters
    ----------
    shape : (I, J, K)
        Tensor shape (windows, animals, pairs).
    rank : int
        Rank ``R`` of the fit.
    dtype : dtype of the tensor.
    mask : ``None`` (no mask), ``"slices"`` (one bool per animal and pair, broadcast over
        windows) or ``"full"`` (one bool per entry).

    Returns
    -------
    dict with keys ``tensor`` (the input), ``mask`` (the input mask), ``chunks`` (the
    chunk-sized temporaries), ``factors`` (factor- and MTTKRP-sized arrays) and ``peak`` (their
    sum), all bytes.
    """
    if mask not in MASK_KINDS:
        raise InvalidInputError(f"{mask!r}; expected one of {MASK_KINDS}", field="mask")
    i, j, k = (int(v) for v in shape)
    r, s = int(rank), np.dtype(dtype).itemsize
    tensor = i * j * k * s
    mask_bytes = {None: 0, "slices": j * k, "full": i * j * k}[mask]
    rows = chunk_rows((i, j, k), s)
    chunk = rows * j * k * s
    chunks = (NTF_CHUNKS_FULL if mask is None else NTF_CHUNKS_MASKED) * chunk
    # T = X·C, its product with a factor and the Khatri–Rao product (I·J·R each); per
    # mode, the factor, its MTTKRP, a GEMM output and the sweep's temporaries.  The
    # initialisation (float64 draws) and the final normalisation hold no more than that.
    factors = 3 * i * j * r * s + 4 * (i + j + k) * r * s
    return {"tensor": tensor, "mask": mask_bytes, "chunks": chunks, "factors": factors,
            "peak": tensor + mask_bytes + chunks + factors}


def netcdf_read_bytes(shape, *, dtype: Any = np.float32, mask: str | None = "full") -> int:
    """Bytes :func:`neurodyn.io.read_netcdf` holds at its peak for an affinity tensor: the
    tensor and the mask twice (stored int8, decoded bool)."""
    i, j, k = (int(v) for v in shape)
    mask_entries = {None: 0, "slices": j * k, "full": i * j * k}[mask]
    return i * j * k * np.dtype(dtype).itemsize + 2 * mask_entries


def n_windows_for(n_time: int, sampling_rate_hz: float, window_s: float, stride_s: float) -> int:
    """Number of sliding windows of :func:`~neurodyn.connectome.affinity.window_bounds`."""
    return int(len(window_bounds(n_time, sampling_rate_hz, window_s, stride_s)))


def tensor_stages(n_windows: int, n_animals: int, n_neurons: int, *, dtype: Any = np.float32, rank: int = 20,
                  n_time: int | None = None, masked: bool = True) -> dict[str, int]:
    """Bytes of the two stages that hold the affinity tensor: building it (``affinity``)
    and reading and fitting it (``ntf``, the larger of :func:`netcdf_read_bytes` and
    :func:`ntf_memory`).  Without ``n_time`` the cohort and its per-animal intermediates
    are left out of ``affinity``.  ``masked`` counts a full per-entry mask."""
    w, a, n, r = int(n_windows), int(n_animals), int(n_neurons), int(rank)
    p = n * (n - 1) // 2
    tensor = w * a * p * np.dtype(dtype).itemsize
    kind = "full" if masked else None
    affinity = tensor + (w * a * p if masked else 0)
    if n_time is not None:
        t = int(n_time)
        affinity += a * t * n * (4 + 8) + AFFINITY_WINDOW_MATRICES * n * n * 8 + AFFINITY_PAIR_VECTORS * p * 8 \
            + AFFINITY_FRAME_BUFFERS * t * n * 8
    ntf = max(ntf_memory((w, a, p), r, dtype=dtype, mask=kind)["peak"],
              netcdf_read_bytes((w, a, p), dtype=dtype, mask=kind))
    return {"affinity": int(affinity), "ntf": int(ntf)}


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
        Whether the fit takes a mask (counted as a full per-entry bool mask, the most a
        mask can cost).

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
    tensor = w * a * p * np.dtype(dtype).itemsize
    cohort = a * t * n * (4 + 8)
    stages = tensor_stages(w, a, n, dtype=dtype, rank=r, n_time=t, masked=masked)
    affinity, ntf = stages["affinity"], stages["ntf"]
    communities = r * 4 * n * n * 8
    plan = {"n_windows": w, "n_pairs": p, "tensor": tensor, "cohort": cohort, "affinity": affinity, "ntf": ntf,
            "communities": communities}
    plan["peak"] = int(HEADROOM * max(cohort, affinity, ntf, communities))
    return plan


def _budget_gib(max_memory_gb) -> float:
    """``max_memory_gb`` as a positive number of GiB, or a clear error."""
    try:
        budget = float(max_memory_gb)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{max_memory_gb!r}; expected a number of GiB", field="max_memory_gb") from None
    if not budget > 0:
        raise InvalidInputError(f"{max_memory_gb!r}; expected a positive number of GiB", field="max_memory_gb")
    return budget


def check_connectome_memory(plan: dict[str, int], max_memory_gb: float) -> dict[str, int]:
    """Raise :class:`MemoryBudgetError` if the plan's peak stage exceeds ``max_memory_gb`` GiB.

    Returns the plan unchanged when it fits, so calls chain.
    """
    budget = _budget_gib(max_memory_gb)
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


def affinity_file_layout(path: str | os.PathLike) -> tuple[tuple[int, int, int], np.dtype, str | None]:
    """Shape ``(W, A, P)``, dtype and mask kind of an affinity tensor file, from its header.

    Nothing but the header is read.  A missing file raises :class:`FileNotFoundError` with
    its name (Snakemake then defers a resource that depends on it).
    """
    import h5py

    path = os.fspath(path)
    if not os.path.exists(path):
        import errno

        raise FileNotFoundError(errno.ENOENT, "affinity tensor not found", path)
    try:
        with h5py.File(path, "r") as f:
            aff = f["affinity"]
            shape, dtype = tuple(int(v) for v in aff.shape), np.dtype(aff.dtype)
            mask = None
            if "mask" in f:
                mask = "full" if len(f["mask"].shape) == 3 else "slices"
    except (OSError, KeyError) as exc:
        raise InputFileError(f"cannot read the affinity tensor's header ({exc})", source=path,
                             field="affinity") from None
    if len(shape) != 3:
        raise InputFileError(f"affinity of shape {shape}; expected (window, animal, pair)", source=path,
                             field="affinity")
    return shape, dtype, mask


def job_bytes(stage_bytes: int) -> int:
    """Bytes a pipeline job needs for its largest stage: the stage with :data:`HEADROOM`
    plus :data:`JOB_BASELINE_BYTES`."""
    return int(JOB_BASELINE_BYTES + HEADROOM * stage_bytes)


def _attempt(attempt) -> int:
    if isinstance(attempt, bool) or not isinstance(attempt, (int, np.integer)) or attempt < 1:
        raise InvalidInputError(f"{attempt!r}; expected a positive integer", field="attempt")
    return int(attempt)


def rank_fit_mem_mb(path: str | os.PathLike, rank: int, attempt: int = 1) -> int:
    """SLURM ``mem_mb`` of one NTF fit of an affinity tensor file, times ``attempt``.

    The job reads the tensor (:func:`netcdf_read_bytes`) and fits one cross-validated
    replicate of it (:func:`ntf_memory` with a full-shape training mask, plus the held-out
    mask and the observed mask expanded to full shape); its request is :func:`job_bytes` of
    the larger of the two, in MiB, multiplied by the attempt number so that a retry after
    an out-of-memory kill asks for more.
    """
    shape, dtype, mask = affinity_file_layout(path)
    # A rank-sweep job is one cross-validated replicate: it fits through a full-shape
    # training mask (one bool per entry) and also holds the held-out mask and the
    # observed-entry mask expanded to full shape (two more bools per entry), whatever
    # mask kind the file stores.
    entries = int(np.prod([int(v) for v in shape]))
    stage = max(ntf_memory(shape, rank, dtype=dtype, mask="full")["peak"] + 2 * entries,
                netcdf_read_bytes(shape, dtype=dtype, mask=mask))
    return int(math.ceil(job_bytes(stage) * _attempt(attempt) / MIB))


def netcdf_decoded_bytes(path: str | os.PathLike) -> int:
    """Bytes the variables of a NetCDF file take once read, from its header: each
    variable's entries times its item size (64 bytes per entry for strings, a Python
    ``str`` each)."""
    import h5py

    path = os.fspath(path)
    if not os.path.exists(path):
        import errno

        raise FileNotFoundError(errno.ENOENT, "file not found", path)
    total = 0

    def add(_name, obj):
        nonlocal total
        if isinstance(obj, h5py.Dataset):
            item = 64 if obj.dtype.kind in "OSU" else obj.dtype.itemsize
            total += int(obj.size) * item

    try:
        with h5py.File(path, "r") as f:
            f.visititems(add)
    except OSError as exc:
        raise InputFileError(f"cannot read the header ({exc})", source=path, field="file") from None
    return total


def ntf_result_mem_mb(paths, attempt: int = 1) -> int:
    """SLURM ``mem_mb`` of a job that reads fitted NTF files (factors, not tensors), times
    ``attempt``: :func:`job_bytes` of three times the largest file's decoded variables
    (:func:`netcdf_decoded_bytes`; the Dataset read, its tables and the Dataset written).
    """
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    largest = max((netcdf_decoded_bytes(p) for p in paths), default=0)
    return int(math.ceil(job_bytes(3 * largest) * _attempt(attempt) / MIB))


def chain_memory_plan(n_animals: int, n_time: int, n_neurons: int, *, sampling_rate_hz: float,
                      window_s: float = 40.0, stride_s: float = 20.0, max_rank: int = 12, restarts: int = 3,
                      dtype: Any = np.float32, masked: bool = False, name_length: int = 16,
                      n_rois: int | None = None) -> dict:
    """Bytes each step of :func:`neurodyn.connectome.chain.connectome` holds at its peak
    when the whole chain runs in one process (a notebook, ``benchmarks/connectome_scale.py``).

    Unlike :func:`connectome_memory_plan` (one pipeline job per stage), what an earlier
    step returns stays alive in the later ones: the affinity Dataset (tensor, mask and the
    ``pair_i``/``pair_j`` name coordinates, ``P`` strings of ``name_length`` characters
    each) is held from the affinity step to the end.

    Steps (``E = W·A·P`` entries, ``s`` the tensor's item size):

    - ``read``: a suite2p plane's ``F`` and ``Fneu`` (float32, ``n_rois`` ROIs),
      :data:`READ_FRAME_BUFFERS` float64 ``T·N`` buffers, the cohort.
    - ``affinity``: :func:`tensor_stages`' ``affinity`` (with ``n_time``) and the name
      coordinates.
    - ``rank_sweep``: the affinity Dataset, one replicate of :func:`ntf_memory` (a full
      training mask when ``masked`` is False, since the held-out entries are masked out of
      training; the observed-entry mask too when ``masked``), the bool held-out set being
      scored and the sweep's held-out sets at one bit per entry.
    - ``final_ntf`` and ``communities``: the affinity Dataset, the factors, and a few
      ``N·N`` float64 graphs plus :data:`COMMUNITY_WORKSPACE_BYTES` for the search.

    Every step adds :data:`INTERPRETER_BYTES`.  Returns ``n_windows``, ``n_pairs``,
    ``entries``, ``tensor``, ``steps`` (the step names), one key per step and ``peak`` (the
    largest step times :data:`HEADROOM`), bytes.
    """
    for name, value in (("n_animals", n_animals), ("n_time", n_time), ("n_neurons", n_neurons),
                        ("max_rank", max_rank), ("restarts", restarts)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise InvalidInputError(f"{value!r}; expected a positive integer", field=name)
    if n_neurons < 2:
        raise InvalidInputError(f"{n_neurons} neuron(s); need at least 2 for pairs", field="n_neurons")
    a, t, n, r = int(n_animals), int(n_time), int(n_neurons), int(max_rank)
    rois = n if n_rois is None else int(n_rois)
    w = n_windows_for(t, sampling_rate_hz, window_s, stride_s)
    p = n * (n - 1) // 2
    s = np.dtype(dtype).itemsize
    entries = w * a * p
    tensor = entries * s
    names = 2 * p * UNICODE_CHAR * int(name_length)
    held_dataset = tensor + entries + names
    cohort = a * t * n * 4
    read = a * (2 * rois * t * 4 + READ_FRAME_BUFFERS * t * n * 8) + cohort
    affinity = tensor_stages(w, a, n, dtype=dtype, rank=r, n_time=t, masked=True)["affinity"] + names
    fit = ntf_memory((w, a, p), r, dtype=dtype, mask="full")["peak"] - tensor  # the tensor is the Dataset's
    rank_sweep = held_dataset + fit + entries * (1 + (1 if masked else 0)) + int(restarts) * -(-entries // 8)
    factors = (w + a + p) * r * 8
    graphs = 6 * n * n * 8 + 2 * p * 8 + COMMUNITY_WORKSPACE_BYTES
    plan = {"n_windows": w, "n_pairs": p, "entries": entries, "tensor": tensor,
            "steps": ("read", "affinity", "rank_sweep", "final_ntf", "communities"),
            "read": read, "affinity": affinity, "rank_sweep": rank_sweep,
            "final_ntf": held_dataset + 3 * factors, "communities": held_dataset + factors + graphs}
    for k in plan["steps"]:
        plan[k] = int(plan[k] + INTERPRETER_BYTES)
    plan["peak"] = int(HEADROOM * max(plan[k] for k in plan["steps"]))
    plan["settings"] = {"n_animals": a, "n_time": t, "n_neurons": n, "sampling_rate_hz": float(sampling_rate_hz),
                        "window_s": float(window_s), "stride_s": float(stride_s), "max_rank": r,
                        "restarts": int(restarts), "dtype": np.dtype(dtype).name, "masked": bool(masked),
                        "name_length": int(name_length), "n_rois": rois}
    return plan


def check_chain_memory(plan: dict, max_memory_gb: float) -> dict:
    """Raise :class:`MemoryBudgetError` if :func:`chain_memory_plan`'s peak exceeds
    ``max_memory_gb`` GiB, naming the step; return the plan when it fits."""
    budget = _budget_gib(max_memory_gb)
    worst = max(plan["steps"], key=plan.get)
    if plan["peak"] > budget * GIB:
        fits = ""
        if "settings" in plan:
            hint = chain_fitting_settings(plan["settings"], budget)
            fits = "; it fits with " + " or ".join(
                f"{k}={v}" for k, v in hint.items() if v is not None) if any(
                v is not None for v in hint.values()) else ""
        raise MemoryBudgetError(
            f"the connectome chain needs {plan['peak'] / GIB:.2f} GiB at its '{worst}' step "
            f"({plan['n_windows']} windows × {plan['n_pairs']} pairs; tensor {plan['tensor'] / GIB:.2f} GiB) "
            f"> budget {budget:g} GiB{fits}; raise stride_s, use fewer neurons, or raise max_memory_gb",
            field="max_memory_gb")
    return plan


#: Strides (s) :func:`chain_fitting_settings` tries, smallest first.
CANDIDATE_STRIDES_S = (20.0, 30.0, 40.0, 60.0, 80.0, 120.0, 240.0)


def chain_fitting_settings(settings: dict, max_memory_gb: float) -> dict:
    """Settings under which :func:`chain_memory_plan` of ``settings`` (its keywords) fits
    ``max_memory_gb``: the smallest stride of :data:`CANDIDATE_STRIDES_S` at or above the
    one asked for (``stride_s``), and the most neurons at the asked stride (``n_neurons``),
    each None when nothing fits."""
    budget = float(max_memory_gb) * GIB
    kw = dict(settings)
    out = {"stride_s": None, "n_neurons": None}
    for stride in CANDIDATE_STRIDES_S:
        if stride < kw.get("stride_s", 20.0):
            continue
        try:
            plan = chain_memory_plan(**{**kw, "stride_s": stride})
        except InvalidInputError:  # the window no longer fits the recording
            break
        if plan["peak"] <= budget:
            out["stride_s"] = stride
            break
    lo, hi = 2, int(kw["n_neurons"])
    if chain_memory_plan(**{**kw, "n_neurons": lo})["peak"] <= budget:
        while lo < hi:  # the peak grows with the number of neurons
            mid = (lo + hi + 1) // 2
            if chain_memory_plan(**{**kw, "n_neurons": mid})["peak"] <= budget:
                lo = mid
            else:
                hi = mid - 1
        out["n_neurons"] = lo
    return out
