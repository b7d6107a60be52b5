"""A stand-in for the National Bank of Georgia's rates API, over real HTTP.

It speaks the protocol georgia.md §7 describes: ``GET /gw/api/ct/monetarypolicy/currencies
/en/json/?date=YYYY-MM-DD`` answers a JSON array whose first element is ``{date,
currencies: [{code, quantity, rateFormated, diffFormated, rate, name, diff, date,
validFromDate}]}``. Tests publish rates per day (``publish``), or make a day fail in one of
the ways a real server can (``fail``): an HTTP error, a malformed body, an empty answer,
an answer for another day, a hang."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PATH = "/gw/api/ct/monetarypolicy/currencies/en/json/"


@dataclass
class NbgStandIn:
    url: str = ""
    #: day -> [(code, quantity, rate as text)], in effect from that day.
    published: dict[date, list[tuple[str, int, str]]] = field(default_factory=dict)
    #: day -> failure mode: "http500", "not_json", "empty", "no_currencies",
    #: "wrong_date", "future_valid_from", "bad_rate", "hang".
    failures: dict[date, str] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def publish(self, day: date | str, *rates: tuple[str, int, str]) -> None:
        self.published[date.fromisoformat(str(day))] = list(rates)

    def fail(self, day: date | str, mode: str) -> None:
        self.failures[date.fromisoformat(str(day))] = mode

    def answer(self, day: date) -> tuple[int, bytes]:
        mode = self.failures.get(day)
        if mode == "http500":
            return 500, b"<html>Internal Server Error</html>"
        if mode == "not_json":
            return 200, b"<html>maintenance</html>"
        if mode == "empty":
            return 200, b"[]"
        if mode == "hang":
            time.sleep(3)
        rates = self.published.get(day)
        if rates is None:
            # NBG answers a day without a fix (a weekend) with the last published rates,
            # still valid from their own day.
            earlier = [d for d in self.published if d <= day]
            if not earlier:
                return 200, b"[]"
            valid_from, rates = max(earlier), self.published[max(earlier)]
        else:
            valid_from = day
        stamp = day
        if mode == "wrong_date":
            stamp = day - timedelta(days=1)
        if mode == "future_valid_from":
            valid_from = day + timedelta(days=1)
        rows: list[dict[str, Any]] = []
        for code, quantity, rate in rates:
            rows.append({
                "code": code, "quantity": quantity, "rateFormated": rate,
                "diffFormated": "0.0012", "rate": "RATE:" + rate, "name": code,
                "diff": 0.0012, "date": f"{valid_from - timedelta(days=1)}T17:45:13.055Z",
                "validFromDate": f"{valid_from}T00:00:00.000Z"})
        if mode == "bad_rate" and rows:
            rows[0]["rate"] = "RATE:-1"
        body: list[dict[str, Any]] = [{"date": f"{stamp}T00:00:00.000Z",
                                       "currencies": [] if mode == "no_currencies" else rows}]
        text = json.dumps(body)
        # Rates as JSON numbers exactly as written (NBG sends numbers, not strings).
        for row in rows:
            text = text.replace(f'"{row["rate"]}"', row["rate"].removeprefix("RATE:"), 1)
        return 200, text.encode()


@contextmanager
def nbg_server() -> Iterator[NbgStandIn]:
    """The stand-in, listening on a free local port, for the duration of the block."""
    standin = NbgStandIn()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            standin.requests.append(self.path)
            if url.path != PATH:
                self.send_error(404)
                return
            query = parse_qs(url.query)
            try:
                day = date.fromisoformat(query["date"][0])
            except (KeyError, ValueError):  # no date: the latest rates
                day = max(standin.published, default=date(2026, 1, 1))
            status, body = standin.answer(day)
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    standin.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield standin
    finally:
        server.shutdown()
        server.server_close()
