"""Tax's read models, updated inline: filed VAT returns and the registration alerts."""

from __future__ import annotations

from collections.abc import Sequence

from saldo.platform.db import Connection
from saldo.platform.eventstore import RecordedEvent
from saldo.tax import domain as d

READ_MODELS = ("vat_filings", "vat_registration_alerts")


class TaxProjection:
    name = "tax"
    #: The streams it reads (the event store hands it no others).
    stream_types = ("tax.",)

    async def reset(self, conn: Connection) -> None:
        for table in READ_MODELS:
            await conn.execute(f"DELETE FROM {table}")

    async def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        for e in events:
            if e.type == d.VatReturnFiled.type:
                f = d.VatReturnFiled.from_data(e.data)
                await conn.execute(
                    "INSERT INTO vat_filings (company_id, period, filed_at, filed_by,"
                    " output_vat, reverse_charge_vat, input_vat, payable)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (e.company_id, f.period, e.recorded_at, f.by, f.output_vat,
                     f.reverse_charge_vat, f.input_vat, f.payable))
            elif e.type == d.VatThresholdApproached.type:
                a = d.VatThresholdApproached.from_data(e.data)
                await conn.execute(
                    "INSERT INTO vat_registration_alerts (company_id, kind, on_day,"
                    " taxable_turnover, recorded_at) VALUES (%s, 'approached', %s, %s, %s)"
                    " ON CONFLICT DO NOTHING",
                    (e.company_id, a.on, a.taxable_turnover, e.recorded_at))
            elif e.type == d.VatThresholdExceeded.type:
                x = d.VatThresholdExceeded.from_data(e.data)
                await conn.execute(
                    "INSERT INTO vat_registration_alerts (company_id, kind, on_day,"
                    " taxable_turnover, register_by, recorded_at)"
                    " VALUES (%s, 'exceeded', %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    (e.company_id, x.on, x.taxable_turnover, x.register_by, e.recorded_at))
