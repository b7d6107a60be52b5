"""The fx context's settings: SALDO_NBG_URL and SALDO_NBG_TIMEOUT, read once."""

from __future__ import annotations

import pytest

from saldo.fx.context import fx_settings
from saldo.fx.nbg import endpoint
from saldo.platform.settings import SettingsError


def test_defaults_point_at_nbg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SALDO_NBG_URL", raising=False)
    monkeypatch.delenv("SALDO_NBG_TIMEOUT", raising=False)
    settings = fx_settings()
    assert endpoint(settings.nbg_url) == (
        "https://nbg.gov.ge/gw/api/ct/monetarypolicy/currencies/en/json/")
    assert settings.nbg_timeout == 10.0


def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALDO_NBG_URL", "ftp://rates.example")
    monkeypatch.setenv("SALDO_NBG_TIMEOUT", "0")
    with pytest.raises(SettingsError) as caught:
        fx_settings()
    assert "SALDO_NBG_URL" in str(caught.value)
    assert "SALDO_NBG_TIMEOUT" in str(caught.value)


def test_the_endpoint_may_be_given_whole() -> None:
    assert endpoint("http://127.0.0.1:8080/gw/api/ct/monetarypolicy/currencies/en/json") == (
        "http://127.0.0.1:8080/gw/api/ct/monetarypolicy/currencies/en/json/")
