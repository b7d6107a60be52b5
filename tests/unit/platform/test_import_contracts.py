"""The import-linter contracts catch what they are for (issue 10 item 6), shown on a copy
of the source tree with one rule broken at a time: ``make lint`` passing proves the tree
keeps the contracts, these prove the contracts would notice if it did not."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tmp_path: Path, edit: Callable[[Path], None]) -> subprocess.CompletedProcess[str]:
    """lint-imports with the project's contracts over a copy of ``src/saldo`` changed by
    ``edit`` (given the copy's package folder)."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "saldo", src / "saldo",
                    ignore=shutil.ignore_patterns("__pycache__"))
    edit(src / "saldo")
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(src), "COLUMNS": "1000"},
        capture_output=True,
        text=True, timeout=300, check=False)


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text("utf-8") + f"\n{line}\n", "utf-8")


def _broken(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.removesuffix(" BROKEN").strip() for line in result.stdout.splitlines()
            if line.endswith(" BROKEN")]


def test_the_unchanged_copy_keeps_every_contract(tmp_path: Path) -> None:
    result = _lint(tmp_path, lambda _: None)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("edit", "contract"), [
    # A context reaching into another's store instead of its service or queries.
    (lambda pkg: _append(pkg / "billing" / "service.py",
                         "from saldo.ledger import store as _ledger_store  # noqa: E402"),
     "ledger: other contexts use its service and queries only"),
    # ... or into its projections or its bulk writer.
    (lambda pkg: _append(pkg / "payroll" / "service.py",
                         "from saldo.ledger import batch as _ledger_batch  # noqa: E402"),
     "ledger: other contexts use its service and queries only"),
    # A module that fits none of a context's layers (the old reporting/export.py).
    (lambda pkg: (pkg / "reporting" / "export.py").write_text(
        '"""Writers, SQL and a router in one file."""\n', "utf-8"),
     "Each context is layered: context > api > service > projections | queries > store "
     "> domain"),
    # A domain doing I/O.
    (lambda pkg: _append(pkg / "tax" / "domain.py", "import psycopg  # noqa: E402"),
     "Domain modules do no I/O: no web, database or HTTP client libraries"),
], ids=["another-contexts-store", "another-contexts-batch", "a-module-in-no-layer",
        "a-domain-doing-io"])
def test_a_broken_rule_breaks_its_contract(tmp_path: Path, edit: Callable[[Path], None],
                                           contract: str) -> None:
    result = _lint(tmp_path, edit)
    assert result.returncode != 0, result.stdout
    assert contract in _broken(result), result.stdout
