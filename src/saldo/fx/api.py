"""The fx context's HTTP edge: official rates (``../shared/api/v1.md`` "Currencies")."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field, WithJsonSchema

from saldo.fx.domain import check_currency
from saldo.fx.queries import RateInEffect
from saldo.fx.service import FxService
from saldo.identity.api import CurrentUser, SuperUser
from saldo.platform.http import Date, StrictRoute, Text, problem_responses


async def fx_service(request: Request) -> FxService:
    return cast(FxService, request.app.state.fx)


Fx = Annotated[FxService, Depends(fx_service)]

#: A rate as the client sends it: a decimal string ("2.7123") or a JSON number, exact.
RateIn = Annotated[Any, WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}],
                                        "examples": ["2.7123"]})]
CurrencyCode = Annotated[Text, Path(min_length=1, max_length=8, examples=["USD"])]


class RateBody(BaseModel):
    rate: RateIn = Field(description="GEL per ONE unit of the currency (0 < rate ≤ 10000)")


class RateOut(BaseModel):
    currency: str
    date: dt.date = Field(description="The day asked for")
    rate: str = Field(description="GEL per one unit")
    valid_from: dt.date = Field(description="The day this rate took effect (NBG's "
                                            "validFromDate): the latest on or before date")
    source: str = Field(description="nbg (fetched) or manual (entered by a superuser)")


def rate_out(found: RateInEffect, day: dt.date) -> RateOut:
    return RateOut(currency=found.currency, date=day, rate=format(found.rate, "f"),
                   valid_from=found.valid_from, source=found.source)


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["fx"], route_class=StrictRoute)

    @api.get("/rates", summary="The official (NBG) rate in effect on a date",
             response_model=RateOut, responses=problem_responses(400, 401, 404, 422))
    async def get_rate(_: CurrentUser, fx: Fx,
                       currency: Annotated[Text, Query(min_length=1, max_length=8)],
                       date: Annotated[Date | None, Query()] = None) -> RateOut:
        day = date or fx.today()
        return rate_out(await fx.rate(check_currency(currency), day), day)

    @api.put("/rates/{currency}/{valid_from}",
             summary="Enter an official rate by hand (superusers only)",
             response_model=RateOut, responses=problem_responses(400, 401, 403, 422))
    async def put_rate(currency: CurrencyCode, valid_from: Annotated[Date, Path()],
                       body: RateBody, user: SuperUser, fx: Fx) -> RateOut:
        saved = await fx.set_rate(currency, valid_from, body.rate, user.username)
        return rate_out(saved, valid_from)

    return api
