"""The house's floors, read from the imports: nothing imports a floor above its own, and the
event log has one writer."""

from __future__ import annotations

import ast
from pathlib import Path

import reglab

ROOT = Path(reglab.__file__).parent


def _imports(path: Path) -> set[str]:
    """Every reglab module `path` imports, at any depth (TYPE_CHECKING ones too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("reglab"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("reglab"))
    return found


def _modules(*rooms: str) -> dict[str, set[str]]:
    files = [p for room in rooms for p in (ROOT / room).glob("**/*.py") if p.is_file()]
    files += [ROOT / f"{room}.py" for room in rooms if (ROOT / f"{room}.py").is_file()]
    return {str(p.relative_to(ROOT)): _imports(p) for p in files}


def _above(imports: set[str], floors: tuple[str, ...]) -> set[str]:
    return {m for m in imports if any(m == f or m.startswith(f + ".") for f in floors)}


def test_the_store_imports_nothing_that_writes_through_it_or_serves_it() -> None:
    above = ("reglab.jobs", "reglab.journal", "reglab.sharing", "reglab.live", "reglab.api")
    store = _modules("store")
    assert {"store/repo.py", "store/log.py"} <= store.keys()  # the rooms are where we look
    wrong = {path: _above(imports, above) for path, imports in store.items()}
    assert {path: found for path, found in wrong.items() if found} == {}


def test_the_journal_and_sharing_import_no_scheduler_and_no_route() -> None:
    wrong = {
        path: _above(imports, ("reglab.jobs", "reglab.api"))
        for path, imports in _modules("journal", "sharing", "live").items()
    }
    assert {path: found for path, found in wrong.items() if found} == {}


def test_the_hub_imports_nothing_it_carries_messages_between() -> None:
    above = ("reglab.store", "reglab.journal", "reglab.sharing", "reglab.jobs", "reglab.api")
    assert _above(_imports(ROOT / "live.py"), above) == set()


def test_jobs_import_no_route() -> None:
    wrong = {path: _above(imports, ("reglab.api",)) for path, imports in _modules("jobs").items()}
    assert {path: found for path, found in wrong.items() if found} == {}


def test_only_the_journal_writes_the_event_log() -> None:
    """Whatever writes events must publish them too (in commit order): the journal does both."""
    everything = _modules("api", "jobs", "store", "journal", "sharing", "training")
    writers = {
        path for path, imports in everything.items() if "reglab.store.log.EventLog" in imports
    }
    assert writers == {"journal.py"}
