"""A local stand-in for WhatsApp's Business Cloud API, speaking its HTTP API: POST
/<version>/<phone-number-id>/messages with a Bearer token and the message as JSON; answers
{"messages": [{"id": "wamid..."}]}, or the Graph API's error object when told to fail.
The portal reaches it through settings alone (WHATSAPP_API_URL), as it would the real one."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PHONE_NUMBER_ID = "1098765432"
TOKEN = "test-token-abc"
VERSION = "v21.0"

# The Graph API's error objects for the failures the portal tells apart.
ERRORS = {
    400: {"message": "(#131030) Recipient phone number not in allowed list", "code": 131030},
    401: {"message": "Error validating access token: Session has expired", "code": 190},
    429: {"message": "(#130429) Rate limit hit", "code": 130429},
    500: {"message": "(#131000) Something went wrong", "code": 131000},
}


@dataclass
class FakeCloudApi:
    url: str = ""
    received: list[dict] = field(default_factory=list)
    # Statuses to answer with, in turn, before succeeding again (e.g. [429, 500]).
    failures: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def texts_to(self, number: str) -> list[str]:
        return [
            m["text"]["body"]
            if m["type"] == "text"
            else m["template"]["components"][0]["parameters"][0]["text"]
            for m in self.received
            if m["to"] == number.lstrip("+")
        ]


def _handler(api: FakeCloudApi):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _answer(self, status: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            if self.path != f"/{VERSION}/{PHONE_NUMBER_ID}/messages":
                return self._answer(404, {"error": {"message": "Unknown path", "code": 803}})
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._answer(401, {"error": {**ERRORS[401], "type": "OAuthException"}})
            try:
                message = json.loads(raw)
                assert message["messaging_product"] == "whatsapp"
                assert message["to"].isdigit()
                assert message["type"] in ("text", "template")
                assert message["text"]["body"] if message["type"] == "text" else True
            except (ValueError, KeyError, AssertionError):
                return self._answer(400, {"error": {"message": "Invalid parameter", "code": 100}})
            with api.lock:
                status = api.failures.pop(0) if api.failures else 200
                if status != 200:
                    error = {**ERRORS[status], "type": "OAuthException", "fbtrace_id": "Ax1"}
                    return self._answer(status, {"error": error})
                api.received.append(message)
                number = len(api.received)
            self._answer(
                200,
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": message["to"], "wa_id": message["to"]}],
                    "messages": [{"id": f"wamid.FAKE{number}"}],
                },
            )

    return Handler


@contextmanager
def fake_cloud_api():
    """A running fake, its base URL (to set as WHATSAPP_API_URL) in `.url`."""
    api = FakeCloudApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    api.url = f"http://127.0.0.1:{server.server_address[1]}/{VERSION}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()


def use_fake(settings, api: FakeCloudApi, *, token: str = TOKEN) -> None:
    """Point the portal's settings at the fake, as an operator would at the real API."""
    settings.WHATSAPP_PROVIDER = "cloud_api"
    settings.WHATSAPP_API_URL = api.url
    settings.WHATSAPP_PHONE_NUMBER_ID = PHONE_NUMBER_ID
    settings.WHATSAPP_TOKEN = token
    settings.WHATSAPP_TEMPLATE_NAME = ""
