"""Schema migrations (alembic). Every feature adds its own revision; `upgrade` applies all heads."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext

from rxportal import config, db
from rxportal.config import PROJECT_ROOT
from rxportal.models import metadata


def alembic_config() -> AlembicConfig:
    cfg = AlembicConfig(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    cfg.set_main_option("sqlalchemy.url", config.get().database_url)
    return cfg


def upgrade() -> None:
    command.upgrade(alembic_config(), "heads")


def pending_differences() -> list:
    """What the models have that the migrated database lacks (empty when migrations are complete)."""
    with db.get_engine().connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def is_new_database() -> bool:
    """True before the first migration: demo data is loaded only into a new database."""
    from sqlalchemy import inspect

    return "account" not in inspect(db.get_engine()).get_table_names()
