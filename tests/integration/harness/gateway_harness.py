"""Helpers for the gateway tests (importable as ``gateway_harness``): stand-in upstream
processes, gateway processes, tokens, metrics."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import jwt
import yaml

STANDIN = Path(__file__).with_name("gateway_standin.py")
SECRET = "gateway-test-key-" + "x" * 40
METRICS_TOKEN = "gateway-metrics-token-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, process.stderr.read() if process.stderr else "exited"
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{url} did not become ready"
        time.sleep(0.1)


def token(sub: str = "0b5f1d9e-0000-4000-8000-000000000001", *, key: str = SECRET,
          expires_in: int = 600, kind: str = "access") -> str:
    now = datetime.now(UTC)
    return jwt.encode({"iss": "saldo", "sub": sub, "jti": str(uuid4()),
                       "iat": int(now.timestamp()),
                       "exp": int((now + timedelta(seconds=expires_in)).timestamp()),
                       "type": kind}, key, algorithm="HS256")


def env(**extra: str) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if not k.startswith("SALDO_")}
    values.update(SALDO_SECRET_KEY=SECRET, SALDO_LOG_FORMAT="json", COLUMNS="200", **extra)
    return values


class Processes:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.started: list[subprocess.Popen[str]] = []

    def standin(self, flavour: str = "saldo", port: int | None = None) -> tuple[str, Any]:
        port = port or free_port()
        process = subprocess.Popen([sys.executable, str(STANDIN), str(port), flavour],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.started.append(process)
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/_seen", process)
        return base, process

    def gateway(self, config: dict[str, Any]) -> str:
        port = free_port()
        config.setdefault("metrics_token", METRICS_TOKEN)
        path = self.tmp / f"gateway-{port}.yaml"
        path.write_text(yaml.safe_dump(config))
        process = subprocess.Popen([sys.executable, "-m", "saldo", "gateway", "--config",
                                    str(path), "--port", str(port)], env=env(),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.started.append(process)
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/health", process)
        return base

    def stop(self, process: subprocess.Popen[str]) -> None:
        process.kill()
        process.wait(timeout=10)

    def close(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.terminate()
        for process in self.started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()



def metric(base: str, name: str, **labels: str) -> float:
    text = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
                     timeout=5).text
    for line in text.splitlines():
        if not line.startswith(name + "{") and line.split(" ")[0] != name:
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            return float(value)
    return 0.0
