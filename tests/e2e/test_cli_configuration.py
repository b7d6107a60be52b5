"""A bad setting or an unreachable database: one clear paragraph, non-zero exit, no traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def _saldo(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SALDO_")}
    clean.update({"SALDO_DATA_DIR": str(tmp_path / "data"), **env})
    return subprocess.run([sys.executable, "-m", "saldo", *args], env=clean, text=True,
                          capture_output=True, timeout=60, check=False)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("command", [["db", "status"], ["db", "upgrade"], ["serve"], ["worker"]])
def test_unreachable_database_url_exits_non_zero_naming_the_setting(
    command: list[str], tmp_path: Path
) -> None:
    url = f"postgresql://saldo:s3cret@127.0.0.1:{_closed_port()}/saldo"
    result = _saldo(*command, tmp_path=tmp_path, SALDO_DATABASE_URL=url)
    assert result.returncode == 2
    assert "SALDO_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "s3cret" not in result.stderr  # the password is redacted


@pytest.mark.parametrize(
    ("env", "named"),
    [({"SALDO_PORT": "eighty"}, "SALDO_PORT"),
     ({"SALDO_DATABASE_URL": "mysql://root@localhost/x"}, "SALDO_DATABASE_URL"),
     ({"SALDO_LOG_LEVEL": "loud"}, "SALDO_LOG_LEVEL"),
     ({"SALDO_ENV": "staging"}, "SALDO_ENV"),
     ({"SALDO_ENV": "production"}, "SALDO_SECRET_KEY")],
)
def test_a_bad_setting_exits_non_zero_naming_it(
    env: dict[str, str], named: str, tmp_path: Path
) -> None:
    result = _saldo("db", "status", tmp_path=tmp_path, **env)
    assert result.returncode == 2
    assert named in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 4  # one paragraph, not a dump


def test_version_prints_and_exits_zero(tmp_path: Path) -> None:
    result = _saldo("version", tmp_path=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("saldo ")
