"""The National Bank of Georgia's JSON rates API, as georgia.md §7 describes it.

``GET {base}/gw/api/ct/monetarypolicy/currencies/en/json/?date=YYYY-MM-DD`` answers a JSON
array whose first element is ``{date, currencies: [{code, quantity, rate, validFromDate,
...}]}``. No authentication. ``SALDO_NBG_URL`` points the client at another server (the
tests' stand-in speaks the same protocol over real HTTP)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import httpx

from saldo.fx.domain import NbgAnswerInvalid, NbgUnavailable, OfficialRate, parse_nbg_answer

DEFAULT_URL = "https://nbg.gov.ge"
PATH = "/gw/api/ct/monetarypolicy/currencies/en/json/"


def endpoint(base_url: str) -> str:
    """The rates endpoint under ``base_url`` (a server, or the endpoint itself)."""
    base = base_url.rstrip("/")
    return base + "/" if "/monetarypolicy/currencies" in base else base + PATH


class NbgClient:
    """Reads one day's official rates; every failure is :class:`NbgUnavailable` (no
    answer) or :class:`NbgAnswerInvalid` (an answer with no usable rates)."""

    def __init__(self, base_url: str = DEFAULT_URL, *, timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.url = endpoint(base_url)
        self.timeout = timeout
        self.transport = transport

    async def rates(self, day: date) -> list[OfficialRate]:
        """The rates NBG publishes for ``day`` (in effect from it)."""
        params = {"date": day.isoformat()}
        try:
            async with httpx.AsyncClient(timeout=self.timeout, transport=self.transport,
                                         follow_redirects=True) as client:
                response = await client.get(self.url, params=params,
                                            headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise NbgUnavailable(f"NBG's rates service did not answer for {day}: "
                                 f"{type(exc).__name__}.", day=str(day)) from None
        if response.status_code != 200:
            raise NbgUnavailable(f"NBG's rates service answered HTTP {response.status_code} "
                                 f"for {day}.", day=str(day), status=response.status_code)
        try:
            # Exact decimals: a rate never passes through a float.
            payload = json.loads(response.content, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError):
            raise NbgAnswerInvalid(f"NBG's answer for {day} is not JSON.",
                                   findings=["The body is not JSON."]) from None
        return parse_nbg_answer(payload, day)
