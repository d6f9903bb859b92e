"""Database engine and sessions, shared by services, jobs and the CLI (no Reflex here)."""
from __future__ import annotations

import contextlib
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from rxportal import config


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def get_engine() -> Engine:
    return engine_for(config.get().database_url)


# The session of the `one_transaction()` block being run, if any.
_block_session: ContextVar[Session | None] = ContextVar("rxportal_block_session", default=None)


@contextlib.contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on error. Inside `one_transaction()`,
    the block's session: the block commits, and an error here rolls the block back."""
    block = _block_session.get()
    if block is not None:
        try:
            yield block
        except BaseException:
            block.rollback()  # nothing this part wrote is kept, even if the caller goes on
            raise
        return
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextlib.contextmanager
def one_transaction() -> Iterator[Session]:
    """Every `session_scope()` in this block is one session and one transaction: a page load
    (the login check, then the page's reads) takes one connection from the pool and one
    BEGIN ... COMMIT, not one per part. On PostgreSQL each part cost four round trips of its
    own (the pool's ping, BEGIN, the ISP's settings, COMMIT; bench/README.md)."""
    if _block_session.get() is not None:
        with session_scope() as session:
            yield session
        return
    with session_scope() as session:
        token = _block_session.set(session)
        try:
            yield session
        finally:
            _block_session.reset(token)
