"""Mouse scale: the connectome chain on suite2p folders of 500 to 5000 cells, per step.

Each size is a suite2p folder (``suite2p/plane0/F.npy``, ``Fneu.npy``, ``iscell.npy``;
10 Hz, 20 min, one animal) written by :func:`write_suite2p`: ``n_cells`` cells in 8
groups that fire together (each group's events recruit most of its members), independent
events on top, a calcium kernel, neuropil, shot noise, and 10 % extra ROIs that suite2p
did not classify as cells.  A fresh interpreter per size (``--child``) reads it as a user
would (:func:`neurodyn.data.readers.suite2p.read_suite2p`, then
:func:`neurodyn.data.cohort.build_cohort`) and runs the steps of
:func:`neurodyn.connectome.chain.connectome` at the library's defaults:

    read → affinity → rank sweep → final NTF → communities (→ the baselines)

timing each step and sampling its resident memory (``/proc/self/statm`` every 20 ms; the
step's peak is the largest sample while it runs).  On the 2000-cell graphs of the
community step, graph-tool's nested SBM (``benchmarks/graph_tool_nested_sbm.py`` under
the system interpreter, as ``community_lfr.py`` runs it) is timed on the same graph, when
it imports.

Before a size starts, it is planned: the memory of each step
(:func:`neurodyn.connectome.memory.chain_memory_plan`) and its wall time, extrapolated
from the sizes already measured (each step's time as a power of the tensor's entries,
fitted on the two largest).  A size whose plan exceeds ``--max-memory-gb`` or
``--max-minutes`` is refused before it starts, with the settings that would fit
(``stride_s``, or fewer cells), and the refusal is recorded.

    nice -n 5 env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
        python benchmarks/connectome_scale.py --sizes 500 1000 2000 5000

Writes ``benchmarks/results/connectome_scale.csv`` (one row per size and step) and
``.json`` (the command, environment, plans, refusals and graph-tool's times).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
ROOT = HERE.parent
STEPS = ("read", "affinity", "rank_sweep", "final_ntf", "communities", "baselines")
#: The steps of the connectome target that the targets of issue 19 time (the baselines are
#: reported beside them).
TARGET_STEPS = ("read", "affinity", "rank_sweep", "final_ntf", "communities")
RATE_HZ, MINUTES, GROUPS = 10.0, 20.0, 8
NONCELL_FRACTION = 0.1


# --------------------------------------------------------------------------- the recording


def write_suite2p(folder: Path, n_cells: int, *, n_groups: int = GROUPS, rate_hz: float = RATE_HZ,
                  minutes: float = MINUTES, seed: int = 0) -> dict:
    """A suite2p ``plane0`` folder of ``n_cells`` cells in ``n_groups`` co-active groups.

    Group ``g`` has events at up to 0.2 Hz (Poisson, the rate following the group's own
    slow envelope); each recruits each member with probability 0.8 and a gamma
    amplitude.  Every cell also fires alone at 0.03 Hz.
    Spikes go through a 1 s exponential calcium kernel; ``F = F0 (1 + c) + 0.7 Fneu +
    noise`` with ``F0`` uniform in [200, 600], ``Fneu`` a slow drift around 0.4 ``F0``
    and noise of SD 4 % of ``F0``.  ``NONCELL_FRACTION`` more ROIs, with
    ``iscell = 0``, carry noise only.

    Returns the planted labels of the cells (``groups``, in ROI order of the cells).
    """
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    n_time = int(round(minutes * 60 * rate_hz))
    n_noncells = int(round(NONCELL_FRACTION * n_cells))
    n_rois = n_cells + n_noncells
    is_cell = np.zeros(n_rois, dtype=bool)
    is_cell[rng.permutation(n_rois)[:n_cells]] = True
    groups = np.repeat(np.arange(n_groups), -(-n_cells // n_groups))[:n_cells]
    rng.shuffle(groups)
    decay = np.exp(-1.0 / (1.0 * rate_hz))
    f = np.empty((n_rois, n_time), dtype=np.float32)
    fneu = np.empty((n_rois, n_time), dtype=np.float32)
    # Each group's event rate follows its own slow envelope (about a minute), so the groups
    # wax and wane at different times, as assemblies do.
    from scipy.ndimage import gaussian_filter1d

    envelope = gaussian_filter1d(rng.normal(size=(n_groups, n_time)), sigma=60 * rate_hz, axis=1)
    envelope = 1.0 / (1.0 + np.exp(-4.0 * envelope / envelope.std()))
    group_events = [np.flatnonzero(rng.random(n_time) < 0.2 * envelope[g] / rate_hz) for g in range(n_groups)]
    cell_rows = np.flatnonzero(is_cell)
    drift_t = np.linspace(0, 1, n_time)
    for start in range(0, n_rois, 256):  # a block of ROIs at a time keeps float64 temporaries small
        rows = np.arange(start, min(n_rois, start + 256))
        spikes = np.zeros((rows.size, n_time))
        for r_local, roi in enumerate(rows):
            if not is_cell[roi]:
                continue
            cell = int(np.searchsorted(cell_rows, roi))
            ev = group_events[groups[cell]]
            ev = ev[rng.random(ev.size) < 0.8]
            spikes[r_local, ev] += rng.gamma(4.0, 0.25, size=ev.size)
            own = np.flatnonzero(rng.random(n_time) < 0.03 / rate_hz)
            spikes[r_local, own] += rng.gamma(4.0, 0.25, size=own.size)
        calcium = lfilter([1.0], [1.0, -decay], spikes, axis=1)
        f0 = rng.uniform(200.0, 600.0, size=(rows.size, 1))
        phase = rng.uniform(0, 2 * np.pi, size=(rows.size, 1))
        neu = 0.4 * f0 * (1.0 + 0.1 * np.sin(2 * np.pi * 3 * drift_t[None, :] + phase))
        neu += rng.normal(0.0, 0.02, size=neu.shape) * f0
        f[rows] = f0 * (1.0 + calcium) + 0.7 * neu + rng.normal(0.0, 0.04, size=neu.shape) * f0
        fneu[rows] = neu
    plane = Path(folder) / "suite2p" / "plane0"
    plane.mkdir(parents=True, exist_ok=True)
    np.save(plane / "F.npy", f)
    np.save(plane / "Fneu.npy", fneu)
    np.save(plane / "iscell.npy", np.stack([is_cell.astype(np.float64), np.where(is_cell, 0.9, 0.1)], 1))
    return {"groups": groups, "n_rois": n_rois, "n_time": n_time}


# --------------------------------------------------------------------------- memory sampling


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class RssSampler:
    """Largest resident set size seen since :meth:`reset`, sampled by a thread."""

    def __init__(self, every_s: float = 0.02):
        self.every_s = every_s
        self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(self.every_s):
            self.peak = max(self.peak, rss_bytes())

    def reset(self) -> int:
        self.peak = rss_bytes()
        return self.peak

    def stop(self):
        self._stop.set()
        self._thread.join()


# --------------------------------------------------------------------------- one size (child)


def run_child(args) -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # The machine is shared: a step that outgrows the limit fails with MemoryError here
    # rather than pushing others out of memory.
    limit = int(args.address_limit_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from neurodyn.connectome.chain import affinity_step, community_step, model_step, rank_step
    from neurodyn.connectome.communities import component_communities, component_graph, leiden_available
    from neurodyn.data.cohort import build_cohort
    from neurodyn.data.readers.suite2p import read_suite2p

    sampler = RssSampler()
    rows, extra = [], {}
    state = {}

    def step(name, fn):
        start_rss = sampler.reset()
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            out = fn()
        except MemoryError as exc:
            extra["failed_step"] = {"step": name, "error": f"MemoryError: {exc}"[:300],
                                    "after_s": round(time.perf_counter() - t0, 1),
                                    "peak_rss_gb": round(sampler.peak / 2**30, 3)}
            write_atomic(Path(args.out), json.dumps({"rows": rows, **extra}))
            raise
        wall = time.perf_counter() - t0
        peak = max(sampler.peak, rss_bytes())
        rows.append({"n_cells": args.child, "step": name, "wall_s": round(wall, 2),
                     "peak_rss_gb": round(peak / 2**30, 3), "start_rss_gb": round(start_rss / 2**30, 3),
                     "cpu_s": round(time.process_time() - c0, 1), "load_avg_1min": round(os.getloadavg()[0], 2)})
        logging.getLogger("connectome_scale").info("%d cells: %s %.1fs, peak RSS %.2f GiB", args.child, name,
                                                   wall, peak / 2**30)
        write_atomic(Path(args.out), json.dumps({"rows": rows, **extra}))  # what is done survives a stop
        return out

    def read():
        rec = read_suite2p(args.folder, sampling_rate_hz=RATE_HZ, animal="mouse")
        return build_cohort([rec], min_animals=1)

    cohort = step("read", read)
    extra["n_neurons"] = int(cohort.sizes["neuron"])
    extra["n_time"] = int(cohort.sizes["time"])
    aff = step("affinity", lambda: affinity_step(cohort, max_memory_gb=args.budget_gb))
    extra["tensor_shape"] = list(aff["affinity"].shape)
    del cohort
    if args.one_replicate:
        # Too long at the defaults: one replicate of the sweep (rank 1), timed, from which
        # the parent estimates the whole sweep; the later steps take its model.
        import warnings

        extra["rank_sweep_run"] = "one replicate at rank 1 (the whole sweep is estimated)"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sweep = step("rank_sweep", lambda: rank_step(aff, rank={"ranks": (1,), "restarts": 1,
                                                                    "max_rank": None}))
    else:
        extra["rank_sweep_run"] = "defaults"
        sweep = step("rank_sweep", lambda: rank_step(aff))
    extra["rank"] = int(sweep.rank)
    extra["rank_warning"] = sweep.warning or ""
    extra["ranks_fitted"] = sorted({int(k[0]) for k in sweep.fits})
    extra["fits"] = [{"rank": int(k[0]), "restart": int(k[1]), "n_iter_cv": int(f.cv_result.n_iter),
                      "n_iter_refit": int(f.result.n_iter), "test_error": float(f.test_error)}
                     for k, f in sweep.fits.items()]
    state["model"] = step("final_ntf", lambda: model_step(sweep, aff))
    model = state["model"]
    extra["background"] = np.asarray(model["background"].values, dtype=bool).tolist()
    del sweep
    if args.save_graphs:
        keep = ~np.asarray(model["background"].values, dtype=bool)
        graphs = {}
        for k in model["component"].values[keep].tolist():
            w = component_graph(model, k)
            graphs[f"component_{k}"] = (w / w.max() if w.max() > 0 else w).astype(np.float64)
        np.savez(args.save_graphs + ".tmp.npz", **graphs)
        os.replace(args.save_graphs + ".tmp.npz", args.save_graphs)
        del graphs
    table = step("communities", lambda: community_step(model))
    n_comm = table.groupby("component")["n_communities"].first() if len(table) else {}
    extra["community_components"] = [{"component": k, "time_s": round(v, 2), "n_communities": int(n_comm[k])}
                                     for k, v in table.attrs.get("time_s", {}).items()]

    def baselines():
        keep = ~np.asarray(model["background"].values, dtype=bool)
        local = model.isel(component=np.flatnonzero(keep))
        out = {}
        for name in ("louvain", "leiden"):
            if name == "leiden" and not leiden_available():
                continue
            t0 = time.perf_counter()
            tab = component_communities(local, method=name)
            out[name] = {"time_s": round(time.perf_counter() - t0, 2),
                         "n_communities": tab.groupby("component")["n_communities"].first().tolist()}
        return out

    extra["baselines"] = step("baselines", baselines)
    sampler.stop()
    extra["ru_maxrss_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3)
    Path(args.out).write_text(json.dumps({"rows": rows, **extra}))
    return 0


# --------------------------------------------------------------------------- planning


def _measured(sizes: list[dict]) -> list[dict]:
    """Per-step CPU times of the sizes run, with their tensor entries; for a size run with
    one replicate, the rank sweep's time is its estimate (:func:`estimate_sweep`)."""
    out = []
    for rec in sizes:
        if "rows" not in rec or "tensor_shape" not in rec:
            continue
        entries = rec["tensor_shape"][0] * rec["tensor_shape"][2]
        for r in rec["rows"]:
            secs = r.get("cpu_s", r["wall_s"])
            if r["step"] == "rank_sweep" and rec.get("rank_sweep_run") != "defaults":
                secs = estimate_sweep(rec, sizes)
                if secs is None:
                    continue
            out.append({"entries": entries, "pairs": rec["tensor_shape"][2], "step": r["step"], "wall_s": secs})
    return out


def plan_size(n_cells: int, measured: list[dict], *, stride_s: float = 20.0, window_s: float = 40.0) -> dict:
    """Memory plan and time estimate of one size, from sizes alone and the measured ones.

    Each step's time (CPU seconds: one thread, so the wall time of an idle machine) is
    ``t₂ (E / E₂)^k`` with ``k`` fitted on the two largest measured
    sizes (``E`` the tensor's entries); ``k`` is at least 1 for the rank sweep (each HALS
    iteration reads the tensor) and the community step (its graphs have ``N²`` weights),
    and at least 0.5 otherwise.
    """
    from neurodyn.connectome.memory import chain_memory_plan

    n_time = int(round(MINUTES * 60 * RATE_HZ))
    mem = chain_memory_plan(1, n_time, n_cells, sampling_rate_hz=RATE_HZ, window_s=window_s, stride_s=stride_s,
                            n_rois=int(round((1 + NONCELL_FRACTION) * n_cells)))
    entries = mem["n_windows"] * mem["n_pairs"]
    est = {}
    for s in TARGET_STEPS:
        # the affinity and the sweep scale with the tensor's entries; the other steps do
        # not depend on the windows, so they scale with the pairs
        key = "entries" if s in ("affinity", "rank_sweep") else "pairs"
        size = entries if key == "entries" else mem["n_pairs"]
        points = sorted({row[key]: row["wall_s"] for row in measured if row["step"] == s}.items())
        if len(points) >= 2:
            (e1, t1), (e2, t2) = points[-2], points[-1]
            if t1 > 0 and t2 > 0:
                floor = 1.0 if s in ("rank_sweep", "communities") else 0.5
                power = max(np.log(t2 / t1) / np.log(e2 / e1), floor)
                est[s] = float(t2 * (size / e2) ** power)
    return {"n_cells": n_cells, "stride_s": stride_s, "entries": entries, "memory": mem,
            "estimated_s": est, "estimated_total_s": float(sum(est.values())) if est else None}


def fitting_settings(n_cells: int, measured, max_gb: float, max_s: float) -> dict:
    """The smallest stride (s) and, at the default stride, the most cells whose plan fits."""
    out = {}
    for stride in (20.0, 30.0, 40.0, 60.0, 80.0, 120.0, 240.0):
        p = plan_size(n_cells, measured, stride_s=stride)
        if p["memory"]["peak"] <= max_gb * 2**30 and (p["estimated_total_s"] or 0) <= max_s:
            out["stride_s"] = stride
            out["stride_plan"] = {"peak_gb": round(p["memory"]["peak"] / 2**30, 2),
                                  "estimated_min": round((p["estimated_total_s"] or 0) / 60, 1)}
            break
    else:
        out["stride_s"] = None
    for cells in range(n_cells, 0, -50):
        p = plan_size(cells, measured)
        if p["memory"]["peak"] <= max_gb * 2**30 and (p["estimated_total_s"] or 0) <= max_s:
            out["n_cells"] = cells
            out["cells_plan"] = {"peak_gb": round(p["memory"]["peak"] / 2**30, 2),
                                 "estimated_min": round((p["estimated_total_s"] or 0) / 60, 1)}
            break
    return out


def estimate_sweep(rec: dict, sizes: list[dict]) -> float | None:
    """The whole default sweep's time for a size run with one replicate: that replicate's
    CPU time per HALS iteration times the iterations the largest size run at the defaults
    needed over its whole sweep (one thread, so CPU time is the wall time of an idle
    machine)."""
    refs = [r for r in sizes if r.get("rank_sweep_run") == "defaults" and "fits" in r]
    if not refs or "fits" not in rec:
        return None
    ref = max(refs, key=lambda r: r["n_cells"])
    one = rec["fits"][0]
    t_one = next(r.get("cpu_s", r["wall_s"]) for r in rec["rows"] if r["step"] == "rank_sweep")
    per_iter = t_one / max(one["n_iter_cv"] + one["n_iter_refit"], 1)
    return float(per_iter * sum(f["n_iter_cv"] + f["n_iter_refit"] for f in ref["fits"]))


# --------------------------------------------------------------------------- parent


def graph_tool_fit(w: np.ndarray, seed: int, limit_s: float) -> dict:
    """graph-tool's nested SBM on one graph (``graph_tool_nested_sbm.py`` under the system
    interpreter, as ``community_lfr.py`` runs it), with the process's CPU time."""
    sys.path.insert(0, str(HERE))
    from community_lfr import GRAPH_TOOL_SCRIPT, SYSTEM_PYTHON

    i, j = np.nonzero(np.triu(w, 1))
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "graph.npz", Path(tmp) / "out.npz"
        np.savez(src, edges=np.stack([i, j], 1), weights=w[i, j], n_nodes=w.shape[0])
        env = {**os.environ, "PYTHONPATH": "", "OMP_NUM_THREADS": "1"}
        t0 = time.perf_counter()
        proc = subprocess.Popen([SYSTEM_PYTHON, str(GRAPH_TOOL_SCRIPT), str(src), str(dst), str(seed)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        timer = threading.Timer(limit_s, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            return {"skipped": f"exit {proc.returncode} after {wall:.0f} s", "n_edges": int(i.size)}
        out = np.load(dst, allow_pickle=False)
        return {"fit_time_s": round(float(out["time_s"]), 2), "wall_s": round(wall, 2),
                "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
                "n_groups_level0": int(np.unique(out["labels"]).size),
                "groups_per_level": out["groups_per_level"].tolist(), "n_edges": int(i.size),
                "load_avg_1min": round(os.getloadavg()[0], 2)}


def graph_tool_times(graphs_path: Path, seed: int, limit_s: float) -> dict:
    sys.path.insert(0, str(HERE))
    from community_lfr import graph_tool_version

    version = graph_tool_version()
    if version is None:
        return {"graph_tool": None, "skipped": "graph-tool does not import under /usr/bin/python3"}
    out = {"graph_tool": version, "components": []}
    graphs = np.load(graphs_path, allow_pickle=False)
    for name in graphs.files:
        out["components"].append({"graph": name, "n_nodes": int(graphs[name].shape[0]),
                                  **graph_tool_fit(graphs[name], seed, limit_s)})
    return out


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def run_size(n: int, args, record: dict, log) -> tuple[dict | None, dict | None]:
    """Generate the folder, run the child on it (graph-tool beside it on the saved graphs)."""
    gt = None
    with tempfile.TemporaryDirectory(prefix=f"scale{n}_") as tmp:
        t0 = time.perf_counter()
        write_suite2p(Path(tmp) / "mouse", n, seed=args.seed)
        record["generate_s"] = round(time.perf_counter() - t0, 1)
        out = Path(tmp) / "child.json"
        graphs = Path(tmp) / "graphs.npz" if n == args.graph_tool_size else None
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(n), "--folder",
               str(Path(tmp) / "mouse"), "--out", str(out), "--budget-gb", str(args.max_memory_gb)]
        if graphs is not None:
            cmd += ["--save-graphs", str(graphs)]
        if record.get("rank_sweep_run") != "defaults":
            cmd += ["--one-replicate"]
        cmd += ["--address-limit-gb", str(args.address_limit_gb)]
        child = subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": str(ROOT)})
        t0, gt_thread, gt_box = time.perf_counter(), None, {}
        while child.poll() is None:
            if graphs is not None and gt_thread is None and graphs.exists():
                gt_thread = threading.Thread(target=lambda: gt_box.update(graph_tool_times(graphs, args.seed, 7200)))
                gt_thread.start()
            if time.perf_counter() - t0 > args.step_limit_minutes * 60:
                child.kill()
                record["stopped"] = f"stopped after {args.step_limit_minutes:g} min"
                log.info("%d cells: %s", n, record["stopped"])
                break
            time.sleep(2.0)
        child.wait()
        if gt_thread is not None:
            gt_thread.join()
            gt = gt_box
        if not out.exists():
            record["failed"] = f"exit {child.returncode}, nothing written"
            return None, gt
        return json.loads(out.read_text()), gt


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000, 5000])
    ap.add_argument("--graph-tool-size", type=int, default=2000)
    ap.add_argument("--max-memory-gb", type=float, default=12.0,
                    help="refuse a size whose memory plan exceeds this (GiB)")
    ap.add_argument("--max-minutes", type=float, default=25.0, help="refuse a size estimated to run longer")
    ap.add_argument("--one-replicate-above", type=int, default=None,
                    help="sizes above this many cells run one replicate of the sweep and estimate the rest")
    ap.add_argument("--out", default=str(RESULTS / "connectome_scale"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    ap.add_argument("--budget-gb", type=float, default=8.0, help=argparse.SUPPRESS)
    ap.add_argument("--save-graphs", default="", help=argparse.SUPPRESS)
    ap.add_argument("--one-replicate", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--address-limit-gb", type=float, default=14.0,
                    help="address-space limit of each size's process (GiB)")
    ap.add_argument("--step-limit-minutes", type=float, default=40.0,
                    help="stop a size's run after this long (what is done is kept)")
    ap.add_argument("--merge", action="store_true", help="keep the sizes of the results file not run now")
    ap.add_argument("--merge-from", nargs="*", default=[],
                    help="results files (.json) of other runs whose sizes join --out (then nothing is run)")
    ap.add_argument("--graph-tool-on", default="",
                    help="time graph-tool on the graphs of this .npz (saved by a size's run) into --out's JSON")
    args = ap.parse_args(argv)
    if args.child:
        return run_child(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    log = logging.getLogger("connectome_scale")
    command = ("nice -n 5 env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/connectome_scale.py "
               + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])))
    sizes_out, gt, commands = [], None, []
    json_path = Path(args.out).with_suffix(".json")
    if args.merge and json_path.exists():
        old = json.loads(json_path.read_text())
        sizes_out = [r for r in old["sizes"] if args.merge_from or args.graph_tool_on or r["n_cells"] not in args.sizes]
        gt = old.get("graph_tool")
        commands = old.get("commands", [])
    if args.graph_tool_on:
        meta = json.loads(json_path.read_text())
        gt = graph_tool_times(Path(args.graph_tool_on), args.seed, 7200)
        gt["size"] = args.graph_tool_size
        _write(args.out, [c for c in meta.get("commands", []) if c != command] + [command], meta["sizes"], gt)
        return 0
    if args.merge_from:
        for other in args.merge_from:
            meta = json.loads(Path(other).read_text())
            ran = {r["n_cells"] for r in meta["sizes"]}
            sizes_out = [r for r in sizes_out if r["n_cells"] not in ran] + meta["sizes"]
            commands += [c for c in meta.get("commands", []) if c not in commands]
            gt = meta.get("graph_tool") or gt
        _write(args.out, commands, sizes_out, gt)
        return 0
    commands = [c for c in commands if c != command] + [command]
    for n in args.sizes:
        measured = _measured(sizes_out)
        plan = plan_size(n, measured)
        mem_gb = plan["memory"]["peak"] / 2**30
        est = plan["estimated_total_s"]
        log.info("%d cells: memory plan %.2f GiB, estimated %s", n, mem_gb,
                 "unknown" if est is None else f"{est / 60:.1f} min")
        record = {"n_cells": n, "plan_peak_gb": round(mem_gb, 3),
                  "plan_steps_gb": {k: round(plan["memory"][k] / 2**30, 3) for k in plan["memory"]["steps"]},
                  "estimated_min": None if est is None else round(est / 60, 1),
                  "estimated_steps_s": {k: round(v, 1) for k, v in plan["estimated_s"].items()},
                  "rank_sweep_run": "defaults"}
        limit = args.max_minutes * 60
        largest = max((r["n_cells"] for r in sizes_out if "rows" in r), default=0)
        if est is None and largest and n > 2 * largest:
            # No time estimate (fewer than two sizes measured) this far beyond what was run:
            # refuse rather than start blind.
            record["refused"] = f"no time estimate from the sizes run (largest {largest} cells)"
            record["fits_with"] = {}
            log.info("%d cells refused before starting: %s", n, record["refused"])
            sizes_out.append(record)
            _write(args.out, commands, sizes_out, gt)
            continue
        over_time = est is not None and est > limit
        if mem_gb > args.max_memory_gb or (over_time and est - plan["estimated_s"].get("rank_sweep", 0) > limit):
            why = (f"memory plan {mem_gb:.1f} GiB > {args.max_memory_gb:g} GiB" if mem_gb > args.max_memory_gb
                   else f"estimated {est / 60:.0f} min > {args.max_minutes:g} min, "
                        f"{(est - plan['estimated_s'].get('rank_sweep', 0)) / 60:.0f} min without the rank sweep")
            record["refused"] = why
            record["fits_with"] = fitting_settings(n, measured, args.max_memory_gb, limit)
            log.info("%d cells refused before starting: %s; would fit with %s", n, why, record["fits_with"])
            sizes_out.append(record)
            _write(args.out, commands, sizes_out, gt)
            continue
        if over_time or (args.one_replicate_above is not None and n > args.one_replicate_above):
            record["rank_sweep_run"] = "one replicate"
        child, gt_now = run_size(n, args, record, log)
        gt = gt_now if gt_now is not None else gt
        if child is not None:
            record.update(child)
            target = [r for r in child["rows"] if r["step"] in TARGET_STEPS]
            record["target_wall_s"] = round(sum(r["wall_s"] for r in target), 1)
            record["target_peak_rss_gb"] = max(r["peak_rss_gb"] for r in target)
            log.info("%d cells: %.0f s, peak %.2f GiB", n, record["target_wall_s"], record["target_peak_rss_gb"])
        sizes_out.append(record)
        _write(args.out, commands, sizes_out, gt)
    _write(args.out, commands, sizes_out, gt)
    return 0


def _write(out, commands, sizes, gt):
    """The CSV (one row per size and step, measured or estimated) and the JSON, atomically."""
    import pandas as pd

    import neurodyn

    sizes = sorted(sizes, key=lambda r: r["n_cells"])
    rows = []
    for rec in sizes:
        # the plan as the current memory model counts it (the model was calibrated on these runs)
        plan = plan_size(rec["n_cells"], [])["memory"]
        rec["plan_peak_gb"] = round(plan["peak"] / 2**30, 3)
        rec["plan_steps_gb"] = {k: round(plan[k] / 2**30, 3) for k in plan["steps"]}
        if str(rec.get("rank_sweep_run", "")).startswith("one replicate"):
            sweep = estimate_sweep(rec, sizes)
            rec["rank_sweep_estimated_s"] = None if sweep is None else round(sweep, 0)
        for r in rec.get("rows", []):
            row = {**r, "measured": True, "plan_gb": rec["plan_steps_gb"].get(r["step"]),
                   "rank_sweep_run": rec.get("rank_sweep_run")}
            rows.append(row)
            if r["step"] == "rank_sweep" and rec.get("rank_sweep_estimated_s") is not None:
                rows.append({**row, "step": "rank_sweep (whole, estimated)",
                             "wall_s": rec["rank_sweep_estimated_s"], "peak_rss_gb": None, "start_rss_gb": None,
                             "measured": False})
        if "refused" in rec:
            for step, secs in rec["estimated_steps_s"].items():
                rows.append({"n_cells": rec["n_cells"], "step": step, "wall_s": secs, "peak_rss_gb": None,
                             "measured": False, "plan_gb": rec["plan_steps_gb"].get(step),
                             "rank_sweep_run": "refused: " + rec["refused"]})
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out.with_suffix(".csv"), pd.DataFrame(rows).to_csv(index=False))
    meta = {"commands": commands, "cores": os.cpu_count(), "neurodyn": getattr(neurodyn, "__version__", ""),
            "recording": {"rate_hz": RATE_HZ, "minutes": MINUTES, "groups": GROUPS, "animals": 1,
                          "noncell_fraction": NONCELL_FRACTION},
            "sizes": sizes, "graph_tool": gt}
    write_atomic(out.with_suffix(".json"), json.dumps(meta, indent=1, default=float))


def markdown_table(path: Path) -> str:
    """The results file as the table of ``docs/connectome.md`` (Mouse scale)."""
    meta = json.loads(Path(path).read_text())
    head = ("| cells | tensor (W × P) | read | affinity | rank sweep | final NTF | communities | "
            "target | peak RSS (plan) | rank |")
    lines = [head, "|" + "---|" * head.count("|")[:-1] if False else "|" + "---|" * (head.count("|") - 1)]
    for rec in meta["sizes"]:
        n = rec["n_cells"]
        if "refused" in rec:
            est = rec.get("estimated_steps_s", {})
            cells = [f"({est[s] / 60:.0f} min)" if s in est else "–" for s in TARGET_STEPS]
            fits = rec.get("fits_with", {})
            lines.append(f"| {n} | refused: {rec['refused']} | " + " | ".join(cells)
                         + f" | ({rec['estimated_min']:.0f} min CPU) | ({rec['plan_peak_gb']:.1f} GiB) | "
                         + f"fits with stride_s={fits.get('stride_s')} or {fits.get('n_cells')} cells |")
            continue
        wall = {r["step"]: r.get("cpu_s") if r.get("cpu_s") is not None else r["wall_s"]
                for r in rec.get("rows", [])}
        unit = " CPU" if any(r.get("cpu_s") is not None for r in rec.get("rows", [])) else " wall"
        shape = rec.get("tensor_shape", [0, 0, 0])

        def fmt(step):
            if step not in wall:
                return "stopped" if rec.get("stopped") else "–"
            v = wall[step]
            return (f"{v:.0f} s" if v < 120 else f"{v / 60:.1f} min") + unit

        sweep = fmt("rank_sweep")
        if str(rec.get("rank_sweep_run", "")).startswith("one replicate"):
            est = rec.get("rank_sweep_estimated_s")
            sweep = f"{sweep} (1 replicate; whole ≈ {est / 60:.0f} min)" if est else f"{sweep} (1 replicate)"
        total = sum(v for k, v in wall.items() if k in TARGET_STEPS) if wall else None
        if str(rec.get("rank_sweep_run", "")).startswith("one replicate") and rec.get("rank_sweep_estimated_s"):
            total = total - wall.get("rank_sweep", 0) + rec["rank_sweep_estimated_s"]
        total_txt = "–" if total is None else (f"{total / 60:.1f} min" + unit if rec.get("rank_sweep_run") == "defaults"
                                                 else f"≈ {total / 60:.0f} min{unit} (sweep estimated)")
        peak = rec.get("target_peak_rss_gb")
        rank = rec.get("rank") if rec.get("rank_sweep_run") == "defaults" else "(1)"
        lines.append(f"| {n} | {shape[0]} × {shape[2]} | {fmt('read')} | {fmt('affinity')} | {sweep} | "
                     f"{fmt('final_ntf')} | {fmt('communities')} | {total_txt} | "
                     f"{'–' if peak is None else f'{peak:.2f}'} GiB ({rec['plan_peak_gb']:.2f}) | {rank} |")
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--table"]:
        print(markdown_table(Path(sys.argv[2]) if len(sys.argv) > 2 else RESULTS / "connectome_scale.json"))
        sys.exit(0)
    sys.exit(main())
