"""The import rules of the package, read from the source (AST), for any tree laid out like it.

- inside ``studio/core`` each part imports only the parts below it (:data:`CORE_ALLOWED`);
- ``studio/core`` imports nothing else of ``studio`` (no command, studio window, report,
  integration or benchmark);
- no module imports itself through a loop of imports (a cycle), at any depth;
- Qt only in ``studio/gui`` and the GUI benchmarks' window drivers; torch only in
  ``studio/integrations`` and the benchmarks that measure it;
- the training code reaches export, sources and the torch integration through their package
  faces only (:data:`TRAIN_SEAMS`), and the torch integration never imports it;
- no private name (``_x``) imported from another module;
- no private member reached on another module's object (:func:`private_reaches`).

Imports under ``if TYPE_CHECKING:`` are not imports at run time and are left out; imports inside
functions count (a lazy import still ties the two modules together).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: part of studio/core -> the parts it may import (besides itself)
CORE_ALLOWED: dict[str, set[str]] = {
    "model": set(),
    "ops": {"model"},
    "io": {"model"},
    "sources": {"model", "io"},
    "engine": {"model", "ops", "io", "sources"},
    "jobs": {"model", "io"},
    "export": {"model", "ops", "io", "sources", "engine", "jobs"},
}
#: the packages the training code (``studio.integrations.train``) reaches only through their
#: face (``__init__``): it stands on their public seams, not on their modules
TRAIN_SEAMS = ("studio.core.export", "studio.core.sources", "studio.integrations.torch")
QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "superqt", "qtpy", "pyqtgraph")
#: the studio, and the benchmarks that drive its window (the suite ``bench/gui.py`` itself
#: runs them in subprocesses and needs no Qt)
QT_ALLOWED = (
    "studio/gui/",
    "studio/bench/gui_latency.py",
    "studio/bench/gui_browse.py",
    "studio/bench/gui_review.py",
)
TORCH_ALLOWED = ("studio/integrations/", "studio/bench/gpu.py", "studio/bench/train.py")


@dataclass(frozen=True)
class Import:
    source: str  #: importing module (dotted)
    target: str  #: imported module (dotted), resolved to a module of the tree when it is one
    names: tuple[str, ...]  #: the names taken (``from x import a, b``)
    path: str  #: importing file, relative to the tree's root
    line: int


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return skip


def imports(root: Path, package: str = "studio") -> Iterator[Import]:
    """Every import in the package's files under ``root`` (``root/package/...``)."""
    modules = {module_name(root, p) for p in (root / package).rglob("*.py")}
    for path in sorted((root / package).rglob("*.py")):
        name = module_name(root, path)
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_nodes(tree)
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(name, alias.name, (), rel, node.lineno)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    if sub in modules:  # from pkg import module
                        yield Import(name, sub, (), rel, node.lineno)
                    else:
                        yield Import(name, base, (alias.name,), rel, node.lineno)


def core_part(module: str) -> str | None:
    """``engine`` for ``studio.core.engine.render``; None outside core or at its root."""
    parts = module.split(".")
    if parts[:2] != ["studio", "core"] or len(parts) < 3:
        return None
    return parts[2] if parts[2] in CORE_ALLOWED else None


def violations(root: Path) -> list[str]:
    """Every broken rule, one line each (``file:line: what``)."""
    found: list[str] = []
    edges: dict[str, set[str]] = {}
    all_imports = list(imports(root))
    modules = {i.source for i in all_imports}
    for imp in all_imports:
        where = f"{imp.path}:{imp.line}"
        top = imp.target.split(".")[0]
        if top in QT and not imp.path.startswith(QT_ALLOWED):
            found.append(f"{where}: imports Qt ({imp.target})")
        if top == "torch" and not imp.path.startswith(TORCH_ALLOWED):
            found.append(f"{where}: imports torch")
        if not imp.target.startswith("studio"):
            continue
        if imp.target != imp.source and imp.target in modules:
            edges.setdefault(imp.source, set()).add(imp.target)
        private = [n for n in imp.names if n.startswith("_") and not n.startswith("__")]
        if private and imp.target != imp.source:
            found.append(f"{where}: imports the private {', '.join(private)} of {imp.target}")
        outside = not imp.target.startswith("studio.core") and imp.target != "studio"
        if imp.source.startswith("studio.core") and outside:  # ``studio``: the version
            found.append(f"{where}: core imports {imp.target}")
        if imp.source.startswith("studio.integrations.train"):
            inside = [f for f in TRAIN_SEAMS if imp.target.startswith(f"{f}.")]
            if inside:
                found.append(f"{where}: train reaches into {imp.target}: import from {inside[0]}")
        if imp.source.startswith("studio.integrations.torch") and imp.target.startswith(
            "studio.integrations.train"
        ):
            found.append(f"{where}: the torch integration imports the training code")
        mine, theirs = core_part(imp.source), core_part(imp.target)
        if mine and theirs and theirs != mine and theirs not in CORE_ALLOWED[mine]:
            found.append(f"{where}: {mine} imports {theirs} ({imp.target}): an arrow up")
    found += [f"cycle: {' -> '.join(c)}" for c in cycles(edges)]
    for path in sorted((root / "studio").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [f"{rel}:{line}: {what}" for line, what in private_reaches(tree)]
    return found


#: private names every namedtuple offers (its public API)
NAMEDTUPLE_API = {"_replace", "_asdict", "_fields", "_make", "_field_defaults"}


def _is_private(name: str) -> bool:
    return (
        name.startswith("_") and name != "_" and not (name.startswith("__") and name.endswith("__"))
    )


def _own_privates(cls: ast.ClassDef) -> set[str]:
    """The private members a class defines: in its body, or assigned on ``self``/``cls``."""
    own: set[str] = set()
    for stmt in cls.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            own.add(stmt.name)
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            own.add(stmt.target.id)
        elif isinstance(stmt, ast.Assign):
            own |= {t.id for t in stmt.targets if isinstance(t, ast.Name)}
    for node in ast.walk(cls):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id in ("self", "cls")
        ):
            own.add(node.attr)
    return {name for name in own if _is_private(name)}


def _open_names(tree: ast.Module) -> set[str]:
    """Module-level names whose private members the module may use: its own classes and
    functions, and modules from outside the package (``sys._getframe``, ``os._exit``)."""
    names: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            names |= {
                (a.asname or a.name).split(".")[0]
                for a in stmt.names
                if a.name.split(".")[0] != "studio"
            }
        elif isinstance(stmt, ast.ImportFrom) and not stmt.level:
            if (stmt.module or "").split(".")[0] != "studio":
                names |= {a.asname or a.name for a in stmt.names}
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(stmt.name)
    return names


def private_reaches(tree: ast.Module) -> list[tuple[int, str]]:
    """``x._member`` reaching into another object's private member: (line, the expression).

    Allowed: ``self._x`` and ``cls._x``; inside a class, any object's ``_x`` that the class
    itself defines (``other._key`` in ``__eq__``); ``Name._x`` where ``Name`` is a class or
    function of the same module or a module from outside the package; and the namedtuple
    API. Anything else (``canvas._set_corners``, ``self.canvas._fitted``, ``stats._offset``
    written by a function beside the class) is a reach: give the member a public name, or
    move the code to the class that owns it.
    """
    open_names = _open_names(tree)
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, own: frozenset[str]) -> None:
        if isinstance(node, ast.ClassDef):
            own = own | _own_privates(node)
        if (
            isinstance(node, ast.Attribute)
            and _is_private(node.attr)
            and node.attr not in NAMEDTUPLE_API
            and node.attr not in own
        ):
            base = node.value
            named = isinstance(base, ast.Name)
            if not (named and (base.id in ("self", "cls") or base.id in open_names)):
                found.append((node.lineno, f"reaches into {ast.unparse(node)}"))
        for child in ast.iter_child_nodes(node):
            visit(child, own)

    visit(tree, frozenset())
    return found


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One loop per strongly connected group of modules (Tarjan), each closed on its start."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return [[*g, g[0]] for g in groups]
