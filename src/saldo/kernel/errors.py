"""Base errors. Each carries data and a stable machine ``code`` that the HTTP edge
maps to a problem response; contexts subclass these rather than inventing new roots."""

from __future__ import annotations

from typing import Any, ClassVar


class SaldoError(Exception):
    """Root of every expected failure. ``code`` is stable; ``detail`` is for humans."""

    code: ClassVar[str] = "error"
    title: ClassVar[str] = "Request failed"
    #: Keys of ``data`` that the problem response shows the client (e.g. ``findings``).
    exposed: ClassVar[tuple[str, ...]] = ()

    def __init__(self, detail: str, **data: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.data = data


class NotFound(SaldoError):
    code = "not_found"
    title = "Not found"


class Conflict(SaldoError):
    """A state conflict: wrong lifecycle state, concurrent change, reused key."""

    code = "conflict"
    title = "Conflict"


class RuleViolation(SaldoError):
    """Well-formed input that breaks an accounting or business rule."""

    code = "rule_violation"
    title = "Rule violated"


class Forbidden(SaldoError):
    code = "forbidden"
    title = "Forbidden"


class ConcurrencyError(Conflict):
    """An append found the stream at another version than the caller expected."""

    code = "version_conflict"
    title = "Concurrent change"

    def __init__(self, stream_id: str, expected: int | None, actual: int | None = None) -> None:
        super().__init__(
            f"stream {stream_id} was changed concurrently "
            f"(expected version {expected}, found {actual if actual is not None else 'another'})",
            stream_id=stream_id,
            expected=expected,
            actual=actual,
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
