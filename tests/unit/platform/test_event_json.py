"""Event JSON: exact amounts as strings, ISO dates, compact UTF-8; never floats for money."""

import datetime as dt
import json
import uuid
from decimal import Decimal

from saldo.platform.eventstore import dumps


def test_amounts_dates_and_ids_become_strings_in_iso_and_canonical_forms() -> None:
    value = {
        "amount": Decimal("1180.00"),
        "id": uuid.UUID(int=5),
        "date": dt.date(2026, 1, 2),
        "at": dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC),
        "name": "სალდო",
        "lines": [{"debit": Decimal("0.10")}],
    }
    text = dumps(value)
    assert text == (
        '{"amount":"1180.00","id":"00000000-0000-0000-0000-000000000005","date":"2026-01-02",'
        '"at":"2026-01-02T03:04:05.000006+00:00","name":"სალდო","lines":[{"debit":"0.10"}]}'
    )
    assert json.loads(text)["lines"][0]["debit"] == "0.10"


def test_integers_beyond_64_bits_are_written_exactly() -> None:
    assert json.loads(dumps({"n": 2**70})) == {"n": 2**70}
