"""The embedded PostgreSQL is never orphaned (issue 11, 3): a Saldo process killed with
``kill -9`` stays in the wheel's list of holders, and every later exit used to leave the
server running; a ``saldo serve`` that could not listen used to start the server first.
Real processes, a real server, in a temporary data directory."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from saldo.platform import embedded

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SALDO = str(Path(sys.executable).parent / "saldo")


def _python(code: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "SALDO_DATA_DIR": str(data_dir)})


JOIN = ("import os, sys; from pathlib import Path; from saldo.platform import embedded; "
        "embedded.start(Path(os.environ['SALDO_DATA_DIR'])); ")


def _postmaster(data_dir: Path) -> int | None:
    return embedded.running_postmaster(data_dir / "postgres")


def _wait_stopped(data_dir: Path, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _postmaster(data_dir) is None:
            return True
        time.sleep(0.2)
    return False


def _stop(data_dir: Path) -> None:
    pid = _postmaster(data_dir)
    if pid is not None:  # a failed test must not leave a server behind either
        psutil.Process(pid).terminate()
        _wait_stopped(data_dir)


def test_the_last_live_process_stops_the_server_after_a_kill_9(tmp_path: Path) -> None:
    try:
        killed = _python(JOIN + "os.kill(os.getpid(), 9)", tmp_path)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        assert _postmaster(tmp_path) is not None  # the killed process could not stop it
        pids = json.loads((tmp_path / "postgres" / ".handle_pids.json").read_text())
        assert len(pids) == 1  # and it is still listed as a holder

        later = _python(JOIN + "print('joined')", tmp_path)
        assert later.returncode == 0, later.stderr
        assert "joined" in later.stdout
        assert _wait_stopped(tmp_path), "the server outlived its last live process"
        assert json.loads((tmp_path / "postgres" / ".handle_pids.json").read_text()) == []
    finally:
        _stop(tmp_path)


def test_sigterm_lets_a_command_leave_the_server_cleanly(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", JOIN + "print('ready', flush=True); import time; time.sleep(60)"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "SALDO_DATA_DIR": str(tmp_path)})
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        assert _postmaster(tmp_path) is not None
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        assert _wait_stopped(tmp_path), "SIGTERM left the server running"
    finally:
        process.kill()
        _stop(tmp_path)


def test_serve_on_a_taken_port_fails_before_starting_postgres(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = subprocess.run(
            [SALDO, "serve", "--port", str(port)], capture_output=True, text=True, timeout=120,
            env={**os.environ, "SALDO_DATA_DIR": str(tmp_path), "SALDO_SECRET_KEY": "k" * 40},
            stdin=subprocess.DEVNULL)
    try:
        assert result.returncode == 2, result.stdout + result.stderr
        assert f"127.0.0.1:{port}" in result.stderr
        assert "port" in result.stderr.lower()
        assert time.monotonic() - started < 30
        assert not (tmp_path / "postgres").exists()  # nothing was started to be left behind
        assert _postmaster(tmp_path) is None
    finally:
        _stop(tmp_path)
