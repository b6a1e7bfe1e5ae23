"""Our masked HALS NTF against tensorly's ``non_negative_parafac_hals`` on the same tensor.

Both start from the same random factors and run the same number of outer iterations
(tolerance off), on float32 numpy, one after the other in one process; tensorly's HALS makes up to 5 inner sweeps per
factor, as ours does (``n_inner=5``).  Reported: wall and CPU time of each (CPU time,
all threads, is the steadier measure on a shared machine), the ratios, and the
final relative error ``‖X − X̂‖ / ‖X‖`` of each, computed the same way from the returned
factors.  tensortools' ``ncp_hals`` is added when it is installed.

The default tensor has the paper's shape (240 windows × 21 worms × 5886 pairs of 109
neurons, rank 15, Dyballa et al. ICLR 2024): a planted non-negative rank-15 tensor plus
non-negative noise.  ``--small`` uses 120 × 21 × 1000 for a quick check.  tensortools
(numba) is timed after a warm-up call that compiles its kernels; its stopping rule runs
``max_iter`` + 1 sweeps.

    python benchmarks/ntf_vs_tensorly.py            # paper size, a few minutes
    python benchmarks/ntf_vs_tensorly.py --small
"""

from __future__ import annotations

import argparse
import importlib.util
import time

import numpy as np


def planted_tensor(shape, rank, seed=0, noise=0.1):
    rng = np.random.default_rng(seed)
    factors = [rng.uniform(size=(n, rank)) ** 3 for n in shape]
    x = np.einsum("ir,jr,kr->ijk", *factors)
    x += noise * x.mean() * rng.uniform(size=shape)
    return x.astype(np.float32)


def rel_error(x, weights, factors):
    a, b, c = factors
    xhat = np.einsum("r,ir,jr,kr->ijk", np.asarray(weights, dtype=np.float64), a, b, c, optimize=True)
    return float(np.linalg.norm(x - xhat) / np.linalg.norm(x))


def run_ours(x, rank, init, n_iter):
    from neurodyn.connectome.ntf import non_negative_cp_hals

    t0, c0 = time.perf_counter(), time.process_time()
    res = non_negative_cp_hals(x, rank, init=[f.copy() for f in init], max_iter=n_iter, tol=0.0, n_inner=5)
    return time.perf_counter() - t0, time.process_time() - c0, rel_error(x, res.weights, res.factors)


def run_tensorly(x, rank, init, n_iter):
    import tensorly as tl
    from tensorly.cp_tensor import CPTensor
    from tensorly.decomposition import non_negative_parafac_hals

    tl.set_backend("numpy")
    start = CPTensor((np.ones(rank, dtype=x.dtype), [f.copy() for f in init]))
    t0, c0 = time.perf_counter(), time.process_time()
    cp = non_negative_parafac_hals(x, rank, n_iter_max=n_iter, init=start, tol=0)
    return time.perf_counter() - t0, time.process_time() - c0, rel_error(x, cp.weights, cp.factors)


def run_tensortools(x, rank, init, n_iter):
    import tensortools as tt

    # Compile its numba kernels first, so the timing is of the iterations only.
    small = np.random.default_rng(0).uniform(size=(4, 3, 5)).astype(x.dtype)
    tt.ncp_hals(small, 2, max_iter=2, verbose=False)
    t0, c0 = time.perf_counter(), time.process_time()
    res = tt.ncp_hals(x, rank, init=tt.KTensor([f.copy() for f in init]), max_iter=n_iter, min_iter=n_iter,
                      tol=0, verbose=False)
    return time.perf_counter() - t0, time.process_time() - c0, rel_error(x, np.ones(rank), list(res.factors.factors))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="120 x 21 x 1000 instead of 240 x 21 x 5886")
    parser.add_argument("--rank", type=int, default=15)
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    shape = (120, 21, 1000) if args.small else (240, 21, 5886)
    x = planted_tensor(shape, args.rank, args.seed)
    rng = np.random.default_rng(args.seed + 1)
    scale = (float(x.mean()) / (args.rank / 8.0)) ** (1 / 3)
    init = [(scale * rng.uniform(size=(n, args.rank))).astype(np.float32) for n in shape]
    rows = [("neurodyn HALS", *run_ours(x, args.rank, init, args.iterations)),
            ("tensorly non_negative_parafac_hals", *run_tensorly(x, args.rank, init, args.iterations))]
    if importlib.util.find_spec("tensortools") is not None:
        rows.append(("tensortools ncp_hals", *run_tensortools(x, args.rank, init, args.iterations)))
    base_t, base_c, base_e = rows[0][1:]
    print(f"tensor {shape}, rank {args.rank}, {args.iterations} iterations, float32, numpy backend")
    print(f"{'method':36s} {'wall (s)':>9s} {'wall / ours':>11s} {'CPU (s)':>8s} {'CPU / ours':>10s} "
          f"{'rel. error':>11s} {'error / ours':>12s}")
    for name, t, c, e in rows:
        print(f"{name:36s} {t:9.2f} {t / base_t:11.2f} {c:8.2f} {c / base_c:10.2f} {e:11.5f} {e / base_e:12.4f}")


if __name__ == "__main__":
    main()
