"""A run and a challenge are served as the store's records: each field is written once."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter
from reglab.api.app import create_app
from reglab.api.schemas import ChallengeRead, RunRead
from reglab.config import Settings
from reglab.store.challenges import ChallengeRecord
from reglab.store.records import RunRecord

from tests.support import a_run

OPENAPI = create_app(Settings()).openapi()["components"]["schemas"]


def served(name: str) -> tuple[set[str], set[str]]:
    """A read model's properties in the OpenAPI document, and the required ones."""
    schema: dict[str, Any] = OPENAPI[name]
    return set(schema["properties"]), set(schema.get("required", []))


def test_a_run_is_served_with_every_field_of_its_record_but_the_fingerprint() -> None:
    record = {f.name for f in fields(RunRecord)}
    properties, required = served("RunRead")
    assert properties == record - {"fingerprint"} | {"diagnosis"}
    assert required == properties  # every key is always there, null or not


def test_a_challenge_is_served_with_every_field_of_its_record_and_its_status() -> None:
    record = {f.name for f in fields(ChallengeRecord)}
    properties, _ = served("ChallengeRead")
    added = {"status", "public_test", "private_test", "entries_left"}
    assert properties == record | added
    assert OPENAPI["ChallengeRead"]["properties"]["status"]["type"] == "string"


def test_a_challenge_read_says_its_splits_and_where_it_stands() -> None:
    now = datetime.now(UTC)
    challenge = ChallengeRecord(
        id=3,
        title="Beat the baseline",
        description="",
        lesson=None,
        owner="teacher",
        base={"data": {"kind": "moons", "public_test": 40, "private_test": 400}},
        open=["regularization.l2"],
        repeats=2,
        max_entries=3,
        max_epochs=100,
        metric="accuracy",
        created_at=now,
        closed_at=now,
        revealed_at=None,
    )
    body = ChallengeRead.of(challenge, entries_left=1)
    out = TypeAdapter(ChallengeRead).dump_python(body, mode="json")
    assert out["status"] == "closed" and out["entries_left"] == 1
    assert (out["public_test"], out["private_test"]) == (40, 400)
    assert out["title"] == "Beat the baseline" and out["closed_at"] is not None


def test_a_run_record_is_read_with_its_diagnosis_and_without_its_fingerprint() -> None:
    run = a_run(name="base", variant="base", fingerprint="f" * 64, status="queued")
    out = TypeAdapter(RunRead).dump_python(TypeAdapter(RunRead).validate_python(run), mode="json")
    assert "fingerprint" not in out and out["diagnosis"] is None
    assert {k: out[k] for k in ("id", "name", "status", "epochs")} == {
        "id": 1,
        "name": "base",
        "status": "queued",
        "epochs": 5,
    }
