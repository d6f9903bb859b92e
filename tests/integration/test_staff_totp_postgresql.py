"""The TOTP-encrypting migration (0010) on the real PostgreSQL: the columns widen and the
plaintext secrets of earlier releases are encrypted."""
from tests.integration.test_postgresql import postgres_url  # noqa: F401 - fixture
from tests.unit.test_staff_totp_encryption import \
    test_the_migration_encrypts_plaintext_secrets_of_earlier_releases as migrate_and_check


def test_the_totp_migration_runs_on_postgresql(postgres_url):  # noqa: F811
    migrate_and_check(None)
