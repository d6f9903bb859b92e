"""Shared pieces of the benchmarks: the machine's description, the results file, the app under
measurement (a production build on SQLite, or on PostgreSQL + Redis with several workers) and a
simulated customer speaking Reflex 0.10.1's websocket protocol.

Each bench_*.py prints its figures against its budget and appends them to bench/results.md.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results.md"
PORT = int(os.environ.get("RXPORTAL_BENCH_PORT", os.environ.get("RXPORTAL_E2E_PORT", "3800")))

# The states' names as the browser knows them (Reflex: the path of classes from rx.State);
# tests/unit/test_bench_state_names.py checks them against the classes.
STATE = "reflex___state____state"
LANGUAGE_STATE = f"{STATE}.rxportal___state___language____language_state"
SESSION_STATE = f"{LANGUAGE_STATE}.rxportal___state___session____session_state"
BILLING_STATE = f"{SESSION_STATE}.rxportal___state___billing____billing_state"
DETAILS_STATE = f"{SESSION_STATE}.rxportal___state___details____details_state"
TICKETS_STATE = f"{SESSION_STATE}.rxportal___state___tickets____tickets_state"
NAMESPACE = "/_event"
COOKIE_VAR = f"{SESSION_STATE}.session_token_rx_state_"
UPDATE_VARS = "reflex___state____update_vars_internal_state.update_vars_internal"
ON_LOAD = "reflex___state____on_load_internal_state.on_load_internal"


def machine() -> str:
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    return f"{os.cpu_count()} CPUs ({cpu}), {memory} RAM"


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def verdict(ok: bool) -> str:
    return "within budget" if ok else "OVER BUDGET"


def record(title: str, rows: list[str]) -> None:
    """Print the figures and append them to bench/results.md under a dated heading."""
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    header = (f"\n## {title} — {now()}\nMachine: {machine()}; load average at the end "
              f"{load} (other work shares these cores)\n\n")
    text = header + "".join(f"- {row}\n" for row in rows)
    print(text)
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n\nAppended by `make bench` (bench/bench_*.py): "
                           "each run with its date and machine.\n")
    with RESULTS.open("a") as out:
        out.write(text)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


# --------------------------------------------------------------------------- the app

class RunningPortal:
    def __init__(self, url, env, process, mode):
        self.url, self.env, self.process, self.mode = url, env, process, mode

    def processes(self):
        """The backend processes (the reflex launcher, granian and its workers)."""
        import psutil

        root = psutil.Process(self.process.pid)
        return [root, *root.children(recursive=True)]

    def rss(self) -> int:
        import psutil

        total = 0
        for proc in self.processes():
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total


@contextlib.contextmanager
def running_portal(mode: str = "single", port: int = PORT, workers: int = 3):
    """The portal in production mode with the demo data: mode "single" = one worker on SQLite,
    "scaled" = PostgreSQL (a new database) + Redis (db 7) with `workers` backend workers."""
    import tempfile

    from tests.e2e.conftest import _scaled_mode_env, _stop, _wait_until_up

    import socket

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise RuntimeError(f"port {port} is taken: stop what runs there first")
    data_dir = Path(tempfile.mkdtemp(prefix="rxportal-bench-"))
    cleanup = lambda: None  # noqa: E731
    mode_env = {}
    if mode == "scaled":
        os.environ.setdefault("RXPORTAL_E2E_REDIS_DB", "8")  # not the e2e suite's db 7
        mode_env, cleanup = _scaled_mode_env()
        mode_env["GRANIAN_WORKERS"] = str(workers)
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "RXPORTAL_DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'portal.db'}",
        "RXPORTAL_SECRET_KEY": "bench-secret-key",
        "RXPORTAL_PORT": str(port),
        "RXPORTAL_PUBLIC_URL": url,
        "RXPORTAL_BCRYPT_ROUNDS": "4",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_CHECK_LATEST_VERSION": "false",
        "PATH": f"{ROOT / 'tools' / 'node_modules' / '.bin'}:{Path(sys.executable).parent}:"
                f"{os.environ.get('PATH', '')}",
        **mode_env,
    }
    env.pop("SMTP_HOST", None)
    for key in ("RXPORTAL_DATA_DIR", "DATABASE_URL", "RXPORTAL_SECRET_KEY", "REDIS_URL",
                "RXPORTAL_BCRYPT_ROUNDS"):
        if key in env:
            os.environ[key] = env[key]
        else:
            os.environ.pop(key, None)
    subprocess.run([sys.executable, "-m", "rxportal.cli", "setup"], env=env, cwd=ROOT,
                   check=True, capture_output=True)
    log = data_dir / "app.log"
    app = subprocess.Popen(
        [sys.executable, "-m", "reflex", "run", "--env", "prod", "--backend-host", "127.0.0.1",
         "--frontend-port", str(port), "--backend-port", str(port)],
        env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        _wait_until_up(url, app, log)
        yield RunningPortal(url, env, app, mode)
    finally:
        _stop(app)
        cleanup()


def login_tokens(count: int, username: str = "demo") -> list[str]:
    """`count` session cookies for a demo customer, from the service layer directly."""
    from rxportal import db
    from rxportal.demo import DEMO_PASSWORD
    from rxportal.services import auth

    tokens = []
    for i in range(count):
        with db.session_scope() as session:
            tokens.append(auth.login(session, username, DEMO_PASSWORD,
                                     ip=f"10.9.{i // 250}.{i % 250 + 1}").token)
    return tokens


# --------------------------------------------------------------------------- a simulated customer

class Customer:
    """One browser tab: a socket.io connection to /_event that hydrates like the real frontend,
    then sends events and waits for their state updates."""

    def __init__(self, url: str, session_cookie: str = "", path: str = "/billing"):
        import socketio

        self.url, self.cookie, self.path = url, session_cookie, path
        self.token = str(uuid.uuid4())
        self.sio = socketio.AsyncClient(reconnection=False)
        self.updates: asyncio.Queue = asyncio.Queue()
        self.sio.on("event", self._on_update, namespace=NAMESPACE)

    async def _on_update(self, update):
        await self.updates.put((time.perf_counter(), update))

    def _event(self, name: str, payload: dict | None = None, path: str | None = None) -> dict:
        path = path or self.path
        return {"name": name, "payload": payload or {}, "token": self.token,
                "router_data": {"pathname": path, "asPath": path}}

    async def connect(self, timeout: float = 30) -> None:
        from reflex import constants

        vars_ = {COOKIE_VAR: self.cookie} if self.cookie else {}
        boot = self._event(f"{STATE}.hydrate_and_load", {"vars": vars_} if vars_ else {})
        headers = {"Cookie": f"rxportal_session={self.cookie}"} if self.cookie else {}
        headers["Sec-WebSocket-Protocol"] = constants.Reflex.VERSION
        await self.sio.connect(f"{self.url}?token={self.token}", socketio_path="/_event",
                               transports=["websocket"], headers=headers, namespaces=[NAMESPACE],
                               auth={"event": boot}, wait_timeout=timeout)
        # The hydrate and the page's on_load handlers answer with several updates.
        await self.wait_for(
            lambda d: d.get(STATE, {}).get("is_hydrated_rx_state_") is True, timeout)
        self._drain()

    def _drain(self) -> None:
        while not self.updates.empty():
            self.updates.get_nowait()

    async def wait_for(self, predicate, timeout: float = 30) -> tuple[float, dict]:
        deadline = time.perf_counter() + timeout
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError("no matching state update")
            at, update = await asyncio.wait_for(self.updates.get(), remaining)
            delta = update.get("delta") or {}
            if predicate(delta):
                return at, delta

    async def call(self, name: str, answer_state: str, payload: dict | None = None,
                   path: str | None = None, timeout: float = 30) -> tuple[float, dict]:
        """Send one event; seconds until the update of `answer_state` arrived, and its delta."""
        self._drain()
        started = time.perf_counter()
        await self.sio.emit("event", self._event(name, payload, path), namespace=NAMESPACE)
        at, delta = await self.wait_for(lambda d: answer_state in d, timeout)
        return at - started, delta

    async def call_confirmed(self, name: str, path: str | None = None, timeout: float = 30,
                             payload: dict | None = None) -> tuple[float, dict]:
        """Send one event that may change nothing (the pages send only what changed, so a page
        whose data is as it was answers nothing), then the menu button, whose answer always
        comes: a tab's events are handled in order, so that answer means the first was done.
        Seconds until then (both events' work), and what came back meanwhile."""
        self._drain()
        started = time.perf_counter()
        await self.sio.emit("event", self._event(name, payload or {}, path), namespace=NAMESPACE)
        await self.sio.emit("event", self._event(f"{SESSION_STATE}.toggle_menu", {}, path),
                            namespace=NAMESPACE)
        seen: dict = {}

        def confirmed(delta: dict) -> bool:
            seen.update(delta)
            return "menu_open_rx_state_" in delta.get(SESSION_STATE, {})

        at, _ = await self.wait_for(confirmed, timeout)
        return at - started, seen

    async def navigate(self, path: str, timeout: float = 30) -> tuple[float, dict]:
        """Follow a link to `path` as the browser does (state.js `onLoadInternalEvent`): the
        browser's stored vars, then `on_load_internal`, which runs the page's on_load handler (the
        login check and the page's load in one event), whose end sets `is_hydrated` again (what
        the page's `data-hydrated` shows). Seconds until then; the page's own update comes
        before it, when its data changed since the last visit."""
        self._drain()
        started = time.perf_counter()
        vars_ = {COOKIE_VAR: self.cookie} if self.cookie else {}
        for name, payload in ((f"{STATE}.{UPDATE_VARS}", {"vars": vars_}),
                              (f"{STATE}.{ON_LOAD}", {})):
            await self.sio.emit("event", self._event(name, payload, path), namespace=NAMESPACE)
        at, delta = await self.wait_for(
            lambda d: d.get(STATE, {}).get("is_hydrated_rx_state_") is True, timeout)
        return at - started, delta

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.sio.disconnect()
