"""The paper's Table 1 (Li et al., ICLR 2024), like for like, for both generators.

For each Dirichlet concentration of the per-pair type probabilities — the paper's text
(0.1, 0.8, 0.1) and the authors' demo (0.2, 1.6, 0.2) — ``--repeats`` planted data sets of
the paper's generator (:func:`neurodyn.states.synthetic.paper_dataset`), each fitted with
GLM, HG, GHG and OHG by :func:`neurodyn.states.benchmark.run_synthetic_repeat` with library
defaults (OHG warm-started from GHG, the library default). HG/GHG types use the paper's
half-extreme rule over all states' weights; the prior metric's headline is the argmax
rule (the balanced rule is an extra column). Writes every repeat and the Table 1 layout
(mean ± sd) per generator.

    .venv/bin/python benchmarks/hmmglm_table1.py --repeats 5 --n-train 5 --n-test 3 \
        --n-time 2000 --out benchmarks/results/hmmglm_table1_r5
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

from neurodyn.io import write_csv, write_json
from neurodyn.states.benchmark import run_synthetic_repeat, summarize_benchmark

GENERATORS = {"paper_text": (0.1, 0.8, 0.1), "demo": (0.2, 1.6, 0.2)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--n-train", type=int, default=10)
    ap.add_argument("--n-test", type=int, default=10)
    ap.add_argument("--n-time", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0, help="repeat r uses seed 1000 * seed + r")
    ap.add_argument("--out", required=True, help="prefix of the output files")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    rows, tables = [], []
    t0 = time.perf_counter()
    with threadpool_limits(1):
        for gen, conc in GENERATORS.items():
            for r in range(args.repeats):
                df = run_synthetic_repeat(1000 * args.seed + r, n_train=args.n_train, n_test=args.n_test,
                                          n_time=args.n_time, concentration=conc)
                df.insert(0, "generator", gen)
                rows.append(df)
                print(df.to_string(), flush=True)
            raw = pd.concat([d for d in rows if d["generator"].iloc[0] == gen])
            table = summarize_benchmark(raw)
            table.insert(0, "generator", gen)
            budget = raw.groupby("model")[["n_iter", "fit_seconds"]].mean().round(1)
            table["mean EM iterations"] = table["model"].map(budget["n_iter"])
            table["mean fit seconds"] = table["model"].map(budget["fit_seconds"])
            tables.append(table)
            print(table.to_string(), flush=True)
    out = Path(args.out)
    write_csv(pd.concat(rows), out.with_name(out.name + "_repeats.csv"), index=False, float_format="%.6g")
    write_csv(pd.concat(tables), out.with_name(out.name + ".csv"), index=False)
    write_json({"args": vars(args), "generators": GENERATORS, "threads": 1,
                "wall_seconds": time.perf_counter() - t0}, out.with_name(out.name + ".json"))
    print(json.dumps(vars(args)))


if __name__ == "__main__":
    main()
