"""Matching the rows an append returns to the events it sent."""

from __future__ import annotations

from uuid import UUID

from saldo.platform.eventstore import _in_sending_order


def test_rows_in_sending_order_come_back_as_they_are() -> None:
    rows = [(UUID(int=n), 100 + n) for n in range(4)]
    assert _in_sending_order(rows, [UUID(int=n) for n in range(4)]) is rows


def test_rows_in_another_order_are_put_in_sending_order() -> None:
    rows = [(UUID(int=n), 100 + n) for n in (2, 0, 3, 1)]
    ordered = _in_sending_order(rows, [UUID(int=n) for n in range(4)])
    assert [position for _, position in ordered] == [100, 101, 102, 103]
