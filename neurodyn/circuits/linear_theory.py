"""Two-layer linear network: effective rank of the initial weights vs. kernel movement.

The theory of Liu et al. (ICLR 2024, Sec. 3, Theorem 1) in its simplest setting: a
network ``f(x) = W2 W1 x`` with ``W1`` (h, d), ``W2`` (1, h), whitened inputs
(``E[x xᵀ] = I_d``), a scalar linear task ``y = βᵀ x`` and gradient descent on
``½ E(f(x) − y)²``, which for whitened inputs is ``½ ‖W2 W1 − βᵀ‖²`` exactly.

The kernel that measures learning is the tangent kernel w.r.t. the readout ``W2``,
``K(x, x') = xᵀ W1ᵀ W1 x' = xᵀ M x'`` (the hidden-layer kernel; the part of the NTK from
``W1`` is ``‖W2‖² xᵀx'``, isotropic for a scalar output, and is reported separately).  For
whitened inputs the kernel alignment between init and end of training is the cosine of
the ``M`` matrices.  From a small initial scale σ, training ends rich with
``M(T) ≈ ‖β‖ β̂β̂ᵀ``, hence ``KA ≈ β̂ᵀ M0 β̂ / ‖M0‖_F``, and averaged over random task
directions β̂ (uniform on the sphere, ``E[β̂ β̂ᵀ] = I/d``)::

    E[KA] ≈ tr(M0) / (d ‖M0‖_F) = √PR(M0) / d,     PR(M0) = (Σλ)² / Σλ²,

so a higher effective rank of ``W1(0)`` means less kernel movement (lazier).  The
exception: an init aligned with the task, ``W1(0) = σ u β̂ᵀ``, has ``M0 ∝ β̂β̂ᵀ`` and
``KA ≈ 1`` (lazy) despite rank 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neurodyn.errors import InvalidInputError


def participation_ratio_of_init(W1) -> float:
    """``PR(M0) = (tr M0)² / ‖M0‖_F²`` for ``M0 = W1ᵀ W1``."""
    lam = np.linalg.svd(np.asarray(W1, dtype=float), compute_uv=False) ** 2
    return float(lam.sum() ** 2 / np.sum(lam**2))


def predicted_kernel_alignment(W1) -> float:
    """Theory: ``E[KA] ≈ √PR(M0) / d`` for small initial scale (d = input dimension)."""
    W1 = np.asarray(W1, dtype=float)
    return float(np.sqrt(participation_ratio_of_init(W1)) / W1.shape[1])


def low_rank_first_layer(n_hidden: int, d: int, rank: int, sigma: float, random_state=None) -> np.ndarray:
    """``W1(0)`` (h, d): a Gaussian draw truncated to ``rank``, Frobenius norm ``σ √h``."""
    if not 1 <= int(rank) <= min(n_hidden, d):
        raise InvalidInputError(f"rank must lie in [1, min(h, d)={min(n_hidden, d)}], got {rank}", field="rank")
    rng = np.random.default_rng(random_state)
    G = rng.standard_normal((n_hidden, d)) / np.sqrt(d)
    U, s, Vt = np.linalg.svd(G, full_matrices=False)
    W = (U[:, :rank] * s[:rank]) @ Vt[:rank]
    return W * (sigma * np.sqrt(n_hidden) / np.linalg.norm(W))


def aligned_init(n_hidden: int, beta, sigma: float, random_state=None) -> np.ndarray:
    """The aligned exception ``W1(0) = σ √h · u β̂ᵀ`` (u a random unit vector)."""
    rng = np.random.default_rng(random_state)
    beta = np.asarray(beta, dtype=float).ravel()
    u = rng.standard_normal(n_hidden)
    u /= np.linalg.norm(u)
    return sigma * np.sqrt(n_hidden) * np.outer(u, beta / np.linalg.norm(beta))


def train_linear(W1, W2, beta, lr: float = 0.05, n_steps: int = 3000):
    """Gradient descent on ``½ ‖W2 W1 − βᵀ‖²`` (whitened inputs).

    Parameters
    ----------
    W1 : (h, d); W2 : (1, h); beta : (d,) task vector.

    Returns
    -------
    W1, W2 after training, and the final loss.
    """
    W1 = np.array(W1, dtype=float)
    W2 = np.array(W2, dtype=float)
    target = np.asarray(beta, dtype=float).reshape(1, -1)
    for _ in range(int(n_steps)):
        err = W2 @ W1 - target  # (1, d)
        g1 = W2.T @ err
        g2 = err @ W1.T
        W1 -= lr * g1
        W2 -= lr * g2
        if not np.all(np.isfinite(W1)):
            raise InvalidInputError(f"gradient descent diverged; lower lr (got {lr})", field="lr")
    err = W2 @ W1 - target
    return W1, W2, float(0.5 * np.sum(err**2))


def _cosine(A, B) -> float:
    return float(np.sum(A * B) / (np.linalg.norm(A) * np.linalg.norm(B)))


def kernel_alignments(W1_0, W2_0, W1_T, W2_T) -> tuple[float, float]:
    """``(KA of the W2-kernel xᵀW1ᵀW1x', KA of the full NTK)`` for whitened inputs."""
    d = W1_0.shape[1]
    M0, MT = W1_0.T @ W1_0, W1_T.T @ W1_T
    ntk0 = M0 + np.sum(W2_0**2) * np.eye(d)
    ntkT = MT + np.sum(W2_T**2) * np.eye(d)
    return _cosine(M0, MT), _cosine(ntk0, ntkT)


def linear_theory_experiment(d: int = 16, n_hidden: int = 64, ranks: Sequence[int] = (1, 2, 4, 8, 16),
                             sigma: float = 1e-3, n_tasks: int = 20, lr: float = 0.05, n_steps: int = 3000,
                             random_state: int | np.random.Generator | None = 0):
    """Simulated kernel alignment vs. the theory, over ranks of ``W1(0)`` and the aligned init.

    For each rank, one ``W1(0)`` (Frobenius norm σ√h) and ``W2(0) = σ · randn(1, h)``
    are trained on ``n_tasks`` random tasks ``β ~ N(0, I_d)``; the aligned init is built
    per task.

    Returns
    -------
    xarray.Dataset over ``init`` (``rank_<r>`` … and ``aligned``) with ``rank``,
    ``participation_ratio``, ``theory`` (√PR/d; 1 for aligned), ``kernel_alignment``
    (task, init), ``ntk_alignment`` (task, init) and ``final_loss`` (task, init).
    """
    import xarray as xr

    if not 0 < sigma:
        raise InvalidInputError(f"sigma must be > 0, got {sigma}", field="sigma")
    ranks = [int(r) for r in ranks]
    rng_init, rng_task = np.random.default_rng(random_state).spawn(2)
    names = [f"rank_{r}" for r in ranks] + ["aligned"]
    firsts = [low_rank_first_layer(n_hidden, d, r, sigma, rng_init) for r in ranks]
    W2_0 = sigma * rng_init.standard_normal((1, n_hidden))
    betas = rng_task.standard_normal((n_tasks, d))
    ka = np.zeros((n_tasks, len(names)))
    ntk = np.zeros_like(ka)
    loss = np.zeros_like(ka)
    pr_aligned = []
    for i, beta in enumerate(betas):
        inits = firsts + [aligned_init(n_hidden, beta, sigma, rng_init)]
        for j, W1_0 in enumerate(inits):
            W1_T, W2_T, loss[i, j] = train_linear(W1_0, W2_0, beta, lr, n_steps)
            ka[i, j], ntk[i, j] = kernel_alignments(W1_0, W2_0, W1_T, W2_T)
        pr_aligned.append(participation_ratio_of_init(inits[-1]))
    pr = np.array([participation_ratio_of_init(W) for W in firsts] + [float(np.mean(pr_aligned))])
    theory = np.array([predicted_kernel_alignment(W) for W in firsts] + [1.0])
    return xr.Dataset(
        {
            "rank": ("init", np.array(ranks + [1])),
            "participation_ratio": ("init", pr),
            "theory": ("init", theory),
            "kernel_alignment": (("task", "init"), ka),
            "ntk_alignment": (("task", "init"), ntk),
            "final_loss": (("task", "init"), loss),
        },
        coords={"init": names, "task": np.arange(n_tasks)},
        attrs={"d": d, "n_hidden": n_hidden, "sigma": sigma, "lr": lr, "n_steps": n_steps,
               "description": "two-layer linear network: kernel alignment vs. sqrt(PR(M0))/d "
                              "(Liu et al., ICLR 2024, Theorem 1)"},
    )


def theory_table(ds):
    """One row per init: rank, PR(M0), theory √PR/d, simulated KA mean ± s.d., full-NTK KA."""
    import pandas as pd

    return pd.DataFrame({
        "init": ds["init"].values,
        "rank": ds["rank"].values,
        "participation_ratio": ds["participation_ratio"].values,
        "theory_kernel_alignment": ds["theory"].values,
        "kernel_alignment_mean": ds["kernel_alignment"].mean("task").values,
        "kernel_alignment_sd": ds["kernel_alignment"].std("task", ddof=1).values,
        "ntk_alignment_mean": ds["ntk_alignment"].mean("task").values,
        "final_loss_max": ds["final_loss"].max("task").values,
        "n_tasks": ds.sizes["task"],
    })
