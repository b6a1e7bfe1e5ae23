"""Adaptation effects under both adapted-ensemble conventions, and a scan for far-field facilitation.

1. Every model (recurrent gains, W = 0, synaptic) × adapter probability × ensemble
   convention (``authors``: π on the adapter bins, (1 − π)/18 on each other bin, as in the
   authors' analysis code; ``mixture``: (1 − π)·uniform + π on the adapter bins, this
   project's earlier default) -> one row of every effect of
   :func:`neurodyn.circuits.gain_control.summarise_effects`.
2. Does any setting of the objective remove the facilitation far from the adapter?  The
   recurrent model at π = 0.5 (authors' convention) over the accuracy weighting β and the
   trade-off λ: far-channel max ratio, orthogonal population response, and whether
   suppression and repulsion survive.

    PYTHONPATH=. python benchmarks/gain_control_conventions.py \\
        --effects benchmarks/results/gain_control_effects.csv \\
        --scan benchmarks/results/gain_control_facilitation_scan.csv
"""

from __future__ import annotations

import argparse

import pandas as pd

from neurodyn.circuits.gain_control import MODELS, GainControlParams, effects_table, simulate_adaptation
from neurodyn.io import write_csv

PROBABILITIES = (0.30, 0.35, 0.40, 0.50)
SCAN_BETA = (0.0, 0.25, 0.5, 0.75, 0.9)
SCAN_TRADEOFF = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
SCAN_KEYS = ("peak_suppression", "suppression_centre_deg", "max_repulsion_deg", "correlation_decorrelation",
             "equalisation", "far_max_ratio", "far_gain_ratio", "facilitated_fraction", "population_ratio_orthogonal",
             "adapter_specificity", "stimulus_factor_adapter")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--effects", default="benchmarks/results/gain_control_effects.csv")
    ap.add_argument("--scan", default="benchmarks/results/gain_control_facilitation_scan.csv")
    args = ap.parse_args()
    runs = [simulate_adaptation(pi, model, GainControlParams(ensemble_convention=convention))
            for convention in ("authors", "mixture") for model in MODELS for pi in PROBABILITIES]
    table = effects_table(runs)
    write_csv(table, args.effects, float_format="%.6g")
    print(table.to_string())
    rows = []
    for beta in SCAN_BETA:
        for tradeoff in SCAN_TRADEOFF:
            ds = simulate_adaptation(0.5, "recurrent", GainControlParams(accuracy_weighting=beta, tradeoff=tradeoff))
            rows.append({"accuracy_weighting": beta, "tradeoff": tradeoff,
                         **{k: ds.attrs[k] for k in SCAN_KEYS},
                         "min_response": float(min(ds["tuning_unadapted"].min(), ds["tuning_adapted"].min()))})
    scan = pd.DataFrame(rows)
    write_csv(scan, args.scan, float_format="%.6g")
    print(scan.to_string())


if __name__ == "__main__":
    main()
