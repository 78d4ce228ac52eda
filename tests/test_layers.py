"""The shape of the package, checked from its source (issue 10, "Measures").

* The import graph of ``wsgi_sio`` has no cycle, counting every import: module level,
  inside functions, and under ``TYPE_CHECKING`` (a type-only import that closes a loop still
  says that two modules know each other); and no import runs from a layer up to a higher one
  (``LAYERS``).
* ``wsgi_sio.protocol`` imports only the standard library: it is the sans-IO core.
* gevent (and gevent-websocket, gunicorn) are imported in one package: ``wsgi_sio.green``.
* No module reads or writes another module's ``_private`` names: ``x._name``, on anything but
  ``self``, ``cls`` or ``super()``, is allowed only where ``_name`` is defined in the same
  module (a name private to another module of the package is the bug).

The checks read the files with ``ast``; nothing is imported, so they also hold for modules
whose optional dependencies (redis, Django) are missing.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "wsgi_sio"
GEVENT_FAMILY = {"gevent", "geventwebsocket", "gunicorn"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))
            if "node_modules" not in p.parts}


MODULES = modules()


def imports_of(name: str, path: Path) -> list[tuple[str, int]]:
    """Every module ``name`` imports (absolute names), with the line of the import."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, node.lineno))
            for alias in node.names:  # "from . import x" may name a submodule
                if f"{target}.{alias.name}" in MODULES:
                    found.append((f"{target}.{alias.name}", node.lineno))
    return found


def internal_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for target, _ in imports_of(name, path):
            # importing a.b.c runs a, a.b and a.b.c: the deepest one known is the edge
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for succ in graph[node]:
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_import_graph_has_no_cycle() -> None:
    assert cycles(internal_graph()) == []


# The layers, lowest first (README "Layout"); the longest matching prefix names a module's
# layer. A module may import from its own layer and the ones below, never from above.
LAYERS = [
    ["wsgi_sio.protocol"],
    ["wsgi_sio.runtime", "wsgi_sio.testing"],
    ["wsgi_sio.green"],
    ["wsgi_sio.runtime_choice"],
    ["wsgi_sio.engine"],
    ["wsgi_sio.managers.recovery"],
    ["wsgi_sio.managers.in_process", "wsgi_sio.managers.wire", "wsgi_sio.managers.streams_wire",
     "wsgi_sio.managers.remote"],
    ["wsgi_sio.socketio", "wsgi_sio.legacy09"],  # Server(allow_legacy_09=True) loads legacy09
    ["wsgi_sio.managers.peers"],
    ["wsgi_sio.namespaces", "wsgi_sio.middleware", "wsgi_sio.managers.redis_manager",
     "wsgi_sio.managers.redis_streams", "wsgi_sio.managers.stream_log", "wsgi_sio.managers.emitter"],
    ["wsgi_sio.django"],
    ["wsgi_sio.django.management", "wsgi_sio.compat", "wsgi_sio.cli", "wsgi_sio.__main__",
     "wsgi_sio.managers", "wsgi_sio"],  # the packages' re-exports and the entry points
]


def layer_of(name: str) -> int:
    best, rank = "", -1
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > len(best):
                best, rank = prefix, index
    assert rank >= 0, f"{name} is in no layer: add it to LAYERS"
    return rank


def test_no_import_runs_up_a_layer() -> None:
    upward = [f"{name} ({layer_of(name)}) imports {target} ({layer_of(target)})"
              for name, targets in internal_graph().items() for target in targets
              if layer_of(target) > layer_of(name)]
    assert upward == []


def test_the_protocol_core_imports_only_the_standard_library() -> None:
    for name, path in MODULES.items():
        if name == "wsgi_sio.protocol" or name.startswith("wsgi_sio.protocol."):
            for target, line in imports_of(name, path):
                top = target.split(".")[0]
                assert top == "wsgi_sio" and target.startswith("wsgi_sio.protocol") or (
                    top in sys.stdlib_module_names or top == "__future__"), f"{path}:{line} {target}"


def test_gevent_is_imported_in_one_package() -> None:
    for name, path in MODULES.items():
        if name == "wsgi_sio.green" or name.startswith("wsgi_sio.green."):
            continue
        for target, line in imports_of(name, path):
            assert target.split(".")[0] not in GEVENT_FAMILY, f"{path}:{line} imports {target}"


def defined_names(path: Path) -> set[str]:
    """Names a module defines: functions, classes, assigned names and attributes, slots."""
    defined: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            defined.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            defined.add(node.value)  # names in __slots__
    return defined


DEFINED = {path: defined_names(path) for path in MODULES.values()}
OURS = set().union(*DEFINED.values())


def private_reach(path: Path) -> list[str]:
    """``x._name`` where ``_name`` is private to another module of the package (defined
    there, not here). Private names of other libraries (the pywsgi handler that our handler
    subclasses has a few) are not this check's business."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute) and not _own(node.value):
            attr = node.attr
            if (attr.startswith("_") and not attr.startswith("__") and attr in OURS
                    and attr not in DEFINED[path]):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} .{attr}")
    return found


def _own(value: ast.expr) -> bool:
    """``self``, ``cls`` or ``super()``: a class's own state, inherited state included."""
    if isinstance(value, ast.Name):
        return value.id in ("self", "cls")
    return (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
            and value.func.id == "super")


def test_no_module_reaches_into_another_modules_private_names() -> None:
    found = [hit for path in MODULES.values() for hit in private_reach(path)]
    assert found == []
