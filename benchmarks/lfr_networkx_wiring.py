"""Realised mixing and mean degree: networkx's LFR wiring against ``weighted_lfr_graph``.

For the settings of ``community_lfr.py`` (120 and 1000 nodes, μ_t ∈ {0.1, 0.3, 0.5}, seeds
0–4), the graph ``networkx.LFR_benchmark_graph`` itself returns for the seed that
:func:`neurodyn.connectome.synthetic.weighted_lfr_graph` used (same degree sequence and
communities), and the graph ``weighted_lfr_graph`` wires from them: realised μ_t (mean over
nodes of k_out / k, self-loops dropped), mean degree, and the number of self-loops networkx
made.  Writes ``benchmarks/results/lfr_networkx_wiring.csv``.

    .venv/bin/python benchmarks/lfr_networkx_wiring.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from neurodyn.connectome.synthetic import lfr_min_degree, lfr_mixing, weighted_lfr_graph
from neurodyn.io import write_csv

sys.path.insert(0, str(Path(__file__).resolve().parent))
from community_lfr import SHAPE, SIZES  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "lfr_networkx_wiring.csv"


def main():
    rows = []
    for nodes, size in SIZES.items():
        for mu in (0.1, 0.3, 0.5):
            for seed in range(5):
                ours = weighted_lfr_graph(nodes, mu=mu, random_state=seed, **size, **SHAPE)
                k_min = lfr_min_degree(size["avg_degree"], size["max_degree"], SHAPE["degree_exponent"])
                g = nx.LFR_benchmark_graph(nodes, SHAPE["degree_exponent"], SHAPE["community_exponent"], mu,
                                           min_degree=k_min, max_degree=size["max_degree"],
                                           min_community=size["min_community"], max_community=size["max_community"],
                                           seed=ours.seed)
                loops = nx.number_of_selfloops(g)
                g.remove_edges_from(list(nx.selfloop_edges(g)))
                adj = nx.to_numpy_array(g, nodelist=range(nodes))
                mu_t, _, degree = lfr_mixing(adj, ours.labels)
                rows.append({"nodes": nodes, "mu_t": mu, "seed": seed, "avg_degree_asked": size["avg_degree"],
                             "networkx_mu_t": mu_t, "networkx_mean_degree": degree, "networkx_self_loops": loops,
                             "ours_mu_t": ours.mu_topology, "ours_mean_degree": ours.mean_degree})
    raw = pd.DataFrame(rows)
    write_csv(raw, OUT, index=False, float_format="%.4g")
    print(raw.groupby(["nodes", "mu_t"])[["networkx_mu_t", "ours_mu_t", "networkx_mean_degree", "ours_mean_degree",
                                          "networkx_self_loops"]].agg(["mean", "min", "max"]).round(3).to_string())
    print(f"written to {OUT}")


if __name__ == "__main__":
    main()
