"""A synchronous httpx transport that calls a WSGI app in-process, streaming its body like a server."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import httpx

from .timing import STOPWATCH

__all__ = [
    "WSGITransport",
]


class WSGITransport(httpx.BaseTransport):
    """Calls a WSGI app in-process exactly as a PEP 3333 server would.

    httpx's own ``WSGITransport`` decodes header values as ASCII and fails on the non-ASCII headers our
    probes send; a real server passes them through as Latin-1, so the receiver gets to reject them itself.
    Under the kit's :class:`~.sender.Sender` it also times the app (:mod:`.timing`): the CPU time of the
    thread calling it and iterating its body, and the answer complete once the body is (before ``close()``,
    which a server calls after sending it).
    """

    def __init__(
        self,
        app: Callable[..., Any],
        *,
        path: str | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.app = app
        self.path = path  # where the app receives the POSTs, e.g. /webhook (default: the URL's path)
        self.on_error = on_error  # told of every exception the app raises, before it becomes a 500

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        url = request.url
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": self.path or url.path,
            "QUERY_STRING": url.query.decode("ascii", "replace"),
            "SERVER_NAME": url.host or "receiver.invalid",
            "SERVER_PORT": str(url.port or 80),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": url.scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for raw_name, raw_value in request.headers.raw:
            name = raw_name.decode("latin-1").upper().replace("-", "_")
            value = raw_value.decode("latin-1")
            if name == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif name == "CONTENT_LENGTH":
                environ["CONTENT_LENGTH"] = value
            else:
                key = "HTTP_" + name
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if exc_info is not None and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return lambda data: chunks.append(data)

        chunks: list[bytes] = []
        watch = STOPWATCH.get()
        mark = watch.enter() if watch is not None else None

        def answered() -> None:
            nonlocal mark
            if watch is not None and mark is not None:
                watch.add_handler_cpu(mark)
                mark = None
                watch.answered()

        try:
            result = self.app(environ, start_response)
            try:
                chunks.extend(bytes(chunk) for chunk in result)
                answered()
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            if not started:
                raise RuntimeError("the WSGI app returned without calling start_response")
        except Exception as exc:
            answered()
            if self.on_error is not None:
                self.on_error(exc)
            raise
        status = int(str(started[0]).split(" ", 1)[0])
        headers = [(str(k).encode("latin-1"), str(v).encode("latin-1")) for k, v in started[1]]
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(b"".join(chunks)))
