"""The reader registry: every file format is a named :class:`Reader`.

Readers are found through the entry-point group ``neurodyn.readers`` (a name and
``module:object``), so a package outside neurodyn can add a format without touching it::

    # pyproject.toml of the other package
    [project.entry-points."neurodyn.readers"]
    my_format = "my_package.neurodyn_reader:READER"

The object is a :class:`Reader` or a plain callable ``read(path, **options) -> Recording``
(then it is used only when asked for by name: ``format="my_format"`` /
``reader: my_format``).  The built-in readers are registered the same way in neurodyn's
own ``pyproject.toml``; :data:`BUILTIN_READERS` repeats that table so that a checkout whose
package metadata predates a reader (an editable install not re-installed) still finds it.
A built-in name always means the built-in reader: an entry point that reuses it for
another object is ignored with a warning.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xarray as xr

from neurodyn.errors import InputFileError, InvalidInputError

log = logging.getLogger("neurodyn.data")

ENTRY_POINT_GROUP = "neurodyn.readers"

#: name -> ``module:object`` of the readers that ship with neurodyn (the same table as
#: ``[project.entry-points."neurodyn.readers"]`` in pyproject.toml).
BUILTIN_READERS: dict[str, str] = {
    "flavell_h5": "neurodyn.data.readers.flavell:READER",
    "nwb": "neurodyn.data.readers.nwb:READER",
    "npz": "neurodyn.data.readers.arrays:NPZ_READER",
    "csv": "neurodyn.data.readers.arrays:CSV_READER",
    "netcdf": "neurodyn.data.readers.netcdf:READER",
    "suite2p": "neurodyn.data.readers.suite2p:READER",
    "caiman": "neurodyn.data.readers.caiman:READER",
}


@dataclass(frozen=True)
class Reader:
    """A file format: how to read it and how to recognise it.

    Parameters
    ----------
    read : callable ``read(path, **options)`` returning a Recording (``xarray.Dataset``).
    suffixes : file suffixes (lower case, with the dot) that point to this reader when no
        format is given.
    directory : the reader takes a folder (e.g. suite2p output) rather than a file.
    detect : optional ``detect(path) -> bool`` that looks inside a file or folder; it
        decides between readers that share a suffix (``.h5``) and finds folder formats.
        It must not raise.
    description : one line for listings.
    """

    read: Callable[..., xr.Dataset]
    suffixes: tuple[str, ...] = ()
    directory: bool = False
    detect: Callable[[Path], bool] | None = None
    description: str = ""

    def options(self) -> set[str] | None:
        """Keyword options ``read`` takes (besides the path); None when it takes ``**kwargs``."""
        params = list(inspect.signature(self.read).parameters.values())
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            return None
        return {p.name for p in params[1:] if p.kind in (inspect.Parameter.KEYWORD_ONLY,
                                                           inspect.Parameter.POSITIONAL_OR_KEYWORD)}


def _as_reader(obj: Any, name: str, origin: str) -> Reader:
    if isinstance(obj, Reader):
        return obj
    if callable(obj):
        suffixes = tuple(s.lower() for s in getattr(obj, "suffixes", ()))
        return Reader(read=obj, suffixes=suffixes, directory=bool(getattr(obj, "directory", False)),
                      detect=getattr(obj, "detect", None), description=str(getattr(obj, "__doc__", "") or "")
                      .strip().split("\n")[0])
    raise InvalidInputError(f"{origin} is a {type(obj).__name__}; expected a neurodyn.data.readers.Reader or a "
                            f"callable read(path, **options)", field=name)


def _load_value(value: str) -> Any:
    module, _, attr = value.partition(":")
    obj = importlib.import_module(module.strip())
    for part in filter(None, attr.strip().split(".")):
        obj = getattr(obj, part)
    return obj


def _entry_points() -> list:
    try:
        return list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))
    except Exception as exc:  # noqa: BLE001 - broken metadata of some other package must not stop reading
        log.warning("cannot list entry points of %s: %s", ENTRY_POINT_GROUP, exc)
        return []


def registered_names() -> dict[str, str]:
    """name -> ``module:object`` of every reader: the built-ins, then the entry points."""
    table = dict(BUILTIN_READERS)
    for ep in _entry_points():
        if ep.name in BUILTIN_READERS:
            if ep.value.replace(" ", "") != BUILTIN_READERS[ep.name]:
                log.warning("entry point %s = %s (group %s) reuses a built-in reader name; ignored",
                            ep.name, ep.value, ENTRY_POINT_GROUP)
            continue
        table.setdefault(ep.name, ep.value)
    return table


def get_reader(name: str, source: str | None = None) -> Reader:
    """The reader registered under ``name``; InvalidInputError (field ``format``) if none."""
    table = registered_names()
    if name not in table:
        raise InvalidInputError(f"unknown format {name!r}; expected one of {sorted(table)} (readers come from "
                                f"the entry-point group {ENTRY_POINT_GROUP!r})", source=source, field="format")
    origin = f"reader {name!r} ({table[name]})"
    try:
        obj = _load_value(table[name])
    except Exception as exc:  # noqa: BLE001 - a third-party plugin may fail in any way on import
        raise InvalidInputError(f"{origin} cannot be loaded: {type(exc).__name__}: {exc}", source=source,
                                field="format") from None
    return _as_reader(obj, "format", origin)


def available_readers() -> dict[str, Reader]:
    """Every reader that loads (a plugin that fails to load is skipped with a warning)."""
    out = {}
    for name in registered_names():
        try:
            out[name] = get_reader(name)
        except InvalidInputError as exc:
            log.warning("%s", exc)
    return out


def detect_format(path: str | Path) -> str:
    """The reader name for ``path``: folder formats by content, files by suffix then content.

    Raises InputFileError when ``path`` does not exist and InvalidInputError (field
    ``format``) when no reader recognises it.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError("not found", source=str(path))
    readers = available_readers()
    suffix = path.suffix.lower()
    if path.is_dir():
        for name, reader in readers.items():
            if reader.directory and _detects(reader, path):
                return name
        by_suffix = [n for n, r in readers.items() if suffix in r.suffixes and not r.directory]
        if by_suffix:
            return by_suffix[0]  # its reader refuses a folder with a clear message
        folders = sorted(n for n, r in readers.items() if r.directory)
        raise InvalidInputError(f"a folder that no folder reader recognises ({folders}); a suite2p folder holds "
                                f"plane*/F.npy (or suite2p/plane*/F.npy); pass format= / --reader to choose",
                                source=str(path), field="format")
    candidates = [n for n, r in readers.items() if suffix in r.suffixes and not r.directory]
    if not candidates:
        known = sorted({s for r in readers.values() for s in r.suffixes})
        raise InvalidInputError(f"cannot tell the format from suffix {suffix!r}; pass format= one of "
                                f"{sorted(readers)} (known suffixes: {known})", source=str(path), field="format")
    for name in candidates:
        if readers[name].detect is not None and _detects(readers[name], path):
            return name
    return candidates[0]


def _detects(reader: Reader, path: Path) -> bool:
    if reader.detect is None:
        return False
    try:
        return bool(reader.detect(path))
    except Exception:  # noqa: BLE001 - detection only looks; the chosen reader reports problems
        return False


class _Formats(Mapping):
    """name -> read function of every registered reader (looked up on each access)."""

    def __getitem__(self, name: str) -> Callable[..., xr.Dataset]:
        if name not in registered_names():
            raise KeyError(name)
        return get_reader(name).read

    def __iter__(self) -> Iterator[str]:
        return iter(registered_names())

    def __len__(self) -> int:
        return len(registered_names())

    def __repr__(self) -> str:
        return f"FORMATS({sorted(self)})"


#: name -> read function of every registered reader (built-ins and plugins).
FORMATS: Mapping[str, Callable[..., xr.Dataset]] = _Formats()
