"""Shadow mode's comparison: which fields of Saldo's answer differ from the legacy one's.

Both answers are compared as JSON when both are JSON (field by field, paths like
``items/0/balance``), else as bytes; the status codes are compared too. Each comparison
is a counter; each difference is also a JSON line in the shadow log with the route,
method, path and the differing fields and values, which ``saldo gateway diff-report``
sums up per route.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: Fields of an answer that always differ between two systems and mean nothing.
IGNORED = frozenset({"request_id", "generated_at", "trace_id"})


def differences(legacy: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """``(path, legacy value, new value)`` for every field that differs."""
    if isinstance(legacy, dict) and isinstance(new, dict):
        found: list[tuple[str, Any, Any]] = []
        for key in sorted(set(legacy) | set(new), key=str):
            if key in IGNORED:
                continue
            sub = f"{path}/{key}" if path else str(key)
            if key not in legacy or key not in new:
                found.append((sub, legacy.get(key), new.get(key)))
            else:
                found.extend(differences(legacy[key], new[key], sub))
        return found
    if isinstance(legacy, list) and isinstance(new, list):
        found = []
        for index in range(max(len(legacy), len(new))):
            sub = f"{path}/{index}" if path else str(index)
            if index >= len(legacy) or index >= len(new):
                found.append((sub, legacy[index] if index < len(legacy) else None,
                              new[index] if index < len(new) else None))
            else:
                found.extend(differences(legacy[index], new[index], sub))
        return found
    return [] if legacy == new else [(path or "(body)", legacy, new)]


def compare(legacy_status: int, legacy_body: bytes, new_status: int,
            new_body: bytes) -> list[tuple[str, Any, Any]]:
    found: list[tuple[str, Any, Any]] = []
    if legacy_status != new_status:
        found.append(("(status)", legacy_status, new_status))
    try:
        old, new = json.loads(legacy_body or b"null"), json.loads(new_body or b"null")
    except ValueError:
        if legacy_body != new_body:
            found.append(("(body)", f"{len(legacy_body)} bytes", f"{len(new_body)} bytes"))
        return found
    return found + differences(old, new)


def record(log: Path | None, route: str, method: str, path: str,
           diffs: list[tuple[str, Any, Any]]) -> None:
    if log is None:
        return
    line = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "route": route,
            "method": method, "path": path,
            "fields": [{"field": f, "legacy": old, "new": new} for f, old, new in diffs]}
    with log.open("a", encoding="utf-8") as out:
        out.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")


@dataclass
class RouteSummary:
    route: str
    differing_requests: int = 0
    fields: Counter[str] = field(default_factory=Counter)


def report(log: Path) -> list[RouteSummary]:
    """The shadow log summed up: per route, how many answers differed and in what."""
    summaries: dict[str, RouteSummary] = {}
    if not log.exists():
        return []
    for line in log.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        summary = summaries.setdefault(entry["route"], RouteSummary(entry["route"]))
        summary.differing_requests += 1
        summary.fields.update(f["field"] for f in entry["fields"])
    return sorted(summaries.values(), key=lambda s: s.route)
