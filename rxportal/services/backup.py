"""Backups: one .tar.gz holding the database (a consistent SQLite copy, or a pg_dump of
PostgreSQL) and the data folder's files (uploaded logo, signed contracts, attachments).
Restoring puts both back; the database must be empty (new) or be replaced explicitly."""
from __future__ import annotations

import io
import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.engine import make_url

from rxportal import config, db

# What is rebuilt or belongs to the running processes, never backed up.
SKIPPED = {"rxportal.db", "rxportal.db-wal", "rxportal.db-shm", "huey.db", "huey.db-wal",
           "huey.db-shm", "mail"}


def _sqlite_path(url) -> Path:
    return Path(url.database)


def _pg_args(url) -> tuple[list[str], dict]:
    args = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    env = {"PGPASSWORD": url.password} if url.password else {}
    return args, env


def create(destination: Path) -> Path:
    cfg = config.get()
    url = make_url(cfg.database_url)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        if url.get_backend_name() == "sqlite":
            dump, kind = scratch / "database.sqlite", "sqlite"
            with sqlite3.connect(_sqlite_path(url)) as source, sqlite3.connect(dump) as target:
                source.backup(target)  # consistent even while the app writes
        else:
            dump, kind = scratch / "database.pgdump", "postgresql"
            args, env = _pg_args(url)
            subprocess.run(["pg_dump", "-Fc", "-f", str(dump), *args, url.database],
                           check=True, env={**_os_env(), **env})
        with tarfile.open(destination, "w:gz") as archive:
            manifest = json.dumps({"created": stamp, "database": kind}).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(manifest)
            archive.addfile(info, io.BytesIO(manifest))
            archive.add(dump, arcname=dump.name)
            if cfg.data_dir.exists():
                for item in sorted(cfg.data_dir.iterdir()):
                    if item.name not in SKIPPED:
                        archive.add(item, arcname=f"data/{item.name}")
    return destination


def _stamps_floor() -> int:
    """The highest data version of the database about to be replaced (0 if it has none yet)."""
    from sqlalchemy import inspect

    from rxportal.services import change_stamps

    if "accountstamp" not in inspect(db.get_engine()).get_table_names():
        return 0
    with db.session_scope() as session:
        return change_stamps.highest(session)


def _move_stamps_past(floor: int) -> None:
    """Tabs kept their page's data version from before the restore: the restored versions are
    moved past them, so that every page is read again (services/change_stamps.py). A backup from
    before migration 0012 has no versions yet: `rxportal migrate` then starts them at 0, and a
    tab left open across the restore may show its page as it was until the account's next write."""
    from sqlalchemy import inspect

    from rxportal.services import change_stamps

    if "accountstamp" in inspect(db.get_engine()).get_table_names():
        with db.session_scope() as session:
            change_stamps.move_past(session, floor)


def restore(archive_path: Path) -> str:
    cfg = config.get()
    url = make_url(cfg.database_url)
    floor = _stamps_floor()
    with tempfile.TemporaryDirectory() as scratch, tarfile.open(archive_path, "r:gz") as archive:
        archive.extractall(scratch, filter="data")
        scratch = Path(scratch)
        kind = json.loads((scratch / "manifest.json").read_text())["database"]
        db.get_engine().dispose()
        if kind == "sqlite":
            if url.get_backend_name() != "sqlite":
                raise ValueError("this backup holds a SQLite database; DATABASE_URL is not SQLite")
            target = _sqlite_path(url)
            target.parent.mkdir(parents=True, exist_ok=True)
            with sqlite3.connect(scratch / "database.sqlite") as source, sqlite3.connect(target) as dest:
                source.backup(dest)
        else:
            if url.get_backend_name() != "postgresql":
                raise ValueError("this backup holds a PostgreSQL dump; DATABASE_URL is not PostgreSQL")
            args, env = _pg_args(url)
            subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "-d",
                            url.database, *args, str(scratch / "database.pgdump")],
                           check=True, env={**_os_env(), **env})
        data = scratch / "data"
        if data.exists():
            cfg.data_dir.mkdir(parents=True, exist_ok=True)
            shutil.copytree(data, cfg.data_dir, dirs_exist_ok=True)
    db.get_engine().dispose()
    _move_stamps_past(floor)
    return kind


def _os_env() -> dict:
    import os

    return dict(os.environ)
