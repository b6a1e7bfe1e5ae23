"""The ``neurodyn`` command line (also ``python -m neurodyn``).

``neurodyn inspect FILE [--reader R]``
    Read a recording with the reader layer (:func:`neurodyn.data.read_recording`, which
    validates it), and print what the analyses will see: neurons, identified neurons,
    duration, sampling rate, behaviour fields and the fraction of missing samples.  On a
    result of the pipeline (a NetCDF, or a CSV with its ``.provenance.json`` sidecar) it
    prints its dimensions or columns instead, and for every file that has it, where it
    came from (:func:`neurodyn.io.provenance`: package version, git commit and dirty
    flag, library versions, config hash, seed, code version).
``neurodyn info``
    The package version and the array backends available here (numpy, torch and whether
    it sees a CUDA device, cupy).

Bad input exits with status 1 and a one-line message that names the file, the field and
what was expected; usage errors exit with status 2.
"""

from __future__ import annotations

import argparse
import inspect
import json
import platform
import sys
from collections.abc import Sequence
from typing import Any

EXIT_BAD_INPUT = 1


def recording_summary(rec) -> dict[str, Any]:
    """What :func:`inspect <main>` prints about a validated Recording, as a dict."""
    import numpy as np

    from neurodyn.data import behavior_names, identified_neurons

    time = np.asarray(rec["time"].values, dtype=float)
    traces = np.asarray(rec["traces"].values)
    return {
        "animal": str(rec.attrs.get("animal", "")),
        "neurons": int(rec.sizes["neuron"]),
        "identified_neurons": len(identified_neurons(rec)),
        "frames": int(rec.sizes["time"]),
        "duration_s": float(time[-1] - time[0]),
        "sampling_rate_hz": float(rec.attrs["sampling_rate_hz"]),
        "behaviour": behavior_names(rec),
        "nan_fraction": float(np.isnan(traces).mean()),
    }


def _read(path: str, reader: str | None, labels: str | None, sampling_rate_hz: float | None):
    from neurodyn.data import read_recording

    kwargs: dict[str, Any] = {}
    if reader is not None:
        # The reader is chosen by the reader layer's own keyword (``reader=`` or ``format=``).
        params = inspect.signature(read_recording).parameters
        kwargs["reader" if "reader" in params else "format"] = reader
    if labels is not None:
        kwargs["labels"] = labels
    if sampling_rate_hz is not None:
        kwargs["sampling_rate_hz"] = sampling_rate_hz
    return read_recording(path, **kwargs)


#: Provenance keys in the order ``inspect`` prints them (others follow, sorted).
PROVENANCE_ORDER = ("neurodyn_version", "code_version", "git_commit", "git_dirty", "config_hash", "seed",
                    "python_version", "numpy_version", "scipy_version", "tensorly_version", "scikit_learn_version",
                    "xarray_version", "snakemake_version")


def _provenance_of(path: str) -> dict[str, Any]:
    """Provenance keys of a result file (``config_json`` left out: it is long)."""
    from neurodyn.io import read_provenance

    try:
        found = read_provenance(path)
    except Exception:  # noqa: BLE001 - unreadable here; the reader layer says why below
        return {}
    order = {key: i for i, key in enumerate(PROVENANCE_ORDER)}
    keys = sorted((k for k in found if k in order or k.endswith("_version")),
                  key=lambda k: (order.get(k, len(order)), k))
    return {k: found[k] for k in keys}


def _result_summary(path: str) -> dict[str, Any] | None:
    """Dimensions and variables of a result NetCDF, columns of a result CSV (one with a
    provenance sidecar); None for anything else (a recording, or a file to read as one)."""
    from pathlib import Path

    from neurodyn.io import sidecar_path

    p = Path(path)
    if p.suffix == ".csv":
        if not sidecar_path(p).is_file():
            return None
        import pandas as pd

        table = pd.read_csv(p)
        return {"rows": int(len(table)), "columns": [str(c) for c in table.columns]}
    if p.suffix != ".nc":
        return None
    try:
        import xarray as xr

        with xr.open_dataset(p) as ds:
            if "traces" in ds.data_vars and ds["traces"].dims == ("time", "neuron"):
                return None  # a recording
            return {"dims": {str(k): int(v) for k, v in ds.sizes.items()},
                    "variables": [str(v) for v in ds.data_vars]}
    except Exception:  # noqa: BLE001 - not readable as a plain NetCDF: let the reader layer report it
        return None


def _provenance_lines(prov: dict[str, Any]) -> list[str]:
    if not prov:
        return ["provenance         (none recorded)"]
    lines = ["provenance"]
    for key, value in prov.items():
        if key == "git_dirty":
            value = "yes (uncommitted changes)" if int(value) else "no"
        lines.append(f"  {key:<21}{value}")
    return lines


def _inspect(args: argparse.Namespace) -> int:
    result = _result_summary(args.file) if args.reader is None else None
    if result is not None:
        summary = {"file": args.file, **result, "provenance": _provenance_of(args.file)}
        if args.json:
            print(json.dumps(summary, indent=2, default=str))
            return 0
        if "dims" in result:
            lines = [f"file               {args.file}",
                     f"dimensions         {', '.join(f'{k}={v}' for k, v in result['dims'].items()) or '(none)'}",
                     f"variables          {', '.join(result['variables']) or '(none)'}"]
        else:
            lines = [f"file               {args.file}",
                     f"rows               {result['rows']}",
                     f"columns            {', '.join(result['columns'])}"]
        print("\n".join(lines + _provenance_lines(summary["provenance"])))
        return 0
    rec = _read(args.file, args.reader, args.labels, args.sampling_rate_hz)
    summary = {"file": args.file, **recording_summary(rec)}
    prov = {k: v for k, v in _provenance_of(args.file).items()} if args.file.endswith(".nc") else {}
    if args.json:
        print(json.dumps({**summary, **({"provenance": prov} if prov else {})}, indent=2, default=str))
        return 0
    identified = summary["identified_neurons"]
    lines = [
        f"file               {summary['file']}",
        f"animal             {summary['animal']}",
        f"neurons            {summary['neurons']}",
        f"identified neurons {identified}" + ("" if identified else " (no names: cross-animal steps need them)"),
        f"duration           {summary['duration_s']:.1f} s ({summary['frames']} frames)",
        f"sampling rate      {summary['sampling_rate_hz']:.4g} Hz",
        f"behaviour          {', '.join(summary['behaviour']) or '(none)'}",
        f"NaN fraction       {summary['nan_fraction']:.4f}",
    ]
    if prov:
        lines += _provenance_lines(prov)
    print("\n".join(lines))
    return 0


def backend_info() -> dict[str, Any]:
    """Version, Python, and the array backends importable here (with CUDA visibility)."""
    import numpy as np

    import neurodyn
    from neurodyn import backend

    info: dict[str, Any] = {
        "neurodyn": neurodyn.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": None,
        "cuda": False,
        "cuda_devices": [],
        "cupy": backend.is_available("cupy"),
    }
    if backend.is_available("torch"):
        import torch

        info["torch"] = torch.__version__
        info["cuda"] = bool(torch.cuda.is_available())
        if info["cuda"]:
            info["cuda_devices"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return info


def _info(args: argparse.Namespace) -> int:
    info = backend_info()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    cuda = ", ".join(info["cuda_devices"]) if info["cuda"] else "not visible"
    print("\n".join([
        f"neurodyn  {info['neurodyn']}",
        f"python    {info['python']}",
        f"numpy     {info['numpy']}",
        f"torch     {info['torch'] or 'not installed (pip install neurodyn[torch])'}",
        f"cuda      {cuda}" + ("" if info["torch"] else " (needs torch)"),
        f"cupy      {'installed' if info['cupy'] else 'not installed'}",
    ]))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="neurodyn", description="neurodyn command line tools.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("inspect", help="summarise a recording or a result file, with its provenance",
                       description="Read one recording with neurodyn's readers, validate it and print a "
                                   "summary (neurons, identified neurons, duration, rate, behaviour, NaNs); "
                                   "on a result file (NetCDF, or CSV with a .provenance.json sidecar) print its "
                                   "dimensions or columns. Both with the provenance the file records (package "
                                   "version, git commit, library versions, config hash, seed).")
    p.add_argument("file", help="recording or result file (or folder, for readers that take one)")
    p.add_argument("--reader", help="reader name (default: from the file suffix)")
    p.add_argument("--labels", help="neuron-identity labels file, for readers that take one")
    p.add_argument("--sampling-rate-hz", type=float, help="frame rate, for files that carry no time axis")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(run=_inspect)

    p = sub.add_parser("info", help="print the version and the available array backends")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(run=_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``neurodyn`` console script; returns the exit status."""
    from neurodyn.errors import NeurodynError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (NeurodynError, OSError, ValueError) as exc:
        print(f"neurodyn {args.command}: error: {str(exc).strip()}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
