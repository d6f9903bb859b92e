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
