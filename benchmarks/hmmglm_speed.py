"""Fit time to convergence of the HMM-GLM: L-BFGS with analytic gradients (numpy, this
package) against a torch-autograd implementation of the same objective optimised by
Adam (lr 0.01, 50 steps per E-step, as in the reference implementation of Li et al.,
ICLR 2024).

Both fit the Gaussian-prior model (GHG, a deterministic objective) on the same data of
the paper's synthetic protocol, from the same initial parameters, with the same E-step
(exact forward–backward, numpy) and the same stopping rule (the EM objective
``ln p(x) + ln p(θ)`` changes by less than ``tol`` relative to its value). dtypes: numpy
float64; torch float32 by default (as the authors run it; ``--torch-dtype float64`` for
the other; numpy: see below). Reported: wall time, EM iterations, final training objective and held-out
log-likelihood per bin. The numpy side's truncated M-steps (the default) run in float32,
each accepted only if the exact float64 objective improves. The one-hot model against the authors' own code:
``benchmarks/hmmglm_vs_authors.py``.

    .venv/bin/python benchmarks/hmmglm_speed.py --seed 0 --n-train 5 --n-test 2
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from threadpoolctl import threadpool_limits

from neurodyn.states.emissions import emission_log_likelihood, exponential_basis, poisson_constant
from neurodyn.states.model import POSTERIOR_FLOOR, HMMGLM, HMMGLMParams, _e_step, fit_hmmglm, prepare_sequences
from neurodyn.states.synthetic import paper_dataset


def torch_adam_fit(train, init: HMMGLMParams, *, sigma=1 / 3, lr=0.01, steps=50, max_iter=300, tol=1e-6,
                   link="sigmoid", dtype="float32"):
    import torch

    tdt = getattr(torch, dtype)

    torch.set_num_threads(1)
    from neurodyn.states.emissions import PoissonGLM

    basis = exponential_basis(5)
    X, H, lengths = prepare_sequences(train, basis)
    S = init.log_transmat.shape[0]
    n = X.shape[0]
    Xt, Ht = torch.tensor(X, dtype=tdt), torch.tensor(H, dtype=tdt)
    W = torch.tensor(init.prior["W"], dtype=tdt, requires_grad=True)
    W0 = torch.tensor(init.prior["W0"], dtype=tdt, requires_grad=True)
    b = torch.tensor(init.bias[0], dtype=tdt, requires_grad=True)
    opt = torch.optim.Adam([W, W0, b], lr=lr)
    log_pi0, log_A = init.log_initial.copy(), init.log_transmat.copy()
    em = PoissonGLM(link)
    x_const = poisson_constant(X)
    history = []
    for it in range(max_iter + 1):
        Wn, W0n = W.detach().double().numpy(), W0.detach().double().numpy()
        bn = np.broadcast_to(b.detach().double().numpy(), (S, X.shape[1]))
        ll = emission_log_likelihood(em, X, H, Wn, bn, None, x_const)
        seq_ll, gamma, xi, first = _e_step(ll, lengths, log_pi0, log_A)
        obj = float(seq_ll.sum() - 0.5 * ((Wn - W0n) ** 2).sum() / sigma**2)
        history.append(obj)
        if it == max_iter or (it > 0 and abs(history[-1] - history[-2]) <= tol * abs(history[-2])):
            break
        log_A = np.log(np.maximum(xi, 1e-300) / np.maximum(xi, 1e-300).sum(1, keepdims=True))
        log_pi0 = np.log(np.maximum(first / first.sum(), 1e-300))
        g = torch.tensor(gamma, dtype=tdt)
        for _ in range(steps):
            opt.zero_grad()
            eta = torch.einsum("tj,snj->tsn", Ht, W) + b
            lam = (1 - 1e-8) * torch.sigmoid(eta) + 1e-8
            q = (g[:, :, None] * (Xt[:, None, :] * torch.log(lam) - lam)).sum()
            loss = -(q - 0.5 * ((W - W0) ** 2).sum() / sigma**2) / n
            loss.backward()
            opt.step()
    bias = np.tile(b.detach().double().numpy(), (S, 1))
    return HMMGLMParams(log_pi0, log_A, bias, {"W": W.detach().double().numpy(), "W0": W0.detach().double().numpy()},
                        None, history)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-train", type=int, default=5)
    ap.add_argument("--n-test", type=int, default=2)
    ap.add_argument("--n-time", type=int, default=2000)
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument("--m-step-iter", type=int, default=10, help="L-BFGS iterations per M-step (numpy)")
    ap.add_argument("--m-step-floor", type=float, default=None,
                    help="posterior floor of the truncated M-step (numpy; default: the library's)")
    ap.add_argument("--max-iter-torch", type=int, default=300)
    ap.add_argument("--torch-dtype", default="float32", choices=["float32", "float64"],
                    help="dtype of the torch side (the authors' code runs float32)")
    ap.add_argument("--out", default=None, help="optional JSON file for the numbers")
    args = ap.parse_args()

    truth, train, test = paper_dataset(args.seed, args.n_train, args.n_test, args.n_time)
    xs, xt = [x for x, _ in train], [x for x, _ in test]
    n_test = sum(len(x) for x in xt)
    common = dict(link="sigmoid", prior="gaussian", prior_kwargs={"sigma": 1 / 3}, random_state=args.seed, log_every=0)

    def model_from(p):
        m = HMMGLM(5, **common)
        m._set(p)
        return m

    floor = {} if args.m_step_floor is None else {"m_step_floor": args.m_step_floor}
    # One thread for both (torch sets its own), so that the ratio compares algorithms.
    with threadpool_limits(1):
        t0 = time.perf_counter()
        init = fit_hmmglm(xs, 5, max_iter=0, **common)
        t_init = time.perf_counter() - t0

        t0 = time.perf_counter()
        p_np = fit_hmmglm(xs, 5, max_iter=500, m_step_iter=args.m_step_iter, tol=args.tol, **floor, **common)
        t_np = time.perf_counter() - t0

        t0 = time.perf_counter()
        p_t = torch_adam_fit(xs, init, max_iter=args.max_iter_torch, tol=args.tol, dtype=args.torch_dtype)
        t_t = time.perf_counter() - t0 + t_init  # same initialisation cost charged to both

    res = {
        "data": {"seed": args.seed, "n_train": args.n_train, "n_test": args.n_test, "n_time": args.n_time},
        "threads": 1,
        "init_seconds": t_init,
        "numpy_lbfgs": {
            "dtype": "float64 (truncated M-steps float32)",
            "m_step_iter": args.m_step_iter,
            "m_step_floor": floor.get("m_step_floor", POSTERIOR_FLOOR),
            "seconds": t_np,
            "em_iterations": len(p_np.history) - 1,
            "train_objective_per_bin": p_np.history[-1] / sum(map(len, xs)),
            "heldout_ll_per_bin": model_from(p_np).score(xt) / n_test,
        },
        "torch_adam": {
            "dtype": args.torch_dtype,
            "seconds": t_t,
            "em_iterations": len(p_t.history) - 1,
            "train_objective_per_bin": p_t.history[-1] / sum(map(len, xs)),
            "heldout_ll_per_bin": model_from(p_t).score(xt) / n_test,
        },
    }
    res["speedup"] = t_t / t_np
    print(json.dumps(res, indent=2))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
