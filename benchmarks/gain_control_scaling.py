"""Gain-control scaling: closed-form optimal gains vs the numerical optimiser, per backend,
and the cost of synaptic adaptation, as the population grows.

For each population size N (ensembles on the fine grid, so the stimulus count S ≥ N):

Times are CPU seconds of this process (best of ``--repeats``).

* ``closed_form_s``   — one solve of the Hadamard system (4) of docs/gain_control.md,
  per available backend (numpy; torch CPU; torch CUDA when a GPU is visible);
* ``numerical_s``     — Newton-CG on the response-based objective (numpy), and the
  relative difference of its gains from the closed form;
* ``synaptic_s`` / ``synaptic_steps`` — homeostatic re-weighting of the N² recurrent
  weights to tolerance 1e-3 (only up to ``--synaptic-max-n``).

    .venv/bin/python benchmarks/gain_control_scaling.py --sizes 20 60 180 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from neurodyn.backend import Backend, available_backends, cuda_available, to_numpy
from neurodyn.circuits.gain_control import (
    GainControlParams,
    build_network,
    homeostatic_weights,
    optimal_gains,
    optimal_gains_numerical,
    steady_state_operator,
)
from neurodyn.circuits.gain_control.model import ensemble


def _best_of(fn, repeats):
    # CPU time of this process: on a shared machine wall time mostly measures the neighbours.
    times = []
    for _ in range(repeats):
        t = time.process_time()
        out = fn()
        times.append(time.process_time() - t)
    return min(times), out


def bench(n, repeats, synaptic_max_n, n_per_bin):
    params = GainControlParams(n_neurons=n, ensemble_grid="fine", n_per_bin=n_per_bin)
    row = {"n_neurons": n}
    backends = [Backend("numpy")] + ([Backend("torch", "cpu")] if "torch" in available_backends() else [])
    if cuda_available():
        backends.append(Backend("torch", "cuda"))
    reference = None
    for be in backends:
        net = build_network(params, "recurrent", be)
        p = ensemble(params, net, 0.5)
        m = steady_state_operator(net.weights)
        seconds, g = _best_of(lambda: to_numpy(optimal_gains(m, net.drive, p, params.tradeoff)), repeats)
        key = be.name if be.name == "numpy" else f"{be.name}_{be.device}"
        row[f"closed_form_s_{key}"] = seconds
        row["n_stimuli"] = int(net.drive.shape[1])
        if reference is None:
            reference, net_np, p_np, m_np = g, net, p, m
        else:
            row[f"max_rel_diff_{key}"] = float(np.max(np.abs(g - reference)) / np.max(np.abs(reference)))
    seconds, g_num = _best_of(lambda: optimal_gains_numerical(m_np, net_np.drive, p_np, params.tradeoff), 1)
    row["numerical_s"] = seconds
    row["numerical_max_rel_diff"] = float(np.max(np.abs(g_num - reference)) / np.max(np.abs(reference)))
    if n <= synaptic_max_n:
        pu = ensemble(params, net_np, 0.0)
        gu = optimal_gains(m_np, net_np.drive, pu, params.tradeoff)
        t = time.process_time()
        res = homeostatic_weights(net_np.weights, gu, net_np.drive, p_np, pu, params.synaptic_rate, 5000, 1e-3)
        row["synaptic_s"], row["synaptic_steps"] = time.process_time() - t, res.n_iter
        row["synaptic_converged"] = bool(res.converged)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 60, 180])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--synaptic-max-n", type=int, default=60)
    parser.add_argument("--n-per-bin", type=int, default=9)
    parser.add_argument("--out", default=None, help="optional JSON file for the rows")
    args = parser.parse_args()
    rows = [bench(n, args.repeats, args.synaptic_max_n, args.n_per_bin) for n in args.sizes]
    for row in rows:
        print(json.dumps(row))
    if args.out:
        from neurodyn.io import write_json

        write_json(rows, args.out)


if __name__ == "__main__":
    main()
