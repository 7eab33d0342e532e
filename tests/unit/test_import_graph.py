"""The layers as the imports show them (docs/ARCHITECTURE.md, ADR 0021).

The module graph is read from the source with ``ast``, every ``import`` counted: those at
the top, those inside functions and those under ``if TYPE_CHECKING:`` (a cycle hidden in a
function or behind a type-only import is still two modules that know each other).

- ``collab/`` imports nothing from ``server/``;
- no two modules of ``server/`` or ``collab/`` import each other, directly or round a
  longer circle;
- route modules (``server/http/``) and real time (``server/realtime/``) reach storage
  through repositories, never the table definitions.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("collab", "server")

# What a transport module may import from server/db: the repositories (SQL behind
# functions) and the engine's `read_only` marker. The tables (`models`, `auth_models`)
# and the migrations are internals.
DB_INTERNALS = {"server.db.models", "server.db.auth_models", "server.db.migrations"}

# TODO(issue 11, item 1): route modules that still use tables directly. The list may only
# shrink: a pair that no longer occurs fails the test until it is taken off.
DB_INTERNALS_STILL_USED = {
    ("server.http.accesslog_routes", "server.db.models"),
    ("server.http.consent_routes", "server.db.models"),
    ("server.http.invite_routes", "server.db.auth_models"),
    ("server.http.invite_routes", "server.db.models"),
    ("server.http.meeting_routes", "server.db.models"),
    ("server.http.oidc_routes", "server.db.auth_models"),
    ("server.http.oidc_routes", "server.db.models"),
    ("server.http.plan_routes", "server.db.models"),
    ("server.http.session_routes", "server.db.models"),
}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The modules of this project that ``name`` imports, anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    named: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            named.add(base)
            # `from a.b import c` imports the module a.b.c when there is one.
            named.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in named if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_graph_is_read_from_the_source() -> None:
    # The reader finds top-level, relative, function-level and type-only imports.
    assert "server.http.common" in GRAPH["server.http.plan_routes"]
    assert "server.realtime.hub" in GRAPH["server.realtime.namespace"]
    assert "collab.meeting" in GRAPH["collab.policy"]
    assert "server.meeting_service" in GRAPH["server.app"]
    assert "server.mail" in GRAPH["server.meeting_service"]  # imported inside a function
    assert len(MODULES) > 60


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_collab_imports_nothing_from_server() -> None:
    wrong = {
        (name, target)
        for name, targets in GRAPH.items()
        if name.startswith("collab")
        for target in targets
        if target.startswith("server")
    }
    assert wrong == set()


def test_no_module_imports_in_a_circle() -> None:
    assert _cycles(GRAPH) == []


def test_routes_and_realtime_reach_storage_through_repositories() -> None:
    used = {
        (name, target)
        for name, targets in GRAPH.items()
        if name.startswith(("server.http.", "server.realtime."))
        for target in targets
        if target in DB_INTERNALS
    }
    assert not {pair for pair in used if pair[0].startswith("server.realtime.")}
    assert used - DB_INTERNALS_STILL_USED == set(), "new direct use of tables"
    assert DB_INTERNALS_STILL_USED - used == set(), "done: take these off the TODO list"
