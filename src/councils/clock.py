"""The one place the application reads the time.

Rules never read the clock: services ask ``now()`` once and pass the instant
down. Tests replace the clock with ``frozen(...)`` to travel in time.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone

_override: list[datetime] = []


def now() -> datetime:
    if _override:
        return _override[-1]
    return datetime.now(timezone.utc)


@contextlib.contextmanager
def frozen(at: datetime):
    """Stop the clock at ``at`` (aware) for the duration of the block."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("the clock needs an aware datetime")
    _override.append(at)
    try:
        yield FakeClock(_override)
    finally:
        _override.pop()


class FakeClock:
    def __init__(self, stack: list[datetime]):
        self._stack = stack

    def advance(self, **delta) -> datetime:
        self._stack[-1] = self._stack[-1] + timedelta(**delta)
        return self._stack[-1]

    def set(self, at: datetime) -> datetime:
        self._stack[-1] = at
        return at

    def now(self) -> datetime:
        return self._stack[-1]
