"""Gateway overhead: what ``saldo gateway`` adds to a request's latency at 200 requests/s
(issue 18 target: p99 added < 5 ms).

    .venv/bin/python bench/gateway.py                  # 10 s per phase, 2 rounds
    .venv/bin/python bench/gateway.py --seconds 5 --rate 200

An upstream process answers a small JSON document at once; a gateway process routes to
it with everything on (the token checked, rate limits counted in memory, the breaker,
metrics, security headers, the request id). The load is open-loop: a request is started
every 1/rate seconds whatever the previous ones are doing (so a slow answer cannot hide
queueing), alternately for a phase straight to the upstream and for a phase through the
gateway. Added latency = the gateway phases' percentile minus the direct phases'; the
ratio (gateway / direct, same run) is printed beside it. Then ``--pairs`` requests one
at a time, each direct one followed by one through the gateway: with no queue in front of
either, the difference is the gateway's own cost even on a loaded machine, where the open
loop at 200/s mostly measures the queue of processes waiting for a core.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import httpx
import jwt
import yaml

from common import percentile, progress

KEY = "bench-gateway-key-" + "x" * 40
ERRORS: list[str] = []
UPSTREAM = '''
import uvicorn
BODY = b'{"id":"1","name":"Widget","balance":"100.00","currency":"GEL"}'
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": BODY})
import sys
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            lifespan="off", access_log=False, timeout_keep_alive=75)
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not start")


async def phase(client: httpx.AsyncClient, url: str, headers: dict[str, str], rate: float,
                seconds: float) -> list[float]:
    latencies: list[float] = []

    async def one() -> None:
        started = time.perf_counter()
        try:
            response = await client.get(url, headers=headers)
        except httpx.HTTPError as exc:
            ERRORS.append(repr(exc))
            return
        latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            ERRORS.append(f"{response.status_code} {response.text[:200]}")

    tasks = []
    start = time.perf_counter()
    for n in range(int(rate * seconds)):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one()))
    await asyncio.gather(*tasks)
    return latencies


async def paired(client: httpx.AsyncClient, direct: str, through: str,
                 headers: dict[str, str], count: int) -> dict[str, list[float]]:
    """One request at a time, direct then through the gateway, ``count`` pairs: no queue
    in front of either, and a change in the machine's load hits both alike."""
    results: dict[str, list[float]] = {"direct": [], "gateway": []}
    for _ in range(count):
        for name, url in (("direct", direct), ("gateway", through)):
            started = time.perf_counter()
            response = await client.get(url, headers=headers)
            results[name].append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                ERRORS.append(f"{response.status_code} {response.text[:200]}")
    return results


def report(title: str, ms: dict[str, list[float]], target: bool) -> None:
    for name, values in ms.items():
        print(f"  {name:8s} p50 {percentile(values, 50):8.2f} ms  p99 "
              f"{percentile(values, 99):8.2f} ms  ({len(values)} requests)")
    p50 = percentile(ms["gateway"], 50) - percentile(ms["direct"], 50)
    p99 = percentile(ms["gateway"], 99) - percentile(ms["direct"], 99)
    ratio50 = percentile(ms["gateway"], 50) / percentile(ms["direct"], 50)
    ratio99 = percentile(ms["gateway"], 99) / percentile(ms["direct"], 99)
    verdict = f" (target p99 < 5 ms: {'met' if p99 < 5 else 'MISSED'})" if target else ""
    print(f"{title}: added p50 +{p50:.2f} ms, p99 +{p99:.2f} ms{verdict}; gateway / direct, "
          f"same run: p50 x{ratio50:.2f}, p99 x{ratio99:.2f}")


async def measure(args: argparse.Namespace, direct: str, through: str) -> None:
    now = datetime.now(UTC)
    token = jwt.encode({"iss": "saldo", "sub": str(uuid4()), "jti": str(uuid4()),
                        "iat": int(now.timestamp()),
                        "exp": int((now + timedelta(hours=1)).timestamp()),
                        "type": "access"}, KEY, algorithm="HS256")
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200,
                          keepalive_expiry=30)
    results: dict[str, list[float]] = {"direct": [], "gateway": []}
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(10, pool=None)) as client:
        for url in (direct, through):  # warm up connections and code paths
            await phase(client, url, headers, args.rate, 1)
        for round_ in range(args.rounds):
            for name, url in (("direct", direct), ("gateway", through)):
                results[name] += await phase(client, url, headers, args.rate, args.seconds)
            progress(f"round {round_ + 1} done")
        sequential = await paired(client, direct, through, headers, args.pairs)
    ms = {k: [v * 1000 for v in values] for k, values in results.items()}
    if ERRORS:
        print(f"{len(ERRORS)} requests failed, e.g. {ERRORS[0]}")
    report(f"open loop at {args.rate:g} requests/s", ms, True)
    report("one request at a time (interleaved pairs)", sequential, False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=500,
                        help="then this many direct/gateway pairs, one request at a time")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="saldo-bench-gw-"))
    up_port, gw_port = free_port(), free_port()
    script = workdir / "upstream.py"
    script.write_text(UPSTREAM)
    config = workdir / "gateway.yaml"
    config.write_text(yaml.safe_dump({
        "upstreams": {"up": {"url": f"http://127.0.0.1:{up_port}"}},
        "routes": [{"prefix": "/", "upstream": "up"}],
        "rate_limit": {"per_user": 1_000_000, "per_address": 1_000_000},
    }))
    env = {**os.environ, "SALDO_SECRET_KEY": KEY, "SALDO_LOG_LEVEL": "warning"}
    processes = [
        subprocess.Popen([sys.executable, str(script), str(up_port)]),
        subprocess.Popen([sys.executable, "-m", "saldo", "gateway", "--config", str(config),
                          "--port", str(gw_port)], env=env, stdout=subprocess.DEVNULL),
    ]
    try:
        wait(f"http://127.0.0.1:{up_port}/")
        wait(f"http://127.0.0.1:{gw_port}/health")
        asyncio.run(measure(args, f"http://127.0.0.1:{up_port}/items/1",
                            f"http://127.0.0.1:{gw_port}/items/1"))
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
