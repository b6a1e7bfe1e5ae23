"""Nested weighted SBM of graph-tool on one graph, for ``community_lfr.py``.

Runs under the interpreter that has graph-tool (Debian's ``python3-graph-tool`` for
``/usr/bin/python3``), not the project's virtual environment, so it needs only numpy and
graph-tool.  Reads an ``.npz`` with ``edges`` (m, 2), ``weights`` (m,) and ``n_nodes``;
fits ``minimize_nested_blockmodel_dl`` (degree-corrected, edge weights as a
real-exponential covariate, as in Dyballa et al. 2024) and writes an ``.npz`` with the
level-0 ``labels``, the number of non-empty groups per level, the description length and
the fit's wall time.

    /usr/bin/python3 benchmarks/graph_tool_nested_sbm.py graph.npz out.npz SEED
    /usr/bin/python3 benchmarks/graph_tool_nested_sbm.py --check    # exit 0 when graph-tool imports
"""

import sys
import time

import numpy as np


def main(argv):
    import graph_tool.all as gt

    if argv[1:] == ["--check"]:
        print(gt.__version__)
        return 0
    source, target, seed = argv[1], argv[2], int(argv[3])
    data = np.load(source, allow_pickle=False)
    np.random.seed(seed)
    gt.seed_rng(seed)
    g = gt.Graph(directed=False)
    g.add_vertex(int(data["n_nodes"]))
    g.add_edge_list(np.asarray(data["edges"], dtype=np.int64))
    weight = g.new_edge_property("double")
    weight.a = np.asarray(data["weights"], dtype=float)
    t0 = time.perf_counter()
    state = gt.minimize_nested_blockmodel_dl(
        g, state_args=dict(recs=[weight], rec_types=["real-exponential"], deg_corr=True))
    elapsed = time.perf_counter() - t0
    levels = state.get_levels()
    labels = np.asarray(levels[0].get_blocks().a, dtype=np.int64)
    groups = [int(level.get_nonempty_B()) for level in levels]
    np.savez(target, labels=labels, groups_per_level=np.asarray(groups), description_length=state.entropy(),
             time_s=elapsed, version=gt.__version__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
