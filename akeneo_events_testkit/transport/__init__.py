"""Transport, shared by both wire profiles: targets (URL, ASGI, WSGI, httpx transport) and the PIM-like sender."""
