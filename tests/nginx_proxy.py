"""The shipped reverse-proxy configuration (deploy/nginx.conf) run by Debian's nginx on loopback
for tests, without root: the same file with only the certificate (a self-signed one made here
with openssl), the ports, the upstream and, for the end-to-end run, the Stripe.js origins
changed. Used by tests/integration/test_nginx_config.py and, with RXPORTAL_E2E_PROXY=nginx, by
the end-to-end harness (the browser then reaches the app only through nginx, over TLS)."""
from __future__ import annotations

import shutil
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
STRIPE_ORIGINS = ("https://js.stripe.com", "https://api.stripe.com", "https://hooks.stripe.com")


def certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def site_config(cert: Path, key: Path, http_port: int = 80, https_port: int = 443,
                app_port: int = 3000, public_host: str = "portal.example.net",
                stripe_origin: str = "") -> str:
    """deploy/nginx.conf with loopback ports; `stripe_origin` stands in for Stripe's origins
    (a local Stripe.js) in the Content-Security-Policy."""
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    site = (site.replace("/etc/letsencrypt/live/portal.example.net/fullchain.pem", str(cert))
                .replace("/etc/letsencrypt/live/portal.example.net/privkey.pem", str(key))
                .replace("listen 80;", f"listen 127.0.0.1:{http_port};")
                .replace("listen [::]:80;", "")
                .replace("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl")
                .replace("listen [::]:443 ssl;", "")
                .replace("listen [::]:443 ssl http2;", "")
                .replace("server 127.0.0.1:3000;", f"server 127.0.0.1:{app_port};"))
    if public_host != "portal.example.net":
        site = site.replace("wss://portal.example.net", f"wss://{public_host}")
    if stripe_origin:
        for origin in STRIPE_ORIGINS:
            site = site.replace(origin, stripe_origin)
    return site


def tls_passthrough(cert: Path, key: Path, https_port: int, upstream_port: int) -> str:
    """A TLS front for a local HTTP service (localstripe), so an https page may load from it."""
    return f"""
server {{
    listen 127.0.0.1:{https_port} ssl;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    location / {{
        proxy_pass http://127.0.0.1:{upstream_port};
        proxy_set_header Host $host:$server_port;
    }}
}}
"""


def main_config(folder: Path, *sites: str) -> Path:
    (folder / "site.conf").write_text("\n".join(sites))
    for sub in ("body", "proxy", "logs"):
        (folder / sub).mkdir(exist_ok=True)
    main = folder / "nginx.conf"
    main.write_text(f"""
pid {folder}/nginx.pid;
error_log {folder}/logs/error.log;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    include {folder}/site.conf;
}}
""")
    return main


def client_context(cert: Path | None = None) -> ssl.SSLContext:
    """A client TLS context that trusts the self-signed certificate (or anything, without one)."""
    if cert is None:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=str(cert))


class NginxProxy:
    """nginx in front of the app on `app_port` (and of localstripe, when given): https on
    `https_port`, plain http (redirected) on another free port."""

    def __init__(self, folder: Path, app_port: int, stripe_port: int | None = None):
        self.folder = folder
        self.https_port, self.http_port = free_port(), free_port()
        self.cert, key = certificate(folder)
        self.url = f"https://127.0.0.1:{self.https_port}"
        sites = []
        self.stripe_url = ""
        if stripe_port:
            stripe_tls = free_port()
            self.stripe_url = f"https://127.0.0.1:{stripe_tls}"
            sites.append(tls_passthrough(self.cert, key, stripe_tls, stripe_port))
        sites.insert(0, site_config(self.cert, key, self.http_port, self.https_port, app_port,
                                    public_host=f"127.0.0.1:{self.https_port}",
                                    stripe_origin=self.stripe_url))
        self.config = main_config(folder, *sites)
        self.process: subprocess.Popen | None = None

    def start(self) -> "NginxProxy":
        self.process = subprocess.Popen(
            [NGINX, "-c", str(self.config), "-p", str(self.folder), "-g",
             "daemon off; master_process on;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/ping", context=client_context(self.cert),
                                       timeout=2).read()
                return self
            except urllib.error.HTTPError:
                return self  # nginx answers (the app behind it may not be up yet)
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("nginx did not start: " + self.error_log())
                time.sleep(0.2)

    def error_log(self) -> str:
        path = self.folder / "logs" / "error.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None
