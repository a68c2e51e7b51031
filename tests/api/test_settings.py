"""Settings: every one is documented in .env.example, and the example's values are the defaults."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from reglab.config import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def documented() -> dict[str, str | None]:
    """REGLAB_X=value lines (commented-out ones give None)."""
    found: dict[str, str | None] = {}
    for line in EXAMPLE.read_text().splitlines():
        if m := re.match(r"^(#\s*)?REGLAB_([A-Z_]+)=(.*)$", line):
            found[m[2].lower()] = None if m[1] else m[3]
    return found


def test_every_setting_is_in_env_example() -> None:
    assert set(documented()) == set(Settings.model_fields)


def test_env_example_values_are_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    given = {name: value for name, value in documented().items() if value is not None}
    assert len(given) >= 5, "most settings should be shown with their default, uncommented"
    for name, value in given.items():
        monkeypatch.setenv(f"REGLAB_{name.upper()}", value)
    assert Settings(_env_file=None) == defaults  # type: ignore[call-arg]


def test_frontend_dir_defaults_to_the_checkout_frontend() -> None:
    assert Settings(_env_file=None).frontend_dir == EXAMPLE.parent / "frontend"  # type: ignore[call-arg]


def test_a_database_other_than_sqlite_is_refused_with_a_sentence() -> None:
    # The one writer speaks SQLite only (its sequence table, AUTOINCREMENT, PRAGMAs).
    with pytest.raises(ValueError, match="reglab's store is one SQLite file"):
        Settings(database_url="postgresql+psycopg://user:pass@host/db")
    assert Settings(database_url="sqlite:///x.db").database_url == "sqlite:///x.db"
