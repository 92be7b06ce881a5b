"""The layout DESIGN.md describes holds: no import cycles, none of its "never" edges, and the
agent as the only door into a conversation."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]

#: the modules that may drive the processor and take a conversation's lock themselves
DOORS = {ROOT / "parlez" / "agent.py", ROOT / "parlez" / "core" / "processor.py"}


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The groups of modules that import one another in a circle (Tarjan's components)."""
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        # Iterative, so a deep import chain cannot hit the recursion limit.
        work: list[tuple[str, Iterator[str]]] = [(start, iter(edges[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    work.append((child, iter(edges[child])))
                elif child in stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = [stack.pop()]
                while group[-1] != node:
                    group.append(stack.pop())
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_no_module_of_parlez_imports_itself_round_a_circle() -> None:
    graph = grimp.build_graph("parlez", exclude_type_checking_imports=True)
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_circle() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "a.b", "a.c", "a.d"):
        graph.add_module(module)
    graph.add_import(importer="a.b", imported="a.c")
    graph.add_import(importer="a.c", imported="a.b")
    graph.add_import(importer="a.c", imported="a.d")
    assert cycles(graph) == [["a.b", "a.c"]]


def test_none_of_the_edges_design_forbids_exists() -> None:
    # In a process of its own: import-linter configures logging, which would silence the
    # loggers of tests that run after it.
    command = [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    # The contracts are in pyproject.toml, [tool.importlinter].
    assert done.returncode == 0, done.stdout + done.stderr


def _sources() -> list[Path]:
    return sorted(
        path
        for folder in ("parlez", "connectors", "actions")
        for path in (ROOT / folder).rglob("*.py")
        if path not in DOORS
    )


def _backdoors(path: Path, root: Path = ROOT) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Attribute):
            continue
        takes_lock = (
            node.attr == "lock"
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "lock_store"
        )
        if node.attr == "processor" or takes_lock:
            found.append(f"{path.relative_to(root)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_only_the_agent_drives_the_processor_or_takes_a_conversations_lock() -> None:
    assert [found for path in _sources() for found in _backdoors(path)] == []


def test_the_door_check_sees_a_route_that_takes_the_lock(tmp_path: Path) -> None:
    route = tmp_path / "route.py"
    route.write_text(
        "async def append(agent):\n"
        "    async with agent.lock_store.lock('x'):\n"
        "        await agent.processor.log_only(None)\n"
    )
    assert len(_backdoors(route, tmp_path)) == 2


#: what the assistant's actions may import of parlez: the API docs/python-api.md documents
PUBLIC_API = {
    "parlez.knowledge",
    "parlez.llm",
    "parlez.timeparse",
    "parlez.project",
    "parlez.inference",
    "parlez.endpoints",
    "parlez.io.env",
    "parlez.exceptions",
    "parlez.experiments",
    "parlez.extras",
    "parlez.database",
    "parlez.language_id",
}


def _parlez_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {name for name in found if name == "parlez" or name.startswith("parlez.")}


def test_the_assistants_actions_use_only_the_public_python_api() -> None:
    used = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in sorted((ROOT / "actions").rglob("*.py"))
        for module in _parlez_imports(path)
        if module not in PUBLIC_API
    }
    assert used == set()
