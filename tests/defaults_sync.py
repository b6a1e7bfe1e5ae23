"""Check that the config schema's defaults equal the library's defaults.

Used by the ``tests/test_defaults_<section>.py`` files: each names the schema section, the
library callable it feeds and, where they differ, how schema keys map to parameter names.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())

_MISSING = object()


def schema_node(section_path: str) -> dict:
    """The schema node at a dotted path of object keys, e.g. ``"states.real"``."""
    node = SCHEMA
    for key in filter(None, section_path.split(".")):
        node = node["properties"][key]
    return node


def schema_defaults(section_path: str) -> dict:
    """Every key of a schema section that declares a default, with that default."""
    props = schema_node(section_path).get("properties", {})
    return {k: v["default"] for k, v in props.items() if "default" in v}


def library_defaults(func) -> dict:
    """Parameter defaults of a function, or of a class's ``__init__``."""
    target = func.__init__ if inspect.isclass(func) else func
    out = {}
    for name, p in inspect.signature(target).parameters.items():
        if p.default is not inspect.Parameter.empty:
            out[name] = p.default
    return out


def _norm(v):
    if isinstance(v, tuple):
        return [_norm(x) for x in v]
    if isinstance(v, list):
        return [_norm(x) for x in v]
    return v


def assert_defaults_match(section_path: str, func, *, rename: dict | None = None,
                          ignore: tuple[str, ...] = ()) -> int:
    """Assert every schema default of the section equals ``func``'s default.

    ``rename`` maps schema keys to parameter names where they differ; keys in ``ignore``
    (workflow-only settings with no library parameter) are skipped. Returns how many pairs
    were compared, so a caller can assert it checked something.
    """
    rename = rename or {}
    lib = library_defaults(func)
    compared, wrong = 0, []
    for key, default in schema_defaults(section_path).items():
        if key in ignore:
            continue
        name = rename.get(key, key)
        if name not in lib:
            wrong.append(f"{section_path}.{key}: no parameter {name!r} with a default in {func.__qualname__}")
            continue
        compared += 1
        if _norm(lib[name]) != _norm(default):
            wrong.append(f"{section_path}.{key}: schema {default!r} != {func.__qualname__}({name}={lib[name]!r})")
    assert not wrong, "schema and library defaults disagree:\n" + "\n".join(wrong)
    return compared


def assert_signatures_match(a, b, *, ignore: tuple[str, ...] = ()) -> None:
    """A function/estimator pair keeps the same parameters and defaults."""
    da, db = library_defaults(a), library_defaults(b)
    da = {k: v for k, v in da.items() if k not in ignore}
    db = {k: v for k, v in db.items() if k not in ignore}
    assert da == db, f"{a.__qualname__} and {b.__qualname__} differ: {set(da.items()) ^ set(db.items())}"
