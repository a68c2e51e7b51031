"""The rooms of jobs/ import one way: no circle, and the executor contract imports none of its
implementations (the factory one floor up, `executors.py`, picks one)."""

from __future__ import annotations

import ast
from pathlib import Path

import reglab.jobs

JOBS = Path(reglab.jobs.__file__).parent


def imports_of(path: Path) -> set[str]:
    """The jobs modules `path` imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n.split(".")[2] for n in names if n.startswith("reglab.jobs.")}
    return found - {path.stem}


def graph() -> dict[str, set[str]]:
    modules = {p.stem: p for p in JOBS.glob("*.py") if p.stem != "__init__"}
    return {name: imports_of(path) & modules.keys() for name, path in modules.items()}


def test_no_module_of_jobs_imports_itself_back_through_others() -> None:
    edges = graph()
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        assert name not in path, f"an import circle: {' -> '.join([*path, name])}"
        if name in done:
            return
        for nxt in sorted(edges[name]):
            visit(nxt, [*path, name])
        done.add(name)

    for name in sorted(edges):
        visit(name, [])
    assert {"local", "ray", "worker", "placement"} <= edges.keys()


def test_the_contract_imports_no_executor_and_the_worker_side_no_pool() -> None:
    edges = graph()
    assert edges["executor"] == set()
    assert edges["executors"] >= {"executor", "local"}  # ray by name: it is an optional extra
    for side in ("worker", "messages", "warmup", "pidfile", "placement"):
        assert not edges[side] & {"local", "ray", "scheduler", "executors"}, side
