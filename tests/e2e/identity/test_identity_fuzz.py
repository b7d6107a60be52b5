"""OpenAPI-driven fuzzing of every /api/v1 operation (Schemathesis) against a real uvicorn
server on the test database, authenticated as a superuser who is chief accountant of a
company: no input may produce a 5xx (a documented 502 from an unreachable upstream aside),
and every response must match the documented status codes, content types and schemas
(the harness: tests/integration/harness/fuzz_harness.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from fuzz_harness import Server, fuzz, live_server

from saldo.platform.db import Database

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


@pytest.fixture
def server(db: Database) -> Iterator[Server]:
    with live_server(db) as running:
        yield running


def not_the_fuzzer_itself(case: Any) -> None:
    """Operations on a user by name never aim at the fuzzer's own account."""
    if case.path_parameters and case.path_parameters.get("username") == "fuzzer":
        case.path_parameters["username"] = f"x{uuid4().hex}"


def test_every_endpoint_survives_fuzzing(server: Server) -> None:
    seen = fuzz(server, "^/api/v1/", min_operations=14, prepare=not_the_fuzzer_itself)
    # The fuzz reached the handlers (successes) and the guards (refusals) alike.
    assert sum(n for status, n in seen.items() if status < 300) > 20, seen
    assert {401, 404, 422} <= set(seen), seen
