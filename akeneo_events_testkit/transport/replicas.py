"""Replicas behind a load balancer: spread the requests over several webhook URLs, and race some of them.

Production receivers run as several replicas behind a load balancer, all on one database. The PIM sees
one URL; the balancer picks a replica per request. :class:`ReplicaTransport` is an httpx transport that
does the balancer's part, so the emitters send through it unchanged (a :data:`~.targets.Target` may be any
httpx transport, as :mod:`.crashes` does):

* each request goes to a replica drawn from the RNG ``"replicas:<seed>"`` (a seeded choice per request:
  balancers in front of webhooks use round-robin or least-connections, and either way which replica gets
  which request is not something a receiver may rely on);
* the ``replica_race`` fault: with that probability, the same request (the same bytes, signature and
  event ids) goes to a second replica at the same moment, both copies written concurrently. This is the
  redelivery race (events-api-facts.md section 6: Pub/Sub redelivers the same event ids; a second
  delivery that arrives while the first is still being processed reaches another replica): a receiver
  that dedupes with check-then-insert lets both copies through its check and applies the event twice,
  which the oracle names ``duplicate_applied``. The PIM sees the answer of the replica the balancer
  picked first; the other copy's answer is read and discarded.

The draws happen in the order requests reach the transport, which is the PIM's send order, so one seed
gives the same spread and the same races.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence

import httpx

from ..errors import UsageError

__all__ = ["DEFAULT_REPLICA_RACE", "ReplicaTransport", "check_replica_options"]

#: The share of requests raced to a second replica when several ``--url`` are given (``--replica-race``).
DEFAULT_REPLICA_RACE = 0.1


def check_replica_options(urls: Sequence[str], race: float) -> None:
    """Refuse fewer than two replicas, a URL given twice, and a race probability outside 0 to 1."""
    if len(urls) < 2:
        raise UsageError("replicas: pass --url at least twice (one webhook URL per replica)")
    twice = sorted({url for url in urls if list(urls).count(url) > 1})
    if twice:
        raise UsageError(f"--url {twice[0]} is given twice: pass each replica's webhook URL once")
    for url in urls:
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise UsageError(f"--url {url!r} is not an http(s) URL: pass each replica's webhook URL, e.g. "
                             "http://127.0.0.1:8001/webhook")
    if isinstance(race, bool) or not isinstance(race, int | float) or not 0 <= race <= 1:
        raise UsageError(f"--replica-race must be a probability from 0 to 1, got {race!r}")


class ReplicaTransport(httpx.AsyncBaseTransport):
    """Sends each request to one of ``urls`` (seeded), and a share ``race`` of them to a second one at the
    same moment (module docstring). :attr:`sent` counts the requests each replica received, :attr:`races`
    the raced requests.
    """

    def __init__(self, urls: Sequence[str], *, seed: int, race: float = DEFAULT_REPLICA_RACE) -> None:
        check_replica_options(urls, race)
        self.urls = tuple(httpx.URL(url) for url in urls)
        self.race = float(race)
        self.seed = seed
        self._rng = random.Random(f"replicas:{seed}")
        #: requests received by each replica (raced copies included)
        self.sent = [0] * len(self.urls)
        #: requests sent to two replicas at once
        self.races = 0
        self._inner: httpx.AsyncHTTPTransport | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"ReplicaTransport({len(self.urls)} replicas, race={self.race})"

    def label(self) -> str:
        """``3 replicas (http://a/webhook, ...)``: what the summary calls the target."""
        return f"{len(self.urls)} replicas ({', '.join(str(url) for url in self.urls)})"

    def summary(self) -> str:
        """``requests 40 / 38 / 41 (replica_race 9)``: the spread and the races, for the summary table."""
        return f"requests {' / '.join(str(n) for n in self.sent)} (replica_race {self.races})"

    def _transport(self) -> httpx.AsyncHTTPTransport:
        loop = asyncio.get_running_loop()
        if self._inner is None or self._loop is not loop:  # one pool per event loop (each run has its own)
            self._inner = httpx.AsyncHTTPTransport(retries=0)
            self._loop = loop
        return self._inner

    def _draw(self) -> tuple[int, int | None]:
        """The replica of the next request, and the one its raced copy goes to (None: not raced)."""
        first = self._rng.randrange(len(self.urls))
        if self._rng.random() >= self.race:
            return first, None
        second = self._rng.randrange(len(self.urls) - 1)
        return first, second + (second >= first)

    def _forward(self, request: httpx.Request, body: bytes, replica: int) -> httpx.Request:
        url = self.urls[replica]
        headers = [(name, value) for name, value in request.headers.raw if name.lower() != b"host"]
        headers.insert(0, (b"Host", url.netloc))
        return httpx.Request(request.method, url, headers=headers, stream=httpx.ByteStream(body),
                             extensions=request.extensions)

    async def _exchange(self, request: httpx.Request) -> httpx.Response:
        response = await self._transport().handle_async_request(request)
        try:
            content = await response.aread()
        finally:
            await response.aclose()
        return httpx.Response(response.status_code, headers=response.headers.raw, stream=httpx.ByteStream(content),
                              extensions={k: v for k, v in response.extensions.items() if k == "http_version"})

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        first, second = self._draw()
        self.sent[first] += 1
        if second is None:
            return await self._exchange(self._forward(request, body, first))
        self.races += 1
        self.sent[second] += 1
        answers = await asyncio.gather(self._exchange(self._forward(request, body, first)),
                                       self._exchange(self._forward(request, body, second)),
                                       return_exceptions=True)
        answer = answers[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer

    async def aclose(self) -> None:
        if self._inner is not None:
            inner, self._inner = self._inner, None
            await inner.aclose()
