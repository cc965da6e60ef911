"""The reference receiver: a correct, copyable Events API receiver, and the kit's own yardstick.

It verifies the signature over the raw body, answers the "Test" request, validates whole batches,
deduplicates by ``event_id``, orders per resource by ``event_datetime`` and keeps removals as tombstones
(events-api-facts.md sections 1, 2, 4 and 6). Serve it with :class:`ReceiverServer` (uvicorn),
:func:`asgi_app` or :func:`wsgi_app`, or call :meth:`ReferenceReceiver.handle` directly.
"""

from __future__ import annotations

from .asgi import asgi_app
from .core import DEFAULT_MAX_BODY, ReferenceReceiver, Response
from .server import AppServer, ReceiverServer, serve
from .stores import MemoryStore, ResourceState, SqliteStore, Store, StoreError, open_store
from .wsgi import wsgi_app

__all__ = [
    "DEFAULT_MAX_BODY",
    "AppServer",
    "MemoryStore",
    "ReceiverServer",
    "ReferenceReceiver",
    "ResourceState",
    "Response",
    "SqliteStore",
    "Store",
    "StoreError",
    "asgi_app",
    "open_store",
    "serve",
    "wsgi_app",
]
