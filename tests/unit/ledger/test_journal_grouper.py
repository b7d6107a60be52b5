"""Journal rows into transactions, whatever batches the rows arrive in."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from saldo.ledger.queries import JOURNAL_COLUMNS, JournalGrouper


def row(tx: int, line_no: int, account: str, debit: str, credit: str) -> tuple[Any, ...]:
    values = {
        "transaction_id": UUID(int=tx), "entry_date": date(2026, 3, tx), "number": tx,
        "fiscal_year": 2026, "description": f"tx {tx}", "reference": None,
        "currency": "GEL", "exchange_rate": Decimal("1"), "reverses": None, "kind": "regular",
        "line_no": line_no, "account_code": account, "debit": Decimal(debit),
        "credit": Decimal(credit), "debit_base": Decimal(debit),
        "credit_base": Decimal(credit), "line_description": "",
    }
    return tuple(values[c] for c in JOURNAL_COLUMNS)


ROWS = [row(1, 1, "7420", "10", "0"), row(1, 2, "1210", "0", "10"),
        row(2, 1, "1110", "5", "0"), row(2, 2, "6110", "0", "3"), row(2, 3, "3330", "0", "2"),
        row(3, 1, "1210", "1", "0"), row(3, 2, "6110", "0", "1")]


def grouped(batches: list[list[tuple[Any, ...]]]) -> list[dict[str, Any]]:
    grouper = JournalGrouper()
    out = [tx for batch in batches for tx in grouper.feed(batch)]
    return out + grouper.finish()


def test_rows_become_transactions_with_their_lines_in_order() -> None:
    [first, second, third] = grouped([ROWS])
    assert (first["transaction_id"], first["date"], first["number"]) == (
        UUID(int=1), date(2026, 3, 1), 1)
    assert "entry_date" not in first
    assert [line["account_code"] for line in second["lines"]] == ["1110", "6110", "3330"]
    assert second["lines"][2] == {
        "line_no": 3, "account_code": "3330", "debit": Decimal("0"), "credit": Decimal("2"),
        "debit_base": Decimal("0"), "credit_base": Decimal("2"), "line_description": ""}
    assert third["description"] == "tx 3"


def test_a_transaction_split_between_batches_comes_out_whole() -> None:
    whole = grouped([ROWS])
    for cut in range(len(ROWS) + 1):
        assert grouped([ROWS[:cut], ROWS[cut:]]) == whole, cut
    assert grouped([[r] for r in ROWS]) == whole
    assert grouped([]) == []
