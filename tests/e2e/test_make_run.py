"""`make run` from a fresh copy of the repository answers /health/ready with 200.

The copy holds exactly what git would clone (tracked files plus new, not-ignored ones),
gets its own .venv and an empty data directory, so this is the README's first command
as a new user meets it: install, start the embedded PostgreSQL, migrate, serve.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def _fresh_copy(target: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - localhost only
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


@pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")
def test_make_run_from_a_fresh_copy_serves_a_ready_server(tmp_path: Path) -> None:
    repo = tmp_path / "saldo"
    _fresh_copy(repo)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SALDO_", "VIRTUAL_ENV"))}
    env.update(SALDO_DATA_DIR=str(tmp_path / "data"), SALDO_PORT=str(port))
    log_path = tmp_path / "make-run.log"
    log = log_path.open("wb")
    process = subprocess.Popen(["make", "run"], cwd=repo, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 600  # a cold pip install is most of this
        status = 0
        while time.monotonic() < deadline and process.poll() is None:
            status = _get(f"http://127.0.0.1:{port}/health/ready")
            if status == 200:
                break
            time.sleep(1)
        output = log_path.read_text(errors="replace")
        assert status == 200, f"/health/ready answered {status}; make run said:\n{output[-3000:]}"
        assert f"http://127.0.0.1:{port}" in output  # the address is printed
        assert (repo / ".venv" / "bin" / "saldo").exists()
        assert (tmp_path / "data" / "postgres" / "PG_VERSION").exists()
        _projections_follow_without_a_worker(repo, env)
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def _behind(status_output: str, projection: str) -> int | None:
    for line in status_output.splitlines():
        cells = [c.strip() for c in line.replace("│", "|").split("|")]
        if projection in cells:
            return int(cells[cells.index(projection) + 3])
    return None


def _projections_follow_without_a_worker(repo: Path, env: dict[str, str]) -> None:
    """`make run` is the whole installation: the asynchronous read models follow the
    events without a `saldo worker` (issue 11: they were "not started, behind 328")."""
    saldo = str(repo / ".venv" / "bin" / "saldo")
    cli_env = {**env, "SALDO_PASSWORD": "a-long-enough-password", "COLUMNS": "200"}
    subprocess.run([saldo, "users", "create", "probe"], env=cli_env, check=True,
                   capture_output=True, timeout=120)
    deadline = time.monotonic() + 60
    behind: int | None = None
    while time.monotonic() < deadline:
        status = subprocess.run([saldo, "projections", "status"], env=cli_env, check=True,
                                capture_output=True, text=True, timeout=120)
        behind = _behind(status.stdout, "event_type_counts")
        if behind == 0:
            return
        time.sleep(1)
    raise AssertionError(f"event_type_counts is {behind} events behind:\n{status.stdout}")
