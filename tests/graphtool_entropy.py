"""Run by a system Python that has graph-tool: entropies of fixed partitions.

Usage: ``python3 graphtool_entropy.py IN.npz OUT.json [IN2.npz OUT2.json ...]``.  ``IN.npz`` holds ``n``, ``i``,
``j`` (edges), ``x`` (covariate per edge) and ``levels_<k>`` (hierarchies: level-0 labels
first, each next level labelling the blocks of the one below, ending with one group), with
``rec_type`` and ``deg_corr``.  Writes per hierarchy the flat ``BlockState`` entropy of
level 0 (default arguments), its terms, and the ``NestedBlockState`` entropy.
"""

import json
import sys

import graph_tool.all as gt
import numpy as np


def run(src, dst):
    data = np.load(src, allow_pickle=False)
    n = int(data["n"])
    g = gt.Graph(directed=False)
    g.add_vertex(n)
    g.add_edge_list(np.c_[data["i"], data["j"]])
    rec = g.new_ep("double")
    rec.a = data["x"]
    rec_type = str(data["rec_type"])
    deg_corr = bool(data["deg_corr"])
    kw = dict(recs=[rec], rec_types=[rec_type]) if rec_type != "none" else {}
    out = []
    k = 0
    while f"levels_{k}" in data.files:
        flat = data[f"levels_{k}"]
        sizes = data[f"sizes_{k}"]
        bs, start = [], 0
        for s in sizes:
            bs.append(np.asarray(flat[start:start + s], dtype=np.int64))
            start += s
        st = gt.BlockState(g, b=g.new_vp("int", vals=bs[0]), deg_corr=deg_corr, **kw)
        row = {"flat": st.entropy(),
               "flat_uniform": st.entropy(degree_dl_kind="uniform"),
               "adjacency": st.entropy(dl=False, recs=False),
               "partition": st.entropy(adjacency=False, degree_dl=False, edges_dl=False, recs=False, recs_dl=False),
               "degrees": st.entropy(adjacency=False, partition_dl=False, edges_dl=False, recs=False, recs_dl=False),
               "edges": st.entropy(adjacency=False, partition_dl=False, degree_dl=False, recs=False, recs_dl=False),
               "weights": st.entropy(adjacency=False, dl=False, recs=True) if kw else 0.0}
        nst = gt.NestedBlockState(g, bs=bs, state_args=dict(deg_corr=deg_corr, **kw))
        row["nested"] = nst.entropy()
        row["nested_uniform"] = nst.entropy(degree_dl_kind="uniform")
        # The levels alone: ``entropy()`` adds, for real-normal covariates, a term for the
        # precision of the residual variances (``_Lrecdx_entropy``) that the library omits.
        row["levels_uniform"] = sum(nst.level_entropy(lv, degree_dl_kind="uniform") for lv in range(len(bs)))
        # Level 0 without its flat description of the pair sums (described by level 1).
        row["levels_uniform_once"] = (nst.level_entropy(0, degree_dl_kind="uniform", recs_dl=False)
                                      + sum(nst.level_entropy(lv) for lv in range(1, len(bs))))
        if not kw and deg_corr:
            pp = gt.PPBlockState(g, b=g.new_vp("int", vals=bs[0]))
            row["planted_partition"] = pp.entropy()
            row["planted_partition_uniform"] = pp.entropy(degree_dl_kind="uniform")
        out.append(row)
        k += 1
    with open(dst, "w") as fh:
        json.dump(out, fh)


for k in range(1, len(sys.argv), 2):
    run(sys.argv[k], sys.argv[k + 1])
