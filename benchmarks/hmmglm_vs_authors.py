"""The one-hot HMM-GLM of neurodyn against the authors' published implementation, side by side.

Li, Kim, Rodgers, Choi & Wu, "One-hot Generalized Linear Model for Switching Brain State
Discovery", ICLR 2024; code at https://github.com/JerrySoybean/onehot-hmmglm. Their package is
imported at run time from ``--authors-repo`` (a checkout of their repository, or a bare git
clone, which is exported to a temporary folder); nothing of it is part of this repository.

Protocol (their demo notebook ``hmmglm/hmmglm/deprecated/demo.ipynb``):

- data: their generator (``OnehotHMMGLM`` with a hard adjacency), S = 5 states, N = 20
  neurons, bounded-sigmoid Poisson, per-pair type probabilities Dirichlet(0.2, 1.6, 0.2),
  strengths softplus(ln 3U) = ln(1 + 3U), bias 0.1 (U − 0.5), transition 0.98 / 0.005,
  50 sequences of T = 2000 bins from ``torch.manual_seed(seed)``: the first 30 train both
  fits, the last 20 are held out (``--quick``: 8 + 4);
- the authors' fit, as their demo runs it: torch CPU float32, bias started at the mean
  count, Adam (lr 0.01), 10 epochs, each a pass over the training sequences with an E-step
  on the sequence and 50 Adam steps on ``−(Q + ln Concrete(softmax L; A0, τ))`` with a
  fresh Gumbel-softmax sample of the types in every step and their logit correction
  (``correct_extreme_onehot``) after it; evaluation with the hard argmax types;
- neurodyn: ``HMMGLM(5, prior="onehot", link="sigmoid", random_state=seed)`` with library
  defaults (no setting changed for this data), float64 (its truncated M-steps float32);
- both on the same machine, with the same number of threads (``--threads``: torch
  ``set_num_threads`` and the BLAS/OpenMP variables, set before numpy and torch load).

Both fitted models are scored by the same code (neurodyn's forward–backward and Viterbi on
the held-out sequences, with each model's hard weights, bias, transition matrix and initial
distribution): held-out ``ln p(X)`` per bin, state accuracy after Hungarian matching,
balanced accuracy of the per-state types (per state and pooled) and of the prior
adjacency (``argmax A0 − 1``) against ``argmax a0 − 1``.

    .venv/bin/python benchmarks/hmmglm_vs_authors.py \
        --authors-repo /work/.mirror/JerrySoybean+onehot-hmmglm/repo --seed 0 \
        --out benchmarks/results/hmmglm_vs_authors_seed0.json
"""

from __future__ import annotations

import argparse
import os
import sys


def _parse():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--authors-repo", required=True,
                    help="checkout or bare git clone of JerrySoybean/onehot-hmmglm")
    ap.add_argument("--seed", type=int, default=0, help="torch seed of the generator (demo: trial 0)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="8 training + 4 held-out sequences")
    ap.add_argument("--n-train", type=int, default=None)
    ap.add_argument("--n-test", type=int, default=None)
    ap.add_argument("--n-time", type=int, default=2000)
    ap.add_argument("--epochs", type=int, default=10, help="authors' demo: 10")
    ap.add_argument("--sub-epochs", type=int, default=50, help="authors' demo: 50 Adam steps per E-step")
    ap.add_argument("--lr", type=float, default=0.01, help="authors' demo: 0.01")
    ap.add_argument("--skip-authors", action="store_true", help="neurodyn only (development)")
    ap.add_argument("--out", default=None, help="JSON file; a CSV of the same rows is written beside it")
    return ap.parse_args()


ARGS = _parse() if __name__ == "__main__" else None
if ARGS is not None:  # thread counts must be fixed before numpy and torch load their libraries
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402


def load_authors(path: str):
    """Import the authors' ``hmmglm.deprecated`` modules from a checkout or bare clone.

    Their package ``__init__`` reads its installed version, so the package object is
    made here and only the submodules are imported from the given folder.

    Returns
    -------
    modules : dict with ``model``, ``distributions``, ``nonlinearities``, ``utils``
    source : dict with the folder and, for a git clone, the commit
    """
    root = Path(path)
    source = {"path": str(root)}
    if not (root / "hmmglm/hmmglm/deprecated/model.py").exists():
        if not ((root / "HEAD").exists() or (root / ".git").exists()):
            raise SystemExit(f"--authors-repo {root}: expected a checkout or git clone of onehot-hmmglm")
        git = ["git", f"--git-dir={root if (root / 'HEAD').exists() else root / '.git'}"]
        source["commit"] = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True,
                                          check=True).stdout.strip()
        tmp = Path(tempfile.mkdtemp(prefix="onehot-hmmglm-"))
        archive = subprocess.run([*git, "archive", "HEAD", "hmmglm/hmmglm"], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
        root = tmp
    pkg_dir = root / "hmmglm/hmmglm"
    pkg = types.ModuleType("hmmglm")
    pkg.__path__ = [str(pkg_dir)]
    sys.modules["hmmglm"] = pkg
    import importlib

    mods = {k: importlib.import_module(f"hmmglm.deprecated.{k}")
            for k in ("model", "distributions", "nonlinearities", "utils")}
    return mods, source


def generate(A, seed: int, n_states: int, n_neurons: int, n_seq: int, n_time: int):
    """The authors' demo generator (cell "Data generation"), through their own classes."""
    import torch
    from torch.distributions.dirichlet import Dirichlet

    basis = A["utils"].exp_basis(decay=1, window_size=5, time_span=5)
    sparsity, p_exc = 1 / 5, 1 / 2
    torch.manual_seed(seed)
    dirichlet = Dirichlet(torch.tensor([sparsity * (1 - p_exc), 1 - sparsity, sparsity * p_exc]) * 2)
    gen = A["model"].OnehotHMMGLM(n_states, n_neurons, basis=basis, distribution=A["distributions"].Poisson(),
                                  activation=A["nonlinearities"].Sigmoid())
    gen._adjacency_prior.data = torch.log(dirichlet.sample(sample_shape=(n_neurons, n_neurons)))
    gen._strength.data = torch.log(3 * torch.rand((n_states, n_neurons, n_neurons)))
    gen.sample_adjacency()
    gen._bias.data = 0.1 * (torch.rand(n_neurons) - 0.5)
    gen.set_adjacency_type("hard")
    spikes, conv, _, states = gen.sample(n_time, n_seq)
    with torch.no_grad():
        truth = {
            "weights": gen.weight.double().numpy(),
            "types": gen.adjacency_index.numpy(),
            "prior_types": (gen._adjacency_prior.argmax(-1) - 1).numpy(),
        }
    return basis, spikes, conv, states, truth


def fit_authors(A, basis, spikes, conv, n_states, epochs, sub_epochs, lr):
    """The authors' one-hot training loop as their demo runs it (float32, Adam)."""
    import torch

    n_neurons = spikes.shape[-1]
    m = A["model"].OnehotHMMGLM(n_states, n_neurons, basis, A["distributions"].Poisson(),
                                A["nonlinearities"].Sigmoid(), A["nonlinearities"].Softplus())
    m._bias.data = spikes.mean(dim=(0, 1))
    opt = torch.optim.Adam(m.parameters(), lr=lr)
    torch.manual_seed(0)
    for _ in range(epochs):
        for x, h in zip(spikes, conv):
            gamma, xi = m.forward_backward(x, h)
            m.set_adjacency_type("gumbel_softmax")
            for _ in range(sub_epochs):
                loss = -m.m_step(x, h, gamma, xi) - m.adjacency_prior_log_likelihood()
                opt.zero_grad()
                loss.backward()
                opt.step()
                m.correct_extreme_onehot()
            m.set_adjacency_type("softmax")
    m.set_adjacency_type("hard")
    with torch.no_grad():
        S = n_states
        return {
            "weights": m.weight.double().numpy(),
            "types": m.adjacency_index.numpy(),
            "bias": m.bias.double().numpy(),
            "log_transmat": np.log(m.transition_matrix.double().numpy()),
            "log_initial": np.full(S, -np.log(S)),  # their forward-backward: uniform start
            "prior_types": (m._adjacency_prior.argmax(-1) - 1).numpy(),
            "dtype": str(m._strength.dtype).replace("torch.", ""),
        }


def score(fitted, test_x, test_z, truth, n_states):
    """Held-out LL per bin, state accuracy, balanced adjacency accuracies (one evaluator for both)."""
    from neurodyn.states import messages, metrics
    from neurodyn.states.emissions import PoissonGLM, emission_log_likelihood, exponential_basis, history_features

    em, basis = PoissonGLM("sigmoid"), exponential_basis(5)
    ll_total, paths = 0.0, []
    for x in test_x:
        ll = emission_log_likelihood(em, x, history_features(x, basis), fitted["weights"], fitted["bias"])
        ll_total += messages.forward_backward(fitted["log_initial"], fitted["log_transmat"], ll).log_likelihood
        paths.append(messages.viterbi(fitted["log_initial"], fitted["log_transmat"], ll))
    z_true, z = np.concatenate(test_z), np.concatenate(paths)
    perm = metrics.match_states(z_true, z, n_states)
    types = np.asarray(fitted["types"])[perm]
    return {
        "heldout_ll_per_bin": float(ll_total) / len(z_true),
        "state_accuracy": metrics.state_accuracy(z_true, z, n_states),
        "adjacency_accuracy": metrics.balanced_accuracy(truth["types"], types),
        "adjacency_accuracy_per_state": [metrics.balanced_accuracy(truth["types"][s], types[s])
                                         for s in range(n_states)],
        "prior_adjacency_accuracy": metrics.balanced_accuracy(truth["prior_types"], fitted["prior_types"]),
        "weight_error": metrics.weight_error(truth["weights"], fitted["weights"], perm),
    }


def main(args):
    import torch
    from threadpoolctl import threadpool_info

    from neurodyn.states.model import HMMGLM

    torch.set_num_threads(args.threads)
    A, source = load_authors(args.authors_repo)
    S, N = 5, 20
    n_train = args.n_train or (8 if args.quick else 30)
    n_test = args.n_test or (4 if args.quick else 20)
    basis, spikes, conv, states, truth = generate(A, args.seed, S, N, n_train + n_test, args.n_time)
    x_np = [s.double().numpy() for s in spikes]
    z_np = [z.numpy() for z in states]
    test_x, test_z = x_np[n_train:], z_np[n_train:]
    rows = {}
    if not args.skip_authors:
        t0 = time.perf_counter()
        fa = fit_authors(A, basis, spikes[:n_train], conv[:n_train], S, args.epochs, args.sub_epochs, args.lr)
        rows["authors"] = {"fit_seconds": time.perf_counter() - t0, "dtype": fa["dtype"],
                           "settings": {"epochs": args.epochs, "adam_steps_per_e_step": args.sub_epochs,
                                        "lr": args.lr, "tau": 0.2},
                           **score(fa, test_x, test_z, truth, S)}
        print("authors", json.dumps(rows["authors"]), flush=True)
    t0 = time.perf_counter()
    m = HMMGLM(S, prior="onehot", link="sigmoid", random_state=args.seed, log_every=0).fit(x_np[:n_train])
    seconds = time.perf_counter() - t0
    fn = {"weights": m.weights_, "types": m.types_, "bias": m.bias_, "log_transmat": m.params_.log_transmat,
          "log_initial": m.params_.log_initial, "prior_types": m.prior_adjacency_}
    rows["neurodyn"] = {"fit_seconds": seconds, "dtype": "float64 (truncated M-steps float32)",
                        "converged": bool(m.converged_),
                        "n_iter": int(m.n_iter_), "settings": "library defaults",
                        **score(fn, test_x, test_z, truth, S)}
    print("neurodyn", json.dumps(rows["neurodyn"]), flush=True)
    res = {
        "data": {"generator": "authors' demo (OnehotHMMGLM.sample)", "seed": args.seed, "n_states": S,
                 "n_neurons": N, "n_train": n_train, "n_test": n_test, "n_time": args.n_time},
        "authors_code": source,
        "threads": args.threads,
        "blas": [{k: i.get(k) for k in ("internal_api", "num_threads")} for i in threadpool_info()],
        "torch_threads": torch.get_num_threads(),
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "torch": torch.__version__,
                    "load_average_at_end": os.getloadavg()},
        **rows,
    }
    if "authors" in rows:
        res["speedup"] = rows["authors"]["fit_seconds"] / rows["neurodyn"]["fit_seconds"]
    print(json.dumps({k: v for k, v in res.items() if k not in rows}, indent=1))
    if args.out:
        from neurodyn.io import write_json  # noqa: F401  (atomic writers of the package)

        out = Path(args.out)
        write_json(res, out)
        flat = [{"side": side, **{k: (json.dumps(v) if isinstance(v, (list, dict)) else v) for k, v in r.items()}}
                for side, r in rows.items()]
        import pandas as pd

        from neurodyn.io import write_csv

        write_csv(pd.DataFrame(flat), out.with_suffix(".csv"), index=False)


if __name__ == "__main__":
    main(ARGS)
