"""Measures of rich vs. lazy learning, on a fixed probe set drawn before training.

Definitions follow Liu et al. (ICLR 2024, Sec. 3 "Measures"):

* weight change ``‖W_h(T) − W_h(0)‖_F / ‖W_h(0)‖_F``;
* representation alignment ``RA = ⟨K0, KT⟩_F / (‖K0‖_F ‖KT‖_F)`` with ``K = H Hᵀ`` and
  ``H`` (B, N) the hidden states of the probe trials at the decision step;
* tangent-kernel alignment ``KA``: the same cosine for ``K = J Jᵀ``, ``J`` the Jacobian of
  every output (all steps × probe trials × outputs) w.r.t. ``W_h``
  (:func:`neurodyn.circuits.rnn.tangent_kernel`);
* effective rank of ``ΔW_h`` (:func:`neurodyn.circuits.inits.effective_rank`, and the
  participation ratio).

Low alignment (large movement) is the rich regime, alignment near 1 the lazy one.
"""

from __future__ import annotations

from neurodyn.backend import get_namespace, to_numpy
from neurodyn.circuits import rnn
from neurodyn.circuits.inits import effective_rank, participation_ratio


def alignment(K0, KT) -> float:
    """Cosine similarity of two kernels ``⟨K0, KT⟩_F / (‖K0‖_F ‖KT‖_F)``."""
    xp = get_namespace(K0, KT)
    num = xp.sum(K0 * KT)
    den = xp.sqrt(xp.sum(K0 * K0) * xp.sum(KT * KT))
    return float(num / den)


def weight_change(W0, WT, relative: bool = True) -> float:
    """``‖WT − W0‖_F`` (divided by ``‖W0‖_F`` when ``relative``)."""
    xp = get_namespace(W0, WT)
    change = xp.sqrt(xp.sum((WT - W0) ** 2))
    if relative:
        change = change / xp.sqrt(xp.sum(W0 * W0))
    return float(change)


def representation_kernel(params: dict, probe_x, alpha: float = 1.0, step: int = -1):
    """``K = H Hᵀ`` (B, B) of the hidden states ``H`` (B, N) at ``step`` (the decision step)."""
    H = rnn.forward(params, probe_x, alpha).h[step]
    return H @ H.T


def representation_alignment(params0: dict, paramsT: dict, probe_x, alpha: float = 1.0,
                             step: int = -1) -> float:
    """RA between the representation kernels before and after training."""
    return alignment(representation_kernel(params0, probe_x, alpha, step),
                     representation_kernel(paramsT, probe_x, alpha, step))


def kernel_alignment(params0: dict, paramsT: dict, probe_x, alpha: float = 1.0) -> float:
    """KA between the tangent kernels (outputs w.r.t. ``W_h``) before and after training."""
    return alignment(rnn.tangent_kernel(params0, probe_x, alpha), rnn.tangent_kernel(paramsT, probe_x, alpha))


def regime_metrics(params0: dict, paramsT: dict, probe_x, alpha: float = 1.0, step: int = -1,
                   kernel_x=None) -> dict[str, float]:
    """All regime measures between two parameter sets on the probe inputs (T, B, n_in).

    RA is measured on all of ``probe_x``; KA on ``kernel_x`` (default: ``probe_x``), which
    can be a subset, since the tangent kernel has T · B · outputs rows.

    Returns
    -------
    dict with ``weight_change`` (relative), ``weight_change_abs``,
    ``representation_alignment``, ``kernel_alignment``, ``delta_effective_rank``
    (``Σσ/(σ_1 N)`` of ΔW_h) and ``delta_participation_ratio``.
    """
    W0, WT = params0["W_h"], paramsT["W_h"]
    delta = to_numpy(WT - W0)
    moved = bool(abs(delta).max() > 0)
    return {
        "weight_change": weight_change(W0, WT),
        "weight_change_abs": weight_change(W0, WT, relative=False),
        "representation_alignment": representation_alignment(params0, paramsT, probe_x, alpha, step),
        "kernel_alignment": kernel_alignment(params0, paramsT, probe_x if kernel_x is None else kernel_x, alpha),
        "delta_effective_rank": effective_rank(delta) if moved else 0.0,
        "delta_participation_ratio": participation_ratio(delta) if moved else 0.0,
    }
