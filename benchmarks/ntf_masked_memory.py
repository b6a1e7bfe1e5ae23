"""Peak memory and time per iteration of the masked HALS NTF, next to the unmasked one and
tensorly's ``non_negative_parafac_hals``, with the memory model's prediction for each.

Every fit runs in its own subprocess, so that its peak resident memory (``VmHWM`` of
``/proc/self/status``) is its own.  The tensor (a planted non-negative rank-``R`` tensor plus
non-negative noise, float32) is written once to a ``.npy`` file and loaded by each worker
without temporaries; ``imports`` is the worker's resident memory after its imports, before
the tensor exists, so ``fit = peak − imports`` is the tensor, the mask and everything the
fit allocates.  Every worker uses the same dtype (float32), the same initial factors, the
same number of iterations (tolerance off) and one BLAS thread.  Time per iteration is given
as wall time and as CPU time (the steadier measure on a shared machine).

Variants:

- ``unmasked``: :func:`~neurodyn.connectome.ntf.non_negative_cp_hals` without a mask;
- ``masked_slices``: with a per-(animal, pair) mask (``(1, J, K)``, broadcast over windows:
  the pipeline's mask for neurons missing in an animal), 20 % of (animal, pair) unobserved;
- ``masked_full``: with a full per-entry bool mask (per-window masks, held-out entries),
  20 % of entries unobserved;
- ``tensorly_unmasked``: tensorly's ``non_negative_parafac_hals``, which takes no mask;
- ``rank_fit_job``: the pipeline's rank-fit job (``read_netcdf`` of an affinity file with the
  per-(animal, pair) mask, then ``fit_affinity``), against the SLURM request
  :func:`~neurodyn.connectome.memory.rank_fit_mem_mb`, which includes the process baseline;
- ``snakemake``: peak RSS of Snakemake resolving one rank-fit job (a dry run), the part of
  a SLURM job's memory that is not the script's;
- with ``--previous-src DIR`` (a checkout of an earlier ``neurodyn``), ``previous_masked_slices``:
  the same masked fit with that implementation.

Predictions: :func:`~neurodyn.connectome.memory.ntf_memory` (without headroom) for our fits,
none for tensorly's and the previous implementation's (not what the model describes), and
:func:`rank_fit_mem_mb` for the job (compared with the script's peak RSS plus Snakemake's).

    mkdir -p /tmp/neurodyn_previous            # the implementation before chunking
    git archive 77aed46 neurodyn | tar -x -C /tmp/neurodyn_previous
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 5 \\
        python benchmarks/ntf_masked_memory.py --previous-src /tmp/neurodyn_previous
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "ntf_masked_memory"
MIB = 2**20
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _status(key: str) -> int:
    """Bytes of ``key`` (``VmRSS`` now, ``VmHWM`` peak) in /proc/self/status."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key + ":"))


def planted(shape, rank, seed):
    """Float32 planted rank-``rank`` tensor plus 10 % non-negative noise, and random factors."""
    rng = np.random.default_rng(seed)
    factors = [(rng.uniform(size=(n, rank)) ** 3).astype(np.float32) for n in shape]
    x = np.einsum("ir,jr,kr->ijk", *factors)
    x += np.float32(0.1 * x.mean()) * rng.random(shape, dtype=np.float32)
    init_rng = np.random.default_rng(seed + 1)
    scale = (float(x.mean()) / (rank / 8.0)) ** (1 / 3)
    init = [(scale * init_rng.uniform(size=(n, rank))).astype(np.float32) for n in shape]
    return x, init


def masks(shape, seed):
    """Per-(animal, pair) and full masks, 20 % unobserved each."""
    rng = np.random.default_rng(seed + 2)
    return rng.random((1,) + tuple(shape[1:])) > 0.2, rng.random(shape, dtype=np.float32) > 0.2


# --------------------------------------------------------------------------- worker


def worker(variant: str, workdir: Path, rank: int, n_iter: int) -> dict:
    if variant == "tensorly_unmasked":
        import tensorly as tl
        from tensorly.cp_tensor import CPTensor
        from tensorly.decomposition import non_negative_parafac_hals

        tl.set_backend("numpy")
    else:
        from neurodyn.connectome.ntf import fit_affinity, non_negative_cp_hals
        from neurodyn.io import read_netcdf
    imports = _status("VmRSS")
    init = list(np.load(workdir / "init.npz", allow_pickle=False).values())
    n_done = n_iter
    if variant == "rank_fit_job":
        aff = read_netcdf(workdir / "affinity.nc")
        t0, c0 = time.perf_counter(), time.process_time()
        res = fit_affinity(aff, rank, init=init, max_iter=n_iter, tol=0.0)
        n_done = res.n_iter
    else:
        x = np.load(workdir / "tensor.npy", allow_pickle=False)
        mask = None
        if variant.endswith("masked_slices"):
            mask = np.load(workdir / "mask_slices.npy", allow_pickle=False)
        elif variant == "masked_full":
            mask = np.load(workdir / "mask_full.npy", allow_pickle=False)
        t0, c0 = time.perf_counter(), time.process_time()
        if variant == "tensorly_unmasked":
            non_negative_parafac_hals(x, rank, n_iter_max=n_iter, init=CPTensor((np.ones(rank, np.float32), init)),
                                      tol=0)
        else:
            res = non_negative_cp_hals(x, rank, mask=mask, init=init, max_iter=n_iter, tol=0.0)
            n_done = res.n_iter
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"variant": variant, "imports_bytes": imports, "peak_bytes": _status("VmHWM"),
            "seconds": seconds, "cpu_seconds": cpu, "n_iter": int(n_done), "import_path": _neurodyn_path()}


def _neurodyn_path() -> str:
    mod = sys.modules.get("neurodyn")
    return str(Path(mod.__file__).parent) if mod is not None else ""


# --------------------------------------------------------------------------- driver


def snakemake_rss(target: str) -> float | None:
    """Peak RSS (MiB) of Snakemake resolving ``target`` (a dry run from the repository root),
    the Snakemake share of a pipeline job; ``None`` when it cannot run here."""
    exe = Path(sys.executable).with_name("snakemake")
    code = ("import resource, subprocess, sys; "
            "p = subprocess.run(sys.argv[1:], capture_output=True); "
            "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    proc = subprocess.run([sys.executable, "-c", code, str(exe), "-n", "--cores", "1", target],
                          cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    rc, kib = proc.stdout.split()
    return int(kib) / 1024 if rc == "0" else None


def run_worker(variant, workdir, rank, n_iter, pythonpath):
    env = {**os.environ, **THREAD_ENV, "PYTHONPATH": str(pythonpath)}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", variant, "--workdir", str(workdir),
           "--rank", str(rank), "--iterations", str(n_iter)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{variant} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", default="240,21,5886", help="windows,animals,pairs (default: the paper's)")
    ap.add_argument("--rank", type=int, default=15)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--previous-src", type=Path, default=None,
                    help="directory holding an earlier neurodyn package, to measure its masked fit too")
    ap.add_argument("--out", type=Path, default=RESULTS, help="results stem (.csv and .json are written)")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--workdir", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.workdir, args.rank, args.iterations)))
        return None

    import pandas as pd
    import xarray as xr

    from neurodyn.connectome.memory import ntf_memory, rank_fit_mem_mb
    from neurodyn.io import write_csv, write_json, write_netcdf

    shape = tuple(int(v) for v in args.shape.split(","))
    variants = ["unmasked", "masked_slices", "masked_full", "tensorly_unmasked", "rank_fit_job"]
    if args.previous_src is not None:
        variants.append("previous_masked_slices")
    rows = []
    with tempfile.TemporaryDirectory(prefix="ntf_masked_memory_") as tmp:
        workdir = Path(tmp)
        x, init = planted(shape, args.rank, args.seed)
        slices, full = masks(shape, args.seed)
        np.save(workdir / "tensor.npy", x)
        np.save(workdir / "mask_slices.npy", slices)
        np.save(workdir / "mask_full.npy", full)
        np.savez(workdir / "init.npz", *init)
        ds = xr.Dataset({"affinity": (("window", "animal", "pair"), x), "mask": (("animal", "pair"), slices[0])})
        write_netcdf(ds, workdir / "affinity.nc")
        del x, full, ds
        job_request_mib = rank_fit_mem_mb(workdir / "affinity.nc", args.rank)
        for variant in variants:
            src = args.previous_src if variant.startswith("previous") else ROOT
            rec = run_worker(variant, workdir, args.rank, args.iterations, src)
            kind = {"unmasked": None, "masked_slices": "slices", "masked_full": "full",
                    "previous_masked_slices": "slices", "rank_fit_job": "slices"}.get(variant)
            if variant in ("tensorly_unmasked", "previous_masked_slices"):
                predicted = None  # not what the model describes
            elif variant == "rank_fit_job":
                predicted = job_request_mib * MIB  # the SLURM request (baseline and headroom included)
            else:
                predicted = ntf_memory(shape, args.rank, dtype=np.float32, mask=kind)["peak"]
            fit = rec["peak_bytes"] - rec["imports_bytes"]
            measured = rec["peak_bytes"] if variant == "rank_fit_job" else fit
            rows.append({
                "variant": variant, "windows": shape[0], "animals": shape[1], "pairs": shape[2], "rank": args.rank,
                "dtype": "float32", "threads": 1, "n_iter": rec["n_iter"],
                "time_per_iter_s": rec["seconds"] / max(rec["n_iter"], 1),
                "cpu_per_iter_s": rec["cpu_seconds"] / max(rec["n_iter"], 1),
                "imports_mib": rec["imports_bytes"] / MIB, "peak_rss_mib": rec["peak_bytes"] / MIB,
                "fit_mib": fit / MIB, "tensor_mib": int(np.prod(shape)) * 4 / MIB,
                "predicted_mib": None if predicted is None else predicted / MIB,
                "predicted_over_measured": None if predicted is None else predicted / measured,
                "neurodyn": rec["import_path"],
            })
            r = rows[-1]
            print(f"{variant:24s} {r['time_per_iter_s']:7.3f} s/iter (CPU {r['cpu_per_iter_s']:6.3f})  "
                  f"peak RSS {r['peak_rss_mib']:8.1f} MiB  fit {r['fit_mib']:8.1f} MiB  predicted "
                  f"{'—' if predicted is None else format(predicted / MIB, '8.1f')} MiB", flush=True)
    smk = snakemake_rss("results/synthetic/connectome/ranks/rank1_restart0.nc")
    print(f"snakemake resolving one rank-fit job: peak RSS {smk} MiB", flush=True)
    table = pd.DataFrame(rows)
    by = table.set_index("variant")
    ratios = {f"{v}_over_unmasked": float(by.loc[v, "fit_mib"] / by.loc["unmasked", "fit_mib"])
              for v in by.index if v not in ("unmasked", "rank_fit_job")}
    cpu = by["cpu_per_iter_s"]
    ratios.update({f"{v}_cpu_time_over_unmasked": float(cpu[v] / cpu["unmasked"])
                   for v in by.index if v not in ("unmasked", "rank_fit_job")})
    summary = {
        "command": "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 5 python "
                   "benchmarks/ntf_masked_memory.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "shape": list(shape), "rank": args.rank, "iterations": args.iterations, "seed": args.seed,
        "dtype": "float32", "threads": 1, "tensor_mib": int(np.prod(shape)) * 4 / MIB,
        "ratios": ratios, "rows": rows, "snakemake_dry_run_peak_rss_mib": smk,
        "script_imports_rss_mib": float(by.loc["rank_fit_job", "imports_mib"]),
        # A SLURM rank-fit job holds Snakemake and the script: its request against both.
        "rank_fit_job_request_mib": job_request_mib,
        "rank_fit_job_measured_mib": None if smk is None else float(by.loc["rank_fit_job", "peak_rss_mib"]) + smk,
        "rank_fit_job_request_over_measured": None if smk is None else
        job_request_mib / (float(by.loc["rank_fit_job", "peak_rss_mib"]) + smk),
        "notes": "fit_mib = peak RSS minus RSS after imports (tensor, mask and fit); predicted_mib: "
                 "memory.ntf_memory peak without headroom, or for rank_fit_job the SLURM request "
                 "rank_fit_mem_mb compared with the job's whole peak RSS.",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(table, args.out.with_suffix(".csv"))
    write_json(summary, args.out.with_suffix(".json"))
    print(json.dumps(ratios, indent=1))
    return summary


if __name__ == "__main__":
    main()
