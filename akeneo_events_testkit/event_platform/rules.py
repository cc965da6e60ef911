"""The Event Platform's delivery rules: timeout, retries, rate and suspension thresholds, how an answer is read.

Mirrors event-platform-facts.md section 3.
"""

from __future__ import annotations

from ..transport.sender import Attempt

__all__ = [
    "BACKOFF",
    "BURST",
    "DEFAULT_IN_FLIGHT",
    "EP_TIMEOUT",
    "ESCAPED_SHARE",
    "INITIAL_RATE",
    "IN_FLIGHT_LATENCY",
    "MAX_RATE",
    "MIN_RATE",
    "MIN_WINDOW_ATTEMPTS",
    "RETRIED",
    "SUCCESS_THRESHOLD",
    "THROTTLE_RETRY",
    "classify",
]


#: An answer must come within 5 s (section 3; 3 s before commit 857ec7bf).
EP_TIMEOUT = 5.0


#: Delays of the 1st, 2nd and 3rd retry, each from the previous attempt (section 3).
BACKOFF = (300.0, 600.0, 1200.0)


MIN_RATE, MAX_RATE = 1.0, 100.0


#: Events/s at the start of a run (not documented; a middle value so that both ramps show).
INITIAL_RATE = 10.0


#: Seconds before a 429'd event is offered again (not documented).
THROTTLE_RETRY = 60.0


#: A 429'd event still undelivered after this long counts as a failure (section 3).
THROTTLE_LIMIT = 3600.0


WINDOW = 3600.0


SUCCESS_THRESHOLD = 0.90


#: Counted attempts the rolling hour must hold before the 90 % threshold applies (not documented).
MIN_WINDOW_ATTEMPTS = 20


#: Share of genuine events whose body is sent with ``/`` and/or non-ASCII escaped (not documented, allowed
#: by RFC 8259: :func:`.wire.encode`); 1 in 5 shows a receiver that verifies re-serialised JSON quickly.
ESCAPED_SHARE = 0.2


#: Requests the platform keeps in flight at most by default (not documented: section 3 says only that at tens of
#: events/s with answers of up to 5 s several are in flight at once; 1 sends one request at a time).
DEFAULT_IN_FLIGHT = 8


#: The answer time the in-flight bound assumes (not documented): at ``rate`` events/s the platform has about
#: ``rate * IN_FLIGHT_LATENCY`` requests running, so the bound grows with the rate (2 at the initial rate).
IN_FLIGHT_LATENCY = 0.2


#: Share of groups that are bursts (5 up to the bound in flight at once); the others hold 1 to 4 requests.
BURST = 0.1


#: Default client id of the receiver's own connection (its events are delivered back to it, section 6).
DEFAULT_CLIENT_ID = "magento_0000"


DEFAULT_CONNECTIONS = ("erp_connector_1234", "magento_0000")


# Attempt outcomes (EpAttempt.outcome).
SUCCESS, THROTTLED, NOT_FOUND, REDIRECT = "success", "throttled", "not_found", "redirect"


SERVER_ERROR, CLIENT_ERROR, TIMEOUT, UNREACHABLE = "server_error", "client_error", "timeout", "unreachable"


#: Outcomes the platform retries, after each delay of :data:`BACKOFF` (section 3); others are final.
RETRIED = frozenset({SERVER_ERROR, TIMEOUT, UNREACHABLE})


_FAILURES = frozenset({SERVER_ERROR, CLIENT_ERROR, TIMEOUT, UNREACHABLE})


def classify(attempt: Attempt) -> str:
    """The platform's reading of one answer (section 3)."""
    status = attempt.status
    if status is None:
        return TIMEOUT if attempt.reason == "timeout" else UNREACHABLE
    if 200 <= status < 300:
        return SUCCESS
    if 300 <= status < 400:
        return REDIRECT
    if status == 404:
        return NOT_FOUND
    if status == 429:
        return THROTTLED
    if status >= 500:
        return SERVER_ERROR
    return CLIENT_ERROR
