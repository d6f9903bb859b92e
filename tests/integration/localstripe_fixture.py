"""A real localstripe (Stripe API emulator) for the tests, on 127.0.0.1 and a free port, plus a
small HTTP proxy in front of it that a test can stop, or make lose the answer to one request,
to play "the gateway went down mid-payment". Import the fixtures into a test module with
`from tests.integration.localstripe_fixture import localstripe, stripe_env, gateway_proxy`."""
from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


class LocalStripe:
    """localstripe in its own process. Its data is kept in a file, so that `stop()` then
    `start()` (a gateway outage) bring it back on the same port with the same customers, cards
    and payments, as a real gateway would be."""

    def __init__(self, port: int, state_file: Path):
        self.port, self.state_file = port, state_file
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> "LocalStripe":
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "localstripe_server.py"), "--port",
             str(self.port), "--state-file", str(self.state_file)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for(f"{self.url}/js.stripe.com/v3/")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def clear(self) -> None:
        request = urllib.request.Request(f"{self.url}/_config/data", method="DELETE")
        urllib.request.urlopen(request, timeout=5).read()

    def register_webhook(self, name: str, url: str, secret: str) -> None:
        from urllib.parse import urlencode

        data = urlencode({"url": url, "secret": secret}).encode()
        urllib.request.urlopen(f"{self.url}/_config/webhooks/{name}", data=data, timeout=5).read()

    def objects(self, what: str) -> list[dict]:
        """Every object of a kind (payment_intents, charges, ...), as the API lists them."""
        import json

        request = urllib.request.Request(f"{self.url}/v1/{what}?limit=100",
                                         headers={"Authorization": "Bearer sk_test_x"})
        return json.loads(urllib.request.urlopen(request, timeout=5).read())["data"]


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory):
    server = LocalStripe(_free_port(), tmp_path_factory.mktemp("localstripe") / "state.pickle")
    try:
        yield server.start()
    finally:
        server.stop()


class GatewayProxy:
    """Forwards HTTP to localstripe. `down = True`: every request is cut without an answer.
    `lose_answer_to = "/confirm"`: the next request whose path contains it reaches localstripe
    (so the charge happens) but its answer is lost."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.down = False
        self.lose_answer_to = ""
        self.lost = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self):
                if proxy.down:
                    self.close_connection = True
                    self.connection.close()
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=20)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "connection")}
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                if proxy.lose_answer_to and proxy.lose_answer_to in self.path:
                    proxy.lose_answer_to = ""
                    proxy.lost.append(self.path)
                    self.close_connection = True
                    self.connection.close()
                    return
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def stripe_env(localstripe, monkeypatch):
    """The app's gateway pointed at localstripe, with a clean store."""
    localstripe.clear()
    monkeypatch.setenv("STRIPE_API_BASE", localstripe.url)
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_test_rxportal")
    return localstripe


@pytest.fixture()
def gateway_proxy(stripe_env, monkeypatch):
    proxy = GatewayProxy(stripe_env.port)
    monkeypatch.setenv("STRIPE_API_BASE", proxy.url)
    yield proxy
    proxy.close()
