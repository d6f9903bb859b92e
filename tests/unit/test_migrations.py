"""The migrations build exactly the schema the models describe, and run twice harmlessly."""
from rxportal.services import migrations


def test_migrations_create_every_table_the_models_define(session):
    assert migrations.pending_differences() == []


def test_upgrading_an_up_to_date_database_changes_nothing(session):
    migrations.upgrade()
    assert migrations.pending_differences() == []


def test_a_migrated_database_is_not_new(data_dir):
    assert migrations.is_new_database()
    migrations.upgrade()
    assert not migrations.is_new_database()


def test_there_is_one_head_so_new_migrations_have_one_parent():
    from alembic.script import ScriptDirectory

    assert len(ScriptDirectory.from_config(migrations.alembic_config()).get_heads()) == 1


def test_a_database_of_the_first_release_with_data_upgrades_and_keeps_it(data_dir):
    from alembic import command
    from sqlalchemy import text

    from rxportal import db

    command.upgrade(migrations.alembic_config(), "0001")
    with db.get_engine().begin() as connection:
        connection.execute(text(
            "INSERT INTO account (number, name, email, billing_day, currency, language, status,"
            " usage_alerts, created_at) VALUES ('K1', 'Kept', 'k@example.org', 3, 'CAD', 'fr',"
            " 'active', 1, '2026-01-01 00:00:00')"))
    migrations.upgrade()
    assert migrations.pending_differences() == []
    with db.get_engine().connect() as connection:
        assert connection.execute(text("SELECT name, language FROM account")).all() == [("Kept", "fr")]
