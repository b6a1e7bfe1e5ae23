"""Initial recurrent connectivity ``W_h(0)``: Gaussian, rank-r, aligned, and biological.

All initialisers return numpy arrays ``W (N, N)`` with ``W[i, j]`` the weight from unit
``j`` onto unit ``i`` (move them to a backend with :func:`neurodyn.backend.to_backend`),
and are scaled to the Frobenius norm ``‖W‖_F = g √N`` of a Gaussian ``g · randn/√N``
draw, so that they differ in structure and not in size (Liu et al., ICLR 2024, Sec. 3).

Biological inits (Liu et al. 2024, Sec. 4.3):

* **C. elegans** (:func:`celegans_init`), from the bundled head connectome (Witvliet et
  al. 2021, data set 8 by default). Weights are contact counts: ``W[post, pre] =
  s(pre) · chem(pre → post) + gap(pre ↔ post)``. Signs are not measured; the choice made
  here is that chemical synapses are excitatory (+1) except those made by the GABAergic
  neurons (``s = −1``: AVL, DVB, RIS, RMED/L/R/V, DD1–6, VD1–13; McIntire et al. 1993,
  Gendrel et al. 2016), and gap junctions are symmetric and positive (electrical coupling
  pulls the two potentials together). Self-contacts are dropped. Because only 6 of the
  head neurons are GABAergic, excitation and inhibition are balanced per postsynaptic
  neuron (:func:`balance_inhibition`, rule ``row_offset``: each row's existing synapses are
  shifted so that the row sums to zero).  Scaling the 6 GABAergic columns instead (the
  ``scale_inhibitory`` rule) would put 97 % of the norm into those 6 columns.  All neurons
  of the connectome are kept (N = 221 for ``witvliet_2020_8``).
* **Mouse V1** (:func:`v1_init`), from the cell-type peak connection probabilities of the
  Allen V1 model (Billeh et al. 2020): units are assigned to the 19 cell types by
  :data:`V1_TYPE_FRACTIONS`, each pair is connected with the probability of its types
  (Bernoulli), magnitudes are log-normal, signs follow Dale's law (the presynaptic type),
  and inhibitory weights are scaled so that total inhibition equals total excitation.

Controls: :func:`gaussian_control` (a Gaussian matrix of the same norm: destroys the
spectrum), :func:`shuffled_control` (the off-diagonal entries permuted: same weight
distribution — sparse, heavy-tailed entries keep much of the low effective rank),
:func:`rotated_control` (same singular values, random singular vectors: keeps the spectrum,
destroys the wiring) and :func:`outlier_control` (Gaussian bulk with the same leading
eigenvalue: controls the spectral radius).  :func:`normalise` rescales any init to a
matched Frobenius norm, a matched top singular value, or a stable (contracting) σ_1.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from neurodyn.backend import to_numpy
from neurodyn.errors import InvalidInputError

DEFAULT_GAIN = 1.25

# GABAergic neurons of the hermaphrodite (McIntire et al., Nature 1993; Gendrel et al.,
# eLife 2016): the sign choice for the C. elegans init.
CELEGANS_GABAERGIC = frozenset(
    ["AVL", "DVB", "RIS", "RMED", "RMEL", "RMER", "RMEV"]
    + [f"DD{i}" for i in range(1, 7)] + [f"VD{i}" for i in range(1, 14)])

# Share of units per V1 cell type (our approximate composition: layer shares, 85 %
# excitatory within layers 2/3–6 split PV 40 % / SST 35 % / VIP 25 % of the inhibitory
# 15 %, L5 excitatory split ET 20 % / IT 60 % / NP 20 %).
_LAYER_SHARE = {"L2/3": 0.28, "L4": 0.22, "L5": 0.27, "L6": 0.21}
V1_TYPE_FRACTIONS = {"L1_Inh": 0.02}
for _layer, _share in _LAYER_SHARE.items():
    if _layer == "L5":
        V1_TYPE_FRACTIONS.update({"L5_ET": _share * 0.85 * 0.2, "L5_IT": _share * 0.85 * 0.6,
                                  "L5_NP": _share * 0.85 * 0.2})
    else:
        V1_TYPE_FRACTIONS[f"{_layer}_Exc"] = _share * 0.85
    V1_TYPE_FRACTIONS.update({f"{_layer}_PV": _share * 0.15 * 0.40, f"{_layer}_SST": _share * 0.15 * 0.35,
                              f"{_layer}_VIP": _share * 0.15 * 0.25})


def _rng(random_state) -> np.random.Generator:
    return np.random.default_rng(random_state)


def _check_square(W, name: str = "W") -> np.ndarray:
    W = np.asarray(to_numpy(W), dtype=float)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise InvalidInputError(f"expected a square (N, N) matrix, got shape {W.shape}", field=name)
    return W


def target_norm(n: int, gain: float = DEFAULT_GAIN) -> float:
    """Frobenius norm ``g √N`` shared by every initialisation of size N."""
    return float(gain) * float(np.sqrt(n))


def rescale(W, norm: float) -> np.ndarray:
    """``W`` scaled to Frobenius norm ``norm``."""
    W = np.asarray(to_numpy(W), dtype=float)
    current = np.linalg.norm(W)
    if current == 0:
        raise InvalidInputError("cannot rescale an all-zero matrix", field="W")
    return W * (norm / current)


def gaussian_init(n: int, gain: float = DEFAULT_GAIN, random_state=None) -> np.ndarray:
    """``W0 = g · randn(N, N)/√N`` (Liu et al. 2024, Sec. 3)."""
    if int(n) < 1:
        raise InvalidInputError(f"N must be a positive integer, got {n}", field="n_hidden")
    if gain <= 0:
        raise InvalidInputError(f"gain must be > 0, got {gain}", field="gain")
    return float(gain) * _rng(random_state).standard_normal((int(n), int(n))) / np.sqrt(n)


def truncate_rank(W0, rank: int, match_norm: bool = True) -> np.ndarray:
    """Keep the top ``rank`` singular triplets of ``W0``; rescale to ``‖W0‖_F`` if asked.

    Parameters
    ----------
    W0 : (N, N) full-rank draw.
    rank : 1 ≤ r ≤ N.
    match_norm : rescale so that ``‖W_r‖_F = ‖W0‖_F`` (every rank the same size).

    Returns
    -------
    (N, N) ``W_r = c · U_r S_r V_rᵀ`` with ``c = ‖W0‖_F / ‖S_r‖_F``.
    """
    W0 = _check_square(W0, "W0")
    n = W0.shape[0]
    if not 1 <= int(rank) <= n:
        raise InvalidInputError(f"rank must lie in [1, N={n}], got {rank}", field="rank")
    U, s, Vt = np.linalg.svd(W0)
    r = int(rank)
    Wr = (U[:, :r] * s[:r]) @ Vt[:r]
    if match_norm:
        Wr *= np.sqrt(np.sum(s**2) / np.sum(s[:r] ** 2))
    return Wr


def low_rank_inits(n: int, ranks: Iterable[int], gain: float = DEFAULT_GAIN,
                   random_state=None) -> dict[int, np.ndarray]:
    """Rank-r inits for every ``r`` in ``ranks`` from ONE Gaussian draw (matched norms).

    Returns
    -------
    dict rank → (N, N) matrix with ``‖W_r‖_F = ‖W0‖_F ≈ g √N``.
    """
    W0 = gaussian_init(n, gain, random_state)
    return {int(r): truncate_rank(W0, int(r)) for r in ranks}


def aligned_low_rank_init(W_update, rank: int = 1, norm: float | None = None,
                          gain: float = DEFAULT_GAIN) -> np.ndarray:
    """A low-rank ``W_h(0)`` aligned with the task: the top-r directions of a learned update.

    The RNN analogue of the aligned exception of the linear theory
    (:func:`neurodyn.circuits.linear_theory.aligned_init`, ``W1(0) ∝ u β̂ᵀ``): the task's
    statistics enter the recurrent weights through the update ``ΔW_h = W_h(T) − W_h(0)``
    that gradient descent makes from a Gaussian init on that task, so
    ``W_h(0) = c · U_r S_r V_rᵀ``, its top-r singular triplets, scaled to ``norm``.

    Parameters
    ----------
    W_update : (N, N) learned recurrent update (from a pilot training run).
    rank : r.
    norm : Frobenius norm of the result (default ``g √N``).
    """
    W_update = _check_square(W_update, "W_update")
    n = W_update.shape[0]
    return rescale(truncate_rank(W_update, rank, match_norm=False), target_norm(n, gain) if norm is None else norm)


def singular_values(W) -> np.ndarray:
    """Singular values of ``W``, descending."""
    return np.linalg.svd(_check_square(W), compute_uv=False)


def effective_rank(W) -> float:
    """Normalised nuclear-norm rank ``Σσ_i / (σ_1 N)`` (1 for an isometry, 1/N for rank 1).

    As in Liu et al. (2024, Sec. 4.3).
    """
    s = singular_values(W)
    if s[0] == 0:
        return 0.0
    return float(np.sum(s) / (s[0] * s.size))


def participation_ratio(W) -> float:
    """Participation ratio of the singular values ``(Σσ²)² / Σσ⁴`` (between 1 and N)."""
    s2 = singular_values(W) ** 2
    denom = np.sum(s2**2)
    return float(np.sum(s2) ** 2 / denom) if denom > 0 else 0.0


def gaussian_control(W, random_state=None) -> np.ndarray:
    """A Gaussian ``randn(N, N)`` matrix with the same Frobenius norm as ``W``."""
    W = _check_square(W)
    return rescale(_rng(random_state).standard_normal(W.shape), np.linalg.norm(W))


def shuffled_control(W, random_state=None) -> np.ndarray:
    """``W`` with its off-diagonal entries randomly permuted (same weights, no structure)."""
    W = _check_square(W)
    off = ~np.eye(W.shape[0], dtype=bool)
    out = W.copy()
    out[off] = _rng(random_state).permutation(W[off])
    return out


BALANCE_RULES = ("row_offset", "scale_inhibitory")


def balance_inhibition(W, rule: str = "row_offset") -> np.ndarray:
    """Balance excitation and inhibition without concentrating the norm in a few neurons.

    Rules
    -----
    ``row_offset`` (default)
        Every postsynaptic neuron's summed input is made zero by subtracting the row's
        mean synaptic weight from each of its *existing* synapses:
        ``W[i, j] ← W[i, j] − (Σ_k W[i, k]) / n_i`` for the ``n_i`` non-zero entries of row
        i (zeros stay zero).  This is the balance condition of Rajan & Abbott (2006, PRL
        97:188104, rows summing to zero), applied on the connectome's own wiring, so
        sparsity is kept and every neuron's weights shift by an amount set by its own
        inputs: no column is inflated.  The price is that synapses onto strongly excited
        neurons can change sign (a neuron-specific inhibitory offset).
    ``scale_inhibitory``
        All negative entries multiplied by one factor so that total inhibition equals
        total excitation.  Keeps Dale's law, but when few neurons are inhibitory it
        inflates their columns by that factor: for the C. elegans head connectome (6
        GABAergic neurons) the factor is 35.7 and those 6 columns then hold 97 % of
        ``‖W‖²_F`` (the matrix becomes effectively rank ~5).  Used only where inhibitory
        neurons are numerous (V1 cell-type model, factor ≈ 1).
    """
    W = np.array(W, dtype=float)
    if rule == "scale_inhibitory":
        exc, inh = W[W > 0].sum(), -W[W < 0].sum()
        if inh > 0:
            W[W < 0] *= exc / inh
        return W
    if rule != "row_offset":
        raise InvalidInputError(f"unknown balance rule {rule!r}; expected one of {BALANCE_RULES}", field="balance")
    support = W != 0
    counts = support.sum(axis=1)
    offset = np.divide(W.sum(axis=1), counts, out=np.zeros(W.shape[0]), where=counts > 0)
    return W - offset[:, None] * support


def column_concentration(W, top: int = 6) -> float:
    """Share of ``‖W‖²_F`` held by the ``top`` columns (presynaptic neurons) of largest norm."""
    col = np.sort(np.sum(_check_square(W) ** 2, axis=0))[::-1]
    return float(col[:top].sum() / col.sum()) if col.sum() > 0 else 0.0


def spectral_radius(W) -> float:
    """Largest eigenvalue modulus of ``W``."""
    return float(np.max(np.abs(np.linalg.eigvals(_check_square(W)))))


def leading_eigenvalue(W) -> float:
    """Real part of the eigenvalue of largest modulus (for rank 1: its only non-zero eigenvalue)."""
    ev = np.linalg.eigvals(_check_square(W))
    return float(ev[np.argmax(np.abs(ev))].real)


def rotated_control(W, random_state=None) -> np.ndarray:
    """Same singular values as ``W``, Haar-random singular vectors: ``Q1 U S Vᵀ Q2``.

    Keeps the spectrum of singular values (effective rank, participation ratio, norms)
    exactly and destroys everything else (sparsity, cell-type blocks, signs).
    """
    W = _check_square(W)
    from scipy.stats import ortho_group

    rng = _rng(random_state)
    U, s, Vt = np.linalg.svd(W)
    q1 = ortho_group.rvs(W.shape[0], random_state=rng)
    q2 = ortho_group.rvs(W.shape[0], random_state=rng)
    return (q1 @ U * s) @ (Vt @ q2)


def outlier_control(W, random_state=None) -> np.ndarray:
    """Gaussian bulk plus the leading eigenvalue(s) of ``W``: same ‖W‖_F and spectral radius.

    ``a · G/√N + B`` with ``B`` a planted block carrying the eigenvalue λ of largest
    modulus of ``W``: ``λ u uᵀ`` when λ is real, or a rotation-scaling block on two random
    orthonormal directions (eigenvalues ``λ, λ̄``) when it is complex; ``a`` is chosen so that
    the Frobenius norms match.  Controls for a large spectral radius while the rest of the
    spectrum is Gaussian (high effective rank).
    """
    W = _check_square(W)
    rng = _rng(random_state)
    n = W.shape[0]
    ev = np.linalg.eigvals(W)
    lam = ev[np.argmax(np.abs(ev))]
    fro2 = float(np.sum(W ** 2))
    q, _ = np.linalg.qr(rng.standard_normal((n, 2)))
    u, v = q[:, 0], q[:, 1]
    if abs(lam.imag) <= 1e-9 * max(abs(lam), 1e-300):
        block = lam.real * np.outer(u, u)
    else:
        a, b = lam.real, abs(lam.imag)
        block = a * (np.outer(u, u) + np.outer(v, v)) + b * (np.outer(v, u) - np.outer(u, v))
    bulk = rng.standard_normal((n, n)) / np.sqrt(n)
    scale = np.sqrt(max(fro2 - float(np.sum(block ** 2)), 0.0) / n)
    return scale * bulk + block


NORMALISATIONS = ("frobenius", "spectral", "stable")
STABLE_NORM = 0.9


def normalise(W, normalisation: str, reference, stable_norm: float = STABLE_NORM) -> np.ndarray:
    """Scale an initial ``W_h`` under one of :data:`NORMALISATIONS`.

    ``frobenius``  ``‖W‖_F = ‖reference‖_F`` (the paper's: every init as large as a Gaussian draw);
    ``spectral``   ``σ_1(W) = σ_1(reference)`` (top singular value of the full-rank Gaussian draw,
                   ≈ 2g), so a low-rank init is no longer ≈ √(N/r)/2 times stronger along its top
                   direction;
    ``stable``     ``σ_1(W) = stable_norm`` < 1: every init is a contraction, so no init sits in
                   an unstable or chaotic regime (control for the eigenvalue size).

    ``reference`` is the (N, N) Gaussian draw ``g · randn/√N`` of the same size.
    """
    W = _check_square(W)
    if normalisation == "frobenius":
        return rescale(W, float(np.linalg.norm(reference)))
    top = singular_values(W)[0]
    if top == 0:
        raise InvalidInputError("cannot normalise an all-zero matrix", field="W")
    if normalisation == "spectral":
        return W * (singular_values(reference)[0] / top)
    if normalisation == "stable":
        if not 0 < stable_norm < 1:
            raise InvalidInputError(f"stable_norm must lie in (0, 1), got {stable_norm}", field="stable_norm")
        return W * (stable_norm / top)
    raise InvalidInputError(f"unknown normalisation {normalisation!r}; expected one of {NORMALISATIONS}",
                            field="normalisation")


def celegans_weights(name: str = "witvliet_2020_8", neurons: Sequence[str] | None = None,
                     gabaergic: Iterable[str] = CELEGANS_GABAERGIC,
                     balance: bool | str = True) -> tuple[np.ndarray, list[str]]:
    """Signed C. elegans connectivity from contact counts (unscaled).

    Parameters
    ----------
    name : bundled connectome (see :mod:`neurodyn.data.anatomy`).
    neurons : neurons to keep (default: all of the connectome).
    gabaergic : neurons whose chemical synapses are inhibitory.
    balance : balance excitation and inhibition with :func:`balance_inhibition` (True: the
        default ``row_offset`` rule; a string names the rule; False: raw signed counts).

    Returns
    -------
    W : (N, N) ``W[post, pre] = s(pre) chem[pre, post] + gap[pre, post]``, zero diagonal.
    neurons : the N names, in order.
    """
    from neurodyn.data.anatomy import connectome_matrix, connectome_neurons

    names = list(neurons) if neurons is not None else connectome_neurons(name)
    chem = connectome_matrix(names, name=name, kind="chemical")  # [pre, post]
    gap = connectome_matrix(names, name=name, kind="electrical")
    inhibitory = set(gabaergic)
    sign = np.array([-1.0 if n in inhibitory else 1.0 for n in names])
    W = (sign[:, None] * chem + gap).T
    np.fill_diagonal(W, 0.0)
    if balance:
        W = balance_inhibition(W, "row_offset" if balance is True else balance)
    return W, names


def celegans_init(name: str = "witvliet_2020_8", gain: float = DEFAULT_GAIN,
                  neurons: Sequence[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """C. elegans connectome init scaled to ``‖W‖_F = g √N`` (signs: see module docstring)."""
    W, names = celegans_weights(name, neurons)
    return rescale(W, target_norm(len(names), gain)), names


def v1_cell_types(n: int, fractions: dict[str, float] | None = None) -> list[str]:
    """Cell type of each of ``n`` units, in blocks, counts by largest remainder."""
    fractions = dict(V1_TYPE_FRACTIONS if fractions is None else fractions)
    types = list(fractions)
    share = np.array([fractions[t] for t in types], dtype=float)
    if np.any(share < 0) or share.sum() <= 0:
        raise InvalidInputError("cell-type fractions must be non-negative with a positive sum",
                                field="fractions")
    exact = share / share.sum() * n
    counts = np.floor(exact).astype(int)
    counts[np.argsort(-(exact - counts))[: n - counts.sum()]] += 1
    return [t for t, c in zip(types, counts) for _ in range(c)]


def v1_init(n: int = 300, gain: float = DEFAULT_GAIN, random_state=None, lognormal_sigma: float = 1.0,
            pmax=None, fractions: dict[str, float] | None = None,
            balance: bool = True) -> tuple[np.ndarray, list[str]]:
    """Mouse V1 cell-type init with Dale's law and log-normal magnitudes.

    Parameters
    ----------
    n : number of units N.
    gain : target norm ``g √N``.
    random_state : int, numpy Generator or None.
    lognormal_sigma : σ of ``log |w|`` (μ = 0).
    pmax : 19 × 19 DataFrame of connection probabilities, rows presynaptic (default: the
        bundled table, :func:`neurodyn.data.anatomy.load_v1_pmax`).
    fractions : share of units per cell type (default :data:`V1_TYPE_FRACTIONS`).
    balance : scale inhibitory weights so their total equals the excitatory total
        (:func:`balance_inhibition` rule ``scale_inhibitory``, which keeps Dale's law; with
        15 % inhibitory units the factor is close to 1 and no column is inflated).

    Returns
    -------
    W : (N, N) with ``W[post, pre] = sign(type_pre) · Bernoulli(p[type_pre, type_post]) ·
        LogNormal(0, σ²)``, zero diagonal, ``‖W‖_F = g √N``.
    cell_types : the type of each unit.
    """
    from neurodyn.data.anatomy import load_v1_pmax, v1_cell_type_sign

    rng = _rng(random_state)
    pmax = load_v1_pmax() if pmax is None else pmax
    types = v1_cell_types(n, fractions)
    missing = sorted(set(types) - set(pmax.index))
    if missing:
        raise InvalidInputError(f"cell types {missing} not in the connection-probability table",
                                field="fractions")
    p = pmax.loc[types, types].to_numpy(dtype=float)  # [pre, post]
    connected = rng.random((n, n)) < p
    magnitude = rng.lognormal(0.0, lognormal_sigma, (n, n))
    sign = np.array([v1_cell_type_sign(t) for t in types], dtype=float)
    W = (connected * magnitude * sign[:, None]).T  # → [post, pre]
    np.fill_diagonal(W, 0.0)
    if balance:
        W = balance_inhibition(W, "scale_inhibitory")
    return rescale(W, target_norm(n, gain)), types
