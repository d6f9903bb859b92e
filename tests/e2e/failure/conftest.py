"""Failure tests: the portal in its scaled-out mode (PostgreSQL, Redis, several backend workers,
the job worker on Redis) while a backend worker dies, PostgreSQL or Redis restarts, or the SMTP
server stops. They use the end-to-end harness, and run only in the scaled-out mode (these
failures only exist with several workers): `make test` runs them after the journeys, against the
same build (`-m "journey or failure"`); tests/e2e/conftest.py leaves this folder out otherwise.

The database and Redis servers are shared with other work on this machine: every outage is a few
seconds long, and every helper starts its server again in a `finally`, whatever the test did.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path

import pytest


def pytest_collection_modifyitems(items):
    """Marked `failure` (`make test` runs them with the journeys) and run last: the other tests
    need not live with what an outage left behind."""
    here = Path(__file__).parent
    failures = [item for item in items if here in item.path.parents]
    for item in failures:
        item.add_marker(pytest.mark.failure)
    items[:] = [item for item in items if item not in failures] + failures


PG_VERSION = os.environ.get("RXPORTAL_PG_CLUSTER_VERSION") or (
    sorted(os.listdir("/etc/postgresql"))[-1] if os.path.isdir("/etc/postgresql") else "15")
REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1",
               "--port", "6379", "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
               "--logfile", "/var/log/redis/ci.log"]


def postgres_up() -> bool:
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"]).returncode == 0


def redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def _wait(check, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come back within {timeout}s")
        time.sleep(0.2)


def start_postgres() -> None:
    if not postgres_up():
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main",
                        "start"], check=False, capture_output=True)
    _wait(postgres_up, "PostgreSQL")


def start_redis() -> None:
    if not redis_up():
        subprocess.run(REDIS_START, check=False, capture_output=True)
    _wait(redis_up, "Redis")


@contextlib.contextmanager
def postgres_stopped():
    """PostgreSQL down for the duration of the block (started again even if the block fails)."""
    try:
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main",
                        "stop", "-m", "fast"], check=True, capture_output=True)
        yield
    finally:
        start_postgres()


@contextlib.contextmanager
def redis_stopped():
    """Redis down for the duration of the block (started again even if the block fails).
    Redis keeps nothing on disk here: what it held (Reflex's states, the job queue) is gone."""
    try:
        subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"],
                       check=False, capture_output=True)
        _wait(lambda: not redis_up(), "Redis shutdown", 10)
        yield
    finally:
        start_redis()


@pytest.fixture(autouse=True)
def services_restored():
    """Whatever happens in a test, the shared servers are running after it."""
    yield
    start_postgres()
    start_redis()
