"""Browser tests: a real Saldo server on a free port (uvicorn in a thread, the test
database), driven by Debian's Chromium through its chromedriver (selenium). No browser is
downloaded: ``make test`` installs ``chromium chromium-driver`` with apt-get when they are
missing. Without them the tests skip on a laptop and FAIL in CI (``CI=true``).

axe-core (the accessibility check) comes from the npm registry, pinned by
``tests/browser/package-lock.json`` and installed by ``make test`` (``npm ci``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import AXE, CHROMEDRIVER, CHROMIUM, PASSWORD, Live, missing, serve_live

from saldo.platform.db import Database


@pytest.fixture
def live(db: Database) -> Iterator[Live]:
    with serve_live(db.url) as served:
        yield served


@pytest.fixture(scope="session")
def chromium_options() -> Any:
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        missing(f"Chromium ({CHROMIUM}) or its driver ({CHROMEDRIVER}) is not installed")
    if not AXE.exists():
        missing(f"axe-core is not installed ({AXE})")
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1280,800", "--lang=ka", "--disable-extensions",
                 "--no-first-run"):
        options.add_argument(flag)
    return options


@pytest.fixture
def browser(chromium_options: Any) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    driver = webdriver.Chrome(options=chromium_options, service=Service(CHROMEDRIVER))
    driver.set_window_size(1280, 800)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


@pytest.fixture
def second_browser(chromium_options: Any) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    driver = webdriver.Chrome(options=chromium_options, service=Service(CHROMEDRIVER))
    driver.set_window_size(1280, 800)
    yield driver
    driver.quit()


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its cheapest, as in the integration tests (the server thread shares it)."""
    from argon2 import PasswordHasher

    from saldo.identity import security

    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(security, "_hasher", cheap)
    dummy = cheap.hash("dummy")
    monkeypatch.setattr(security, "_dummy_hash", lambda: dummy)


@pytest.fixture
def superuser(live: Live, db: Database, fast_password_hashing: None) -> dict[str, str]:
    """A superuser's API headers; the users and companies are made through the API."""
    import uuid

    import psycopg

    from saldo.identity import security

    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute("INSERT INTO users (id, username, full_name, password_hash, is_superuser)"
                     " VALUES (%s, 'root', 'Root', %s, true)",
                     (uuid.uuid4(), security._hasher.hash(PASSWORD)))
    return live.token("root")
