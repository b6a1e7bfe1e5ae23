"""Which library code a script uses, found by reading its imports (no code is run).

The workflow gives every rule a code parameter that hashes the library files its script
uses, directly or through other modules, so that Snakemake re-runs a rule when code it
uses changes and leaves it alone otherwise: a plotting change redraws figures and refits
nothing.  :func:`library_modules` reads the script and follows, through every
``neurodyn`` module it reaches:

- ``import neurodyn.a.b``, ``from neurodyn.a import b`` (``b`` a module) and relative
  imports (``from .b import f``, ``from .. import io``);
- imports anywhere in a file, including the lazy ones inside functions;
- a string that names a module (``"neurodyn.data.synthetic:synthetic_cohort"``, the form
  of ``importlib.import_module`` and of entry points).

A name taken from a module (``from neurodyn.connectome.chain import flag_background``)
follows what that name needs: the module's file is hashed whole, but of its imports only
those that the name's definition refers to, directly or through the module's other
definitions, are followed (and those of module-level statements that define nothing,
which run on import).  So a package ``__init__`` that re-exports sixty names, or a module
whose other functions call the community search, does not tie a script to code it never
calls.  A name that is not found in its module (``__getattr__``, star imports) follows
the whole module.  A package's ``__init__`` runs when any of its modules is imported: its
text is part of the hash.  Data files that a module names relative to its folder
(``"bundled"`` in :mod:`neurodyn.data.anatomy`) are hashed with it.

The walk over-approximates (a local variable that shares a global's name counts as a use
of it); it misses only code reached by means it cannot read, such as a module name built
at run time.

>>> code_hash("workflow/scripts/qc_figure.py")[:16]      # doctest: +SKIP
'3f0c2b9d8e1a7c55'
"""

from __future__ import annotations

import ast
import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ModuleGraph", "code_hash", "library_modules", "module_files"]

#: Suffixes of the data files (bundled tables) that a module may read from its folder.
DATA_SUFFIXES = (".csv",)
#: A request for every definition of a module (its whole import graph).
WHOLE = "*"


@dataclass(frozen=True)
class _Statement:
    """One module-level statement: the names it binds, the global names it reads, and
    the library code its imports (at any depth inside it) refer to."""

    defines: frozenset[str]
    loads: frozenset[str]
    edges: frozenset[tuple[str, str]]  # (module, name or WHOLE)


@dataclass(frozen=True, eq=False)
class _Module:
    statements: tuple[_Statement, ...]
    strings: frozenset[str]

    @functools.cached_property
    def defined_by(self) -> dict[str, tuple[int, ...]]:
        """Name -> indices of the statements that bind it."""
        index: dict[str, list[int]] = {}
        for i, statement in enumerate(self.statements):
            for name in statement.defines:
                index.setdefault(name, []).append(i)
        return {name: tuple(found) for name, found in index.items()}


class ModuleGraph:
    """The ``package`` modules under ``root`` and what their definitions import.

    Parameters
    ----------
    package : str
        Top-level package whose modules are followed (other packages are left out).
    root : path, optional
        Folder that holds the package folder (default: where ``package`` is imported from).
    """

    def __init__(self, package: str = "neurodyn", root: str | os.PathLike | None = None):
        if root is None:
            import importlib

            root = Path(importlib.import_module(package).__file__).resolve().parents[1]
        self.package = package
        self.root = Path(root).resolve()
        self.files: dict[str, Path] = {}
        for path in sorted(p.resolve() for p in (self.root / package).rglob("*.py")):
            rel = path.relative_to(self.root)
            if "__pycache__" in rel.parts:
                continue
            parts = list(rel.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            self.files[".".join(parts)] = path
        self._parsed: dict[Path, _Module] = {}

    # -- reading one file ------------------------------------------------------------
    def _is_package(self, module: str) -> bool:
        return module in self.files and self.files[module].name == "__init__.py"

    def _known(self, dotted: str) -> str | None:
        """The longest prefix of ``dotted`` that is a module of the package."""
        parts = dotted.split(".")
        for n in range(len(parts), 0, -1):
            if ".".join(parts[:n]) in self.files:
                return ".".join(parts[:n])
        return None

    def _base(self, module: str | None, node: ast.ImportFrom) -> str | None:
        """Absolute name of the module that an ``ImportFrom`` takes from."""
        if not node.level:
            return node.module
        if module is None:  # a relative import outside the package: nothing to resolve
            return None
        parts = module.split(".") if self._is_package(module) else module.split(".")[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        if not parts:
            return None
        return ".".join(parts + ([node.module] if node.module else []))

    def _import_edges(self, node: ast.AST, module: str | None) -> list[tuple[str, tuple[str, str]]]:
        """(name bound, edge) of one import statement; empty for other nodes."""
        found = []
        if isinstance(node, ast.Import):
            for alias in node.names:
                known = self._known(alias.name)
                if known:
                    found.append((alias.asname or alias.name.split(".")[0], (known, WHOLE)))
        elif isinstance(node, ast.ImportFrom):
            base = self._base(module, node)
            known = None if base is None else self._known(base)
            if known is None:
                return found
            for alias in node.names:
                bound = alias.asname or alias.name
                if f"{base}.{alias.name}" in self.files:
                    found.append((bound, (f"{base}.{alias.name}", WHOLE)))
                elif alias.name != "*" and base == known:
                    found.append((bound, (base, alias.name)))
                else:  # a star import, or a name below a module: the whole module
                    found.append((bound, (known, WHOLE)))
        return found

    def _statement(self, node: ast.stmt, module: str | None, strings: set[str]) -> _Statement:
        defines: set[str] = set()
        loads: set[str] = set()
        edges: set[tuple[str, str]] = set()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defines.add(node.name)
        for bound, edge in self._import_edges(node, module):
            defines.add(bound)
            edges.add(edge)
        is_def = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        for child in ast.walk(node):
            if child is not node:
                edges.update(edge for _, edge in self._import_edges(child, module))
            if isinstance(child, ast.Name):
                if isinstance(child.ctx, ast.Load):
                    loads.add(child.id)
                elif not is_def:  # a module-level assignment (comprehension variables too: harmless)
                    defines.add(child.id)
            elif isinstance(child, ast.Constant) and isinstance(child.value, str):
                strings.add(child.value)
                dotted = child.value.split(":", 1)[0].strip()
                if (dotted == self.package or dotted.startswith(self.package + ".")) and dotted in self.files:
                    edges.add((dotted, WHOLE))
        return _Statement(frozenset(defines), frozenset(loads - defines), frozenset(edges))

    def _parse(self, path: Path, module: str | None) -> _Module:
        if path not in self._parsed:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            strings: set[str] = set()
            statements = tuple(self._statement(node, module, strings) for node in _module_statements(tree))
            self._parsed[path] = _Module(statements, frozenset(strings))
        return self._parsed[path]

    # -- following the imports ---------------------------------------------------------
    def _parents(self, module: str) -> list[str]:
        parts = module.split(".")
        return [p for p in (".".join(parts[:n]) for n in range(1, len(parts))) if p in self.files]

    def _needs(self, info: _Module, names: set[str]) -> set[tuple[str, str]] | None:
        """Edges that the definitions of ``names`` (with what they read in their module)
        and the module's plain statements need; None when a name is not defined here."""
        if any(name not in info.defined_by for name in names):
            return None
        chosen = {i for i, s in enumerate(info.statements) if not s.defines}
        todo = [n for i in chosen for n in info.statements[i].loads] + list(names)
        while todo:
            for i in info.defined_by.get(todo.pop(), ()):
                if i not in chosen:
                    chosen.add(i)
                    todo.extend(info.statements[i].loads)
        return {e for i in chosen for e in info.statements[i].edges}

    def modules_of(self, script: str | os.PathLike) -> list[str]:
        """Sorted names of the package modules whose files :meth:`code_hash` reads for
        ``script`` (see the module docstring)."""
        script = Path(script).resolve()
        inside = next((m for m, f in self.files.items() if f == script), None)
        info = self._parse(script, inside)
        todo: list[tuple[str, str]] = [e for s in info.statements for e in s.edges]
        if inside is not None:
            todo.append((inside, WHOLE))
        asked: dict[str, set[str]] = {}  # module -> names requested ("" = imported only)
        whole: set[str] = set()
        while todo:
            module, name = todo.pop()
            names = asked.setdefault(module, set())
            if module in whole or name in names:
                continue
            names.add(name)
            todo.extend((parent, "") for parent in self._parents(module))
            info = self._parse(self.files[module], module)
            edges = None if name == WHOLE else self._needs(info, names - {""})
            if edges is None:  # all of it, or a name the module does not define
                whole.add(module)
                edges = {e for s in info.statements for e in s.edges}
            todo.extend(edges)
        return sorted(asked)

    def files_of(self, script: str | os.PathLike) -> list[Path]:
        """The files :meth:`code_hash` reads for ``script``: its modules and the data files
        they name, sorted."""
        paths: set[Path] = set()
        for module in self.modules_of(script):
            paths.add(self.files[module])
            paths.update(self._data_files(module))
        return sorted(paths)

    @functools.lru_cache(maxsize=None)  # noqa: B019 - one graph per tree, kept for the run
    def _data_files(self, module: str) -> tuple[Path, ...]:
        """Data files under the folder of ``module`` that a string in it names."""
        path = self.files[module]
        found: set[Path] = set()
        for text in self._parse(path, module).strings:
            if not text or len(text) > 200 or text in {".", ".."} or any(c in text for c in "\n\0 {}%"):
                continue
            candidate = path.parent / text
            if not os.path.exists(candidate):
                continue
            candidate = candidate.resolve()
            if candidate == path.parent.resolve() or not candidate.is_relative_to(self.root / self.package):
                continue
            files = [candidate] if candidate.is_file() else sorted(candidate.rglob("*"))
            found.update(p for p in files if p.is_file() and p.suffix in DATA_SUFFIXES)
        return tuple(sorted(found))

    def code_hash(self, script: str | os.PathLike) -> str:
        """SHA-256 (hex) of the files of :meth:`files_of`, by path relative to the root and
        content: the same for two checkouts of one commit, changed by any edit to them."""
        digest = hashlib.sha256()
        for path in self.files_of(script):
            data = path.read_bytes()
            digest.update(f"{path.resolve().relative_to(self.root).as_posix()}\0{len(data)}\0".encode())
            digest.update(data)
        return digest.hexdigest()


def _module_statements(tree: ast.Module) -> list[ast.stmt]:
    """The statements that run on import, with ``if``/``try``/``with`` blocks opened up
    (so that an import under ``try:`` binds its name like one at the top)."""
    found: list[ast.stmt] = []
    todo = list(reversed(tree.body))
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.If, ast.Try, ast.With)) or type(node).__name__ == "TryStar":
            found.append(_test_of(node))
            blocks = [getattr(node, a, []) for a in ("body", "orelse", "finalbody")]
            blocks += [h.body for h in getattr(node, "handlers", [])]
            todo.extend(reversed([s for block in blocks for s in block]))
        else:
            found.append(node)
    return found


def _test_of(node: ast.stmt) -> ast.stmt:
    """The part of a compound statement that is not its blocks, as a plain statement."""
    parts = []
    if isinstance(node, ast.If):
        parts.append(node.test)
    elif isinstance(node, ast.With):
        parts.extend(item.context_expr for item in node.items)
    else:
        parts.extend(h.type for h in getattr(node, "handlers", []) if h.type is not None)
    return ast.Expr(value=ast.Tuple(elts=parts, ctx=ast.Load()))


@functools.lru_cache(maxsize=8)
def _graph(package: str, root: str | None) -> ModuleGraph:
    return ModuleGraph(package, root)


def library_modules(script: str | os.PathLike, package: str = "neurodyn",
                    root: str | os.PathLike | None = None) -> list[str]:
    """Names of the ``package`` modules that ``script`` uses, directly or transitively."""
    return _graph(package, None if root is None else str(root)).modules_of(script)


def module_files(script: str | os.PathLike, package: str = "neurodyn",
                 root: str | os.PathLike | None = None) -> list[Path]:
    """Files (modules and the data files they name) behind :func:`library_modules`."""
    return _graph(package, None if root is None else str(root)).files_of(script)


def code_hash(script: str | os.PathLike, package: str = "neurodyn",
              root: str | os.PathLike | None = None) -> str:
    """SHA-256 (hex) of the library code ``script`` uses (:func:`module_files`)."""
    return _graph(package, None if root is None else str(root)).code_hash(script)
