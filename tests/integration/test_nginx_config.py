"""The production reverse-proxy configuration (deploy/nginx.conf) with Debian's nginx: it passes
`nginx -t`, and run on loopback (with a self-signed certificate made here) it redirects http to
https, adds the security headers, and carries the websocket upgrade to the app behind it."""
from __future__ import annotations

import asyncio
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.nginx_proxy import NGINX, certificate, client_context, main_config, site_config


def _configure(folder: Path, http_port: int = 80, https_port: int = 443,
               app_port: int = 3000) -> Path:
    """deploy/nginx.conf as shipped, with only the certificate paths (and, to run it without
    root, the ports) changed, inside a minimal main configuration."""
    cert, key = certificate(folder)
    return main_config(folder, site_config(cert, key, http_port, https_port, app_port))


@pytest.fixture()
def nginx_available():
    assert Path(NGINX).exists(), "nginx is missing: scripts/install_system_packages.sh installs it"


def test_the_shipped_configuration_passes_nginx_t(tmp_path, nginx_available):
    main = _configure(tmp_path)
    result = subprocess.run([NGINX, "-t", "-c", str(main), "-p", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def _upstream(port: int, stop: threading.Event) -> threading.Thread:
    """A small aiohttp app standing in for the portal: a page and a websocket echo on /_event."""
    from aiohttp import WSMsgType, web

    async def page(request):  # with the headers the portal adds to every answer
        from rxportal.api import SECURITY_HEADERS

        return web.Response(text=f"proto={request.headers.get('X-Forwarded-Proto')}",
                            headers={k.decode(): v.decode() for k, v in SECURITY_HEADERS})

    async def folder(request):  # as Starlette does for a page folder, from the Host header
        raise web.HTTPTemporaryRedirect(f"http://{request.host}/billing/pay/")

    async def echo(request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                await ws.send_str("echo:" + message.data)
        return ws

    async def serve():
        app = web.Application()
        app.router.add_get("/", page)
        app.router.add_get("/billing/pay", folder)
        app.router.add_get("/_event/", echo)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        while not stop.is_set():
            await asyncio.sleep(0.1)
        await runner.cleanup()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    return thread


def test_through_nginx_on_loopback(tmp_path, nginx_available):
    http_port, https_port, app_port = free_port(), free_port(), free_port()
    main = _configure(tmp_path, http_port, https_port, app_port)
    stop = threading.Event()
    upstream = _upstream(app_port, stop)
    server = subprocess.Popen([NGINX, "-c", str(main), "-p", str(tmp_path), "-g",
                               "daemon off; master_process on;"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        context = client_context()
        deadline = time.monotonic() + 10
        while True:
            try:
                answer = urllib.request.urlopen(f"https://127.0.0.1:{https_port}/",
                                                context=context, timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "logs" / "error.log").read_text()
                time.sleep(0.2)
        assert answer.read() == b"proto=https"
        headers = answer.headers
        assert "max-age=" in headers["Strict-Transport-Security"]
        # Sent by the app and by nginx: once each (a repeated value is read as a list).
        assert headers.get_all("X-Content-Type-Options") == ["nosniff"]
        assert headers.get_all("Referrer-Policy") == ["strict-origin-when-cross-origin"]
        assert headers["X-Frame-Options"] == "DENY"  # the app's, passed through
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "https://js.stripe.com" in csp
        # Plain http is sent to https.
        opener = urllib.request.build_opener(type("NoRedirect", (urllib.request.HTTPRedirectHandler,),
                                                  {"redirect_request": lambda *a, **k: None}),
                                             urllib.request.HTTPSHandler(context=context))
        with pytest.raises(urllib.error.HTTPError) as redirect:
            opener.open(f"http://127.0.0.1:{http_port}/some/page", timeout=5)
        assert redirect.value.code == 301
        assert redirect.value.headers["Location"].startswith("https://")
        # The app's own redirect keeps https and the port the browser used.
        with pytest.raises(urllib.error.HTTPError) as folder:
            opener.open(urllib.request.Request(f"https://127.0.0.1:{https_port}/billing/pay"),
                        timeout=5)
        assert folder.value.code == 307
        assert folder.value.headers["Location"] == f"https://127.0.0.1:{https_port}/billing/pay/"
        # The websocket upgrade reaches the app and comes back.
        import aiohttp

        async def roundtrip():
            async with aiohttp.ClientSession() as session:
                async with session.ws_connect(f"wss://127.0.0.1:{https_port}/_event/",
                                              ssl=context) as ws:
                    await ws.send_str("hello")
                    return (await ws.receive(timeout=5)).data

        assert asyncio.run(roundtrip()) == "echo:hello"
    finally:
        server.terminate()
        server.wait(timeout=10)
        stop.set()
        upstream.join(timeout=5)
