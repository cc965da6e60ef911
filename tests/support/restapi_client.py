"""A synchronous client of the mock REST API, and the OAuth token it needs (the kit's default credentials)."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from akeneo_events_testkit.restapi import Credentials, RestApi

CREDS = Credentials()
BASIC = "Basic " + base64.b64encode(f"{CREDS.client_id}:{CREDS.secret}".encode()).decode()


def fetch_token(client: httpx.Client) -> str:
    """An access token for the default credentials, by the password grant."""
    answer = client.post("/api/oauth/v1/token", headers={"Authorization": BASIC},
                         json={"grant_type": "password", "username": CREDS.username, "password": CREDS.password})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def sync_client(api: RestApi) -> httpx.Client:
    """httpx's ASGITransport is async-only; the API's core is plain, so call it through a tiny WSGI shim."""
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        status, extra, payload = api.handle(environ["REQUEST_METHOD"], environ["PATH_INFO"],
                                            environ.get("QUERY_STRING", ""), headers, body)
        from akeneo_events_testkit.encoding import php_json_encode_bytes

        start_response(f"{status} X", [("Content-Type", "application/json"), *extra])
        return [php_json_encode_bytes(payload)]
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://pim.test")
