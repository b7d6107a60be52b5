"""The fuzz tests' harness (importable as ``fuzz_harness``): a real uvicorn server on the
test database with a superuser who is chief accountant of one company, and the loop that
drives Schemathesis over the OpenAPI operations whose paths match a pattern.

No input may produce a 5xx, except a 502 that a route documents: rs.ge and the NBG cannot
be reached from this machine, and "the upstream did not answer" is the right answer then
(the rs.ge and fx tests drive those routes against stand-in servers). Every response must
match the documented status codes, content types and schemas."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import requests
import schemathesis
from argon2 import PasswordHasher
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from saldo import bootstrap
from saldo.kernel.ids import new_id
from saldo.platform.db import Database
from saldo.platform.settings import load_settings

PASSWORD = "fuzzing is a kind of testing"
MAX_EXAMPLES = 25


def not_a_server_error_but_an_unreachable_upstream(ctx: Any, response: Any, case: Any) -> None:
    """No 5xx, but a 502 that the operation documents (an upstream this machine cannot reach)."""
    if response.status_code == 502 and "502" in case.operation.definition.raw.get("responses", {}):
        return
    not_a_server_error(ctx, response, case)


CHECKS = [not_a_server_error_but_an_unreachable_upstream, status_code_conformance,
          content_type_conformance, response_schema_conformance]


@dataclass
class Server:
    base_url: str
    headers: dict[str, str]
    company_id: str


@contextmanager
def live_server(db: Database) -> Iterator[Server]:
    """Saldo under uvicorn on a free port, signed in as ``fuzzer`` with one VAT-paying company."""
    import uvicorn

    config_settings = load_settings(secret_key="fuzz-" + "k" * 60, db_pool_min=1, db_pool_max=4,
                                    redis_url=None, cors_origins=[], log_level="warning")
    app = bootstrap.create_app(bootstrap.build(config_settings, db.url))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False,
                            lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start in time"
        time.sleep(0.02)
    port = uv.servers[0].sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    try:
        with psycopg.connect(db.url, autocommit=True) as conn:
            conn.execute("INSERT INTO users (id, username, full_name, password_hash, is_superuser)"
                         " VALUES (%s, 'fuzzer', 'Fuzzer', %s, true)",
                         (new_id(), PasswordHasher().hash(PASSWORD)))
        token = requests.post(f"{base}/api/v1/auth/token", timeout=10,
                              json={"username": "fuzzer", "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        company = requests.post(f"{base}/api/v1/companies", headers=headers, timeout=10, json={
            "name": "Fuzz LLC", "tax_id": "204567891", "vat_payer": True}).json()
        yield Server(base, headers, company["id"])
    finally:
        uv.should_exit = True
        thread.join(timeout=10)


def fuzz(server: Server, path_regex: str, *, min_operations: int,
         prepare: Callable[[Any], None] | None = None) -> Counter[int]:
    """Fuzz every operation whose path matches; half the cases aim at the real company.
    Returns how often each status code came back; afterwards the fuzzer's own session must
    still work (checked here)."""
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
    operations = [result.ok() for result in schema.include(path_regex=path_regex)
                  .get_all_operations()]
    assert len(operations) >= min_operations, [op.path for op in operations]
    session = requests.Session()
    seen: Counter[int] = Counter()

    for operation in operations:

        @given(case=operation.as_strategy(), real_company=st.booleans())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def one(case: Any, real_company: bool) -> None:
            if real_company and "company_id" in (case.path_parameters or {}):
                case.path_parameters["company_id"] = server.company_id
            if prepare is not None:
                prepare(case)
            response = case.call_and_validate(base_url=server.base_url, session=session,
                                              headers=server.headers, checks=CHECKS)
            seen[response.status_code] += 1

        one()

    me = session.get(f"{server.base_url}/api/v1/me", headers=server.headers, timeout=10)
    assert me.status_code == 200, "the fuzzer's own session did not survive"
    return seen
