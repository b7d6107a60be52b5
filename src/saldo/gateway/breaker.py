"""A circuit breaker per upstream: closed → open → half-open → closed.

* **closed**: requests pass; ``failure_threshold`` consecutive failures open it.
* **open**: requests are refused at once (503) for ``reset_seconds``: a dead or drowning
  upstream gets no traffic and clients get a fast answer instead of a timeout.
* **half-open**: one trial request passes (the others are refused as when open); its
  success closes the circuit, its failure opens it again for another period.

Written here rather than taken from a package (decision 0056): the maintained asyncio
breakers wrap a call in their own context manager and keep their state private, where
the gateway needs the state as a metric and the trial request limited to one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class State(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(self, name: str, failure_threshold: int, reset_seconds: float, *,
                 clock: Callable[[], float] = time.monotonic,
                 on_change: Callable[[str, State, State], None] | None = None) -> None:
        self.name, self.failure_threshold, self.reset_seconds = (
            name, failure_threshold, reset_seconds)
        self._clock, self._on_change = clock, on_change
        self._state = State.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_running = False

    @property
    def state(self) -> State:
        if self._state is State.OPEN and self._clock() - self._opened_at >= self.reset_seconds:
            self._move(State.HALF_OPEN)
        return self._state

    def retry_after(self) -> float:
        """Seconds until a trial request may pass (0 when not open)."""
        if self.state is not State.OPEN:
            return 0.0
        return max(0.0, self.reset_seconds - (self._clock() - self._opened_at))

    def allow(self) -> bool:
        """Whether a request may go to the upstream now (a half-open circuit lets one)."""
        state = self.state
        if state is State.CLOSED:
            return True
        if state is State.HALF_OPEN and not self._trial_running:
            self._trial_running = True
            return True
        return False

    def success(self) -> None:
        self._failures = 0
        self._trial_running = False
        if self._state is not State.CLOSED:
            self._move(State.CLOSED)

    def failure(self) -> None:
        self._trial_running = False
        self._failures += 1
        if self._state is State.HALF_OPEN or (
                self._state is State.CLOSED and self._failures >= self.failure_threshold):
            self._opened_at = self._clock()
            self._move(State.OPEN)

    def _move(self, to: State) -> None:
        before, self._state = self._state, to
        if to is State.CLOSED:
            self._failures = 0
        if self._on_change is not None and before is not to:
            self._on_change(self.name, before, to)
