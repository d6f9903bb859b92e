"""End-to-end harness: ONE production build of the app for the whole run, served on
127.0.0.1:$RXPORTAL_E2E_PORT (default 3100) with its job worker, a fresh SQLite file with the demo
data, a real SMTP server (aiosmtpd) receiving its mail, and Debian's Chromium via Playwright.

With RXPORTAL_E2E_MODE=scaled the same app runs on PostgreSQL and Redis with several backend
workers; `make test` runs the tests marked `journey` (the core customer journeys) that way too.
With RXPORTAL_E2E_PROXY=nginx the browser reaches the app only through the shipped
deploy/nginx.conf (tests/nginx_proxy.py: TLS with a self-signed certificate, its security
headers and Content-Security-Policy, the websocket upgrade), and Stripe.js through a TLS front
for localstripe named in that policy in place of Stripe's origins. In every mode a Content
Security Policy violation reported by Chromium fails the test.

Helpers: `login(page, user)`, `check_accessibility(page)` (axe-core: no serious or critical
violations), `snap(page, name)` (screenshots into test-artifacts/screenshots/), and
`portal.mail.wait_for(to, subject_part)`.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.conftest import SmtpCapture, free_port
from tests.integration.localstripe_fixture import localstripe  # noqa: F401 - the app's Stripe

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
AXE_JS = ROOT / "tools" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
DEMO_PASSWORD = "correct-horse-demo"
# The failure tests stop PostgreSQL, Redis and workers: they exist in the scaled-out mode only.
collect_ignore = [] if os.environ.get("RXPORTAL_E2E_MODE") == "scaled" else ["failure"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


class MailBox(SmtpCapture):
    def wait_for(self, to: str, subject_part: str | tuple[str, ...] = "", timeout: float = 30.0):
        """The newest mail to `to` whose subject contains subject_part (or one of several,
        e.g. the English and the French subject)."""
        parts = (subject_part,) if isinstance(subject_part, str) else subject_part
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in reversed(self.to(to)):
                if any(p.lower() in str(message["Subject"]).lower() for p in parts):
                    return message
            time.sleep(0.2)
        raise AssertionError(f"no mail to {to} with {subject_part!r} within {timeout}s; "
                             f"got {[str(m['Subject']) for m in self.messages]}")


def body_text(message) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part else ""


def first_link(message) -> str:
    match = re.search(r"https?://\S+", body_text(message))
    assert match, "no link in the mail"
    return match.group(0)


class Portal:
    def __init__(self, url: str, env: dict, mail: MailBox, data_dir: Path,
                 process: subprocess.Popen | None = None, smtp=None):
        self.url, self.env, self.mail, self.data_dir = url, env, mail, data_dir
        # For the failure tests: the app's process (its backend workers are its descendants)
        # and the SMTP server's controller (stopped and started again).
        self.process, self.smtp = process, smtp

    def stop_smtp(self) -> None:
        self.smtp.stop()

    def start_smtp(self) -> None:
        """The SMTP server again, on the same port (a stopped controller cannot restart)."""
        from aiosmtpd.controller import Controller

        self.smtp = Controller(self.mail, hostname=self.smtp.hostname, port=self.smtp.port)
        self.smtp.start()

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "rxportal.cli", *args], env=self.env,
                              cwd=ROOT, capture_output=True, text=True, check=True)


def _wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 420) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited early:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2) as answer:
                if answer.status == 200:
                    with urllib.request.urlopen(url, timeout=5):
                        return
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError(f"the app did not start in {timeout}s:\n{log.read_text()[-4000:]}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _scaled_mode_env() -> tuple[dict, callable]:
    """RXPORTAL_E2E_MODE=scaled: PostgreSQL (a new database for this run), Redis for Reflex's
    state and the job queue, and several backend workers, as a larger ISP runs it."""
    import uuid

    from sqlalchemy import create_engine, text

    name = f"rxportal_e2e_{uuid.uuid4().hex[:8]}"
    admin = create_engine("postgresql://postgres@127.0.0.1:5432/postgres",
                          isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    redis_db = os.environ.get("RXPORTAL_E2E_REDIS_DB", "7")
    import redis

    redis.Redis.from_url(f"redis://127.0.0.1:6379/{redis_db}").flushdb()

    def drop() -> None:
        from rxportal import db

        db.engine_for(f"postgresql://postgres@127.0.0.1:5432/{name}").dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return {"DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{name}",
            "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
            "GRANIAN_WORKERS": os.environ.get("RXPORTAL_E2E_WORKERS", "3")}, drop


def _proxy(tmp_path_factory, app_port: int, stripe_port: int):
    """RXPORTAL_E2E_PROXY=nginx: nginx in front of the app (and of localstripe's Stripe.js);
    Python's own HTTPS requests in the tests trust its certificate."""
    if os.environ.get("RXPORTAL_E2E_PROXY", "") != "nginx":
        return None, {}
    from tests.nginx_proxy import NginxProxy, client_context

    proxy = NginxProxy(tmp_path_factory.mktemp("nginx"), app_port, stripe_port).start()
    urllib.request.install_opener(urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=client_context(proxy.cert))))
    return proxy, {"RXPORTAL_API_URL": proxy.url,
                   "STRIPE_JS_URL": f"{proxy.stripe_url}/js.stripe.com/v3/"}


@pytest.fixture(scope="session")
def portal(tmp_path_factory, localstripe):  # noqa: F811
    """The app under test, built once per pytest run."""
    data_dir = tmp_path_factory.mktemp("portal-data")
    scaled = os.environ.get("RXPORTAL_E2E_MODE") == "scaled"
    mode_env, cleanup = _scaled_mode_env() if scaled else ({}, lambda: None)
    port = int(os.environ.get("RXPORTAL_E2E_PORT", "3100"))
    proxy, proxy_env = _proxy(tmp_path_factory, port, localstripe.port)
    url = proxy.url if proxy else f"http://127.0.0.1:{port}"
    mail = MailBox()
    from aiosmtpd.controller import Controller

    smtp_port = free_port()
    controller = Controller(mail, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    env = {
        **os.environ,
        "RXPORTAL_DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'portal.db'}",
        "RXPORTAL_SECRET_KEY": "e2e-secret-key",
        "RXPORTAL_PORT": str(port),
        "RXPORTAL_PUBLIC_URL": url,
        "RXPORTAL_BCRYPT_ROUNDS": "12",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        # Billing: payments go to a real localstripe started for this run (loopback, free port).
        "STRIPE_API_BASE": localstripe.url,
        "STRIPE_SECRET_KEY": "",
        "STRIPE_WEBHOOK_SECRET": "whsec_e2e",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_CHECK_LATEST_VERSION": "false",
        "PATH": f"{ROOT / 'tools' / 'node_modules' / '.bin'}:{Path(sys.executable).parent}:"
                f"{os.environ.get('PATH', '')}",
        **mode_env,
        **proxy_env,
        **_extra_env(),
    }
    # Tests read and arrange data in the same database file as the app.
    for key in ("RXPORTAL_DATA_DIR", "DATABASE_URL", "RXPORTAL_SECRET_KEY", "SMTP_HOST",
                "SMTP_PORT", "RXPORTAL_PUBLIC_URL", "REDIS_URL", "STRIPE_API_BASE",
                "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"):
        if key in env:
            os.environ[key] = env[key]
    subprocess.run([sys.executable, "-m", "rxportal.cli", "setup"], env=env, cwd=ROOT,
                   check=True)
    ARTIFACTS.mkdir(exist_ok=True)
    app_log, worker_log = ARTIFACTS / "e2e-app.log", ARTIFACTS / "e2e-worker.log"
    app = subprocess.Popen(
        [sys.executable, "-m", "reflex", "run", "--env", "prod", "--backend-host", "127.0.0.1",
         "--frontend-port", str(port), "--backend-port", str(port)],
        env=env, cwd=ROOT, stdout=app_log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True)
    worker = subprocess.Popen([sys.executable, "-m", "rxportal.cli", "worker"], env=env,
                              cwd=ROOT, stdout=worker_log.open("w"), stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        _wait_until_up(url, app, app_log)
        portal = Portal(url, env, mail, data_dir, process=app, smtp=controller)
        yield portal
    finally:
        _stop(app)
        _stop(worker)
        if proxy:
            proxy.stop()
        try:
            portal.smtp.stop()
        except (NameError, AssertionError, RuntimeError):  # not started, or stopped by a test
            controller.stop() if controller.loop.is_running() else None
        cleanup()


def _extra_env() -> dict:
    """Feature fixtures can add settings for the app process through RXPORTAL_E2E_ENV_*."""
    prefix = "RXPORTAL_E2E_ENV_"
    return {k[len(prefix):]: v for k, v in os.environ.items() if k.startswith(prefix)}


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            "--disable-quic"])
        yield chromium
        chromium.close()


def new_page(browser, portal, viewport=DESKTOP, lang: str | None = "en"):
    """A page in a fresh browser context. The language is set in the browser first (English
    unless told), so that one test's saved choice never leaks into another; lang=None leaves
    the browser without a choice."""
    context = browser.new_context(viewport=viewport, base_url=portal.url,
                                  is_mobile=viewport["width"] < 500,
                                  has_touch=viewport["width"] < 500,
                                  ignore_https_errors=True)  # the proxy's self-signed certificate
    watch_csp(context)
    if lang:
        context.add_init_script(
            f"window.localStorage.setItem('rxportal_lang', {lang!r});")
    context.set_default_timeout(15_000)
    return context.new_page()


CSP_VIOLATIONS: list[str] = []


def watch_csp(context) -> None:
    """Record what Chromium reports as blocked by the Content-Security-Policy (or as mixed
    http content in an https page), in every page of the context, later tabs included."""
    def watch(page):
        page.on("console", lambda message: CSP_VIOLATIONS.append(f"{page.url}: {message.text}")
                if "Content Security Policy" in message.text or "Mixed Content" in message.text
                else None)

    context.on("page", watch)


@pytest.fixture(autouse=True)
def no_csp_violation():
    CSP_VIOLATIONS.clear()
    yield
    assert CSP_VIOLATIONS == [], "blocked by the Content-Security-Policy"


@pytest.fixture()
def page(browser, portal):
    page = new_page(browser, portal)
    yield page
    page.context.close()


@pytest.fixture()
def phone_page(browser, portal):
    page = new_page(browser, portal, PHONE)
    yield page
    page.context.close()


def _mark_waited(page) -> bool:
    """Mark the document as waited on; True if it was not yet (a newly loaded one)."""
    return page.evaluate("() => { const fresh = !window.__rxportalWaited; "
                         "window.__rxportalWaited = true; return fresh; }")


def wait_ready(page) -> None:
    """Wait until the page is hydrated and its on_load handlers have run.

    On a newly loaded document, the page's <main data-hydrated> turns "true" when Reflex has
    run its on_load chain. After a move inside the app (a link, a redirect) the old page's
    "true" may still show for a moment, so then the wait is for the network to go quiet.
    A document that is replaced while this asks (a redirect that loads a new one) is asked
    again once the new one has loaded."""
    try:
        fresh = _mark_waited(page)
    except PlaywrightError as error:
        if "Execution context was destroyed" not in str(error):
            raise
        page.wait_for_load_state("load")
        fresh = _mark_waited(page)
    if fresh:
        page.wait_for_selector('main[data-hydrated="true"]', state="attached")
    else:
        page.wait_for_load_state("networkidle")


def login(page, username: str = "demo", password: str = DEMO_PASSWORD, expect: str = "/billing"):
    """Log in through the form, as a person would; wait for the page it leads to."""
    page.goto("/")
    wait_ready(page)
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("form button[type=submit]").click()
    if expect:
        page.wait_for_url(f"**{expect}")
        wait_ready(page)


def log_in_by_cookie(page, portal, username: str = "demo", password: str = DEMO_PASSWORD) -> None:
    """A session opened by the service layer, handed to the browser as its cookie: for tests
    of a page rather than of the login form (test_login_page.py and the journeys log in
    through the form)."""
    from rxportal import db
    from rxportal.services import auth
    from rxportal.state.session import SESSION_COOKIE

    with db.session_scope() as session:
        token = auth.login(session, username, password, ip="127.0.0.1").token
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": portal.url,
                               "sameSite": "Strict"}])


def check_accessibility(page) -> None:
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => ['serious', 'critical'].includes(v.impact))
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    assert result == [], f"accessibility violations on {page.url}: {result}"


def snap(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def look_at(browser, portal, route: str, name: str, user: str | None = None,
            ready_selector: str | None = None) -> None:
    """Open a page in both languages at phone and desktop sizes: screenshot it, check that it
    does not scroll sideways, and run axe-core. Logs in first when `user` is given."""
    for lang in ("en", "fr"):
        for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            page = new_page(browser, portal, viewport, lang=lang)
            try:
                if user:
                    log_in_by_cookie(page, portal, user)
                page.goto(route)
                wait_ready(page)
                if ready_selector:
                    page.locator(ready_selector).first.wait_for()
                assert page.locator("html").evaluate(
                    "el => el.scrollWidth <= window.innerWidth + 1"), f"{route} scrolls sideways"
                snap(page, f"{name}-{lang}-{size}")
                check_accessibility(page)
            finally:
                page.context.close()
