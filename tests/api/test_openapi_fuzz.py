"""Schemathesis fuzzes every operation of the OpenAPI: no answer is a 5xx or breaks its schema.

A server of its own, with quotas so small that a generated spec it accepts trains briefly and
blocks the next (its work is anonymous: nobody but the admin may cancel it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from reglab.api.app import create_app
from reglab.config import Settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.conftest import LiveServer, settings_for, start_server

pytestmark = pytest.mark.slow
EXAMPLES = 15  # per operation: about 40 s for all 23 operations on 2 cores


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(
        settings_for(
            tmp_path_factory.mktemp("fuzz"),
            workers=1,
            admin_token="sesame",
            max_queued_experiments_per_user=1,
            max_member_epochs_per_user=20,
        )
    )
    yield live
    live.stop()


# The OpenAPI document as the app builds it (no server needed to read it).
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_gets_a_server_error_or_breaks_the_schema(
    case: Any, fuzzed: LiveServer
) -> None:
    case.call_and_validate(
        base_url=fuzzed.url, checks=[not_a_server_error, response_schema_conformance]
    )
