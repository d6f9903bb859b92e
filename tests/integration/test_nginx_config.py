"""The production reverse-proxy configuration (deploy/nginx.conf) with Debian's nginx: it passes
`nginx -t`, and run on loopback (with a self-signed certificate made here) it redirects http to
https, adds the security headers, and carries the websocket upgrade to the app behind it."""
from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=portal.example.net", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def _configure(folder: Path, http_port: int = 80, https_port: int = 443,
               app_port: int = 3000) -> Path:
    """deploy/nginx.conf as shipped, with only the certificate paths (and, to run it without
    root, the ports) changed, inside a minimal main configuration."""
    cert, key = _certificate(folder)
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    site = (site.replace("/etc/letsencrypt/live/portal.example.net/fullchain.pem", str(cert))
                .replace("/etc/letsencrypt/live/portal.example.net/privkey.pem", str(key))
                .replace("listen 80;", f"listen 127.0.0.1:{http_port};")
                .replace("listen [::]:80;", "")
                .replace("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl")
                .replace("listen [::]:443 ssl;", "")
                .replace("listen [::]:443 ssl http2;", "")
                .replace("server 127.0.0.1:3000;", f"server 127.0.0.1:{app_port};"))
    (folder / "site.conf").write_text(site)
    for sub in ("body", "proxy", "logs"):
        (folder / sub).mkdir(exist_ok=True)
    main = folder / "nginx.conf"
    main.write_text(f"""
pid {folder}/nginx.pid;
error_log {folder}/logs/error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    include {folder}/site.conf;
}}
""")
    return main


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

    async def page(request):
        return web.Response(text=f"proto={request.headers.get('X-Forwarded-Proto')}")

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
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
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
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"]
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "https://js.stripe.com" in csp
        # Plain http is sent to https.
        opener = urllib.request.build_opener(type("NoRedirect", (urllib.request.HTTPRedirectHandler,),
                                                  {"redirect_request": lambda *a, **k: None}))
        with pytest.raises(urllib.error.HTTPError) as redirect:
            opener.open(f"http://127.0.0.1:{http_port}/some/page", timeout=5)
        assert redirect.value.code == 301
        assert redirect.value.headers["Location"].startswith("https://")
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
