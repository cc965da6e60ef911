"""The PIM's Events API log lines and its hourly request limit (events-api-facts.md section 5)."""

from __future__ import annotations

import collections
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..clock import Clock
from ..errors import UsageError
from ..transport.sender import DEFAULT_TIMEOUT, Attempt, Outcome

__all__ = [
    "LogEntry",
    "RequestLimiter",
]


#: The "Test" button request has no explicit timeout in the PIM; we still never wait forever.
TEST_BUTTON_TIMEOUT = 30.0


LOG_SENT = "The API event request was sent."


LOG_ERROR = "The endpoint returned an error."


LOG_FAILED = "The endpoint failed to answer under {ms} ms."


LOG_LIMIT = "The maximum number of events sent per hour has been reached."


LOG_OWN_EVENT = "The event was not sent because it was raised by the same connection."


LOG_NOT_FOUND = (
    "The event was not sent because the product does not exists or the connection does not have the "
    "required permissions."
)


@dataclass(frozen=True)
class LogEntry:
    """One line of the PIM's Events API log (facts section 5, ``EventsApiDebugLogger``)."""

    epoch: float
    level: str
    message: str
    context: Mapping[str, Any] = field(default_factory=dict)

    def format(self) -> str:
        """The downloadable log's format: ``YYYY/MM/DD HH:MM:SS LEVEL message {json}``."""
        when = datetime.fromtimestamp(int(self.epoch), tz=timezone.utc).strftime("%Y/%m/%d %H:%M:%S")
        return f"{when} {self.level} {self.message} {json.dumps(self.context, separators=(',', ':'))}"


def log_entry_for(
    attempt: Attempt,
    *,
    epoch: float,
    url: str,
    request_headers: Sequence[tuple[str, str]],
    events: Sequence[Mapping[str, Any]],
    timeout: float = DEFAULT_TIMEOUT,
) -> LogEntry:
    """The log line the PIM writes for ``attempt`` (facts section 5)."""
    if attempt.outcome is Outcome.SENT:
        return LogEntry(epoch, "INFO", LOG_SENT, {
            "event_subscription_url": url, "status_code": attempt.status,
            "headers": dict(attempt.response_headers), "events": list(events),
        })
    if attempt.outcome is Outcome.ERROR:
        return LogEntry(epoch, "ERROR", LOG_ERROR, {
            "event_subscription_url": url, "status_code": attempt.status,
            "headers": dict(request_headers), "events": list(events),
        })
    return LogEntry(epoch, "ERROR", LOG_FAILED.format(ms=int(timeout * 1000)), {
        "event_subscription_url": url, "events": list(events),
    })


#: ``webhook_requests_limit``: the docs say 4000 per hour (facts section 5, open question 2).
DEFAULT_REQUEST_LIMIT = 4000


class RequestLimiter:
    """The PIM-wide hourly request limit: deliveries are delayed, never dropped (facts section 5).

    Every request counts, failed or not. After each message, if the requests of the last hour reach the
    limit, the consumer sleeps until the row that crossed the limit is an hour old. It sleeps on ``clock``,
    so a fake clock makes the hour pass instantly. The limit can be overshot by one message's requests.
    """

    def __init__(self, limit: int = DEFAULT_REQUEST_LIMIT, *, clock: Clock) -> None:
        if limit < 1:
            raise UsageError(f"request limit must be at least 1, got {limit}")
        self.limit = limit
        self.clock = clock
        self._sent: collections.deque[float] = collections.deque()
        self.waits: list[float] = []

    def record(self, count: int = 1) -> None:
        """Count ``count`` requests sent now."""
        now = self.clock.now()
        self._sent.extend([now] * count)

    def delay_needed(self) -> float:
        """Seconds to wait before the next message (0 when under the limit)."""
        now = self.clock.now()
        while self._sent and self._sent[0] <= now - 3600:
            self._sent.popleft()
        if len(self._sent) < self.limit:
            return 0.0
        crossing = self._sent[len(self._sent) - self.limit]
        return max(0.0, 3600 - (now - crossing))

    def wait_if_needed(self) -> float:
        """Sleep on the clock when the limit is reached; returns the seconds waited."""
        delay = self.delay_needed()
        if delay > 0:
            self.waits.append(delay)
            self.clock.sleep(delay)
        return delay
