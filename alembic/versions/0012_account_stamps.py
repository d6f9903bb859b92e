"""account stamps: a counter per account that triggers raise on every write to what its pages show

A customer page whose data did not change since the tab last loaded it is not read again: the
page compares the account's stamp (and the shared one, account_id 0) with the stamp it loaded at
(services/change_stamps.py). Triggers, not application code, raise the stamps, so that no write
path can be forgotten: the ORM, bulk statements, the billing run, the staff pages and the job
worker all go through them.

On SQLite, a later migration that rebuilds one of these tables (alembic's batch mode copies it
and drops the old one) drops its triggers with it: it must create them again
(tests/integration/test_change_stamps.py checks every table of the migrated schema).

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Frozen here (a migration must not follow later code): the account a row belongs to, as an SQL
# expression over the row, spelled with ROW for NEW or OLD.
ACCOUNT_OF = {
    "account": "ROW.id",
    **{table: "ROW.account_id" for table in (
        "accountphone", "accountservice", "contract", "contractsignature", "gatewaycustomer",
        "invoice", "payment", "paymentmethod", "portaluser", "radacctsession", "radiuslogin",
        "refund", "ticket", "topoffpurchase", "transaction", "usagealertsent", "usageperiod",
        "usagesample")},
    "invoiceline": '(SELECT account_id FROM invoice WHERE id = ROW.invoice_id)',
    "ticketmessage": '(SELECT account_id FROM ticket WHERE id = ROW.ticket_id)',
    "ticketattachment": ('(SELECT t.account_id FROM ticketmessage m JOIN ticket t ON t.id = '
                         'm.ticket_id WHERE m.id = ROW.message_id)'),
    "signaturelogentry": '(SELECT account_id FROM contractsignature WHERE id = ROW.signature_id)',
    # What every account's pages show: stamp 0.
    **{table: "0" for table in ("contracttemplate", "plan", "setting", "topoffproduct")},
}
OPERATIONS = ("INSERT", "UPDATE", "DELETE")


def _rows(operation: str) -> tuple[str, ...]:
    return {"INSERT": ("NEW",), "UPDATE": ("NEW", "OLD"), "DELETE": ("OLD",)}[operation]


def _row_trigger(table: str, operation: str, dialect: str) -> str:
    """A trigger per operation (SQLite, MariaDB / MySQL)."""
    mysql = dialect == "mysql"
    upsert = ("ON DUPLICATE KEY UPDATE version = version + 1" if mysql else
              "ON CONFLICT (account_id) DO UPDATE SET version = version + 1")
    quoted = f"`{table}`" if mysql else f'"{table}"'
    bumps = "".join(
        f"INSERT INTO accountstamp (account_id, version) "
        f"SELECT a, 1 FROM (SELECT {ACCOUNT_OF[table].replace('ROW', row)} AS a) s "
        f"WHERE a IS NOT NULL {upsert};\n"
        for row in _rows(operation))
    return (f"CREATE TRIGGER stamp_{table}_{operation.lower()} AFTER {operation} ON {quoted} "
            f"FOR EACH ROW BEGIN\n{bumps}END")


def _postgresql_function(table: str) -> str:
    def bump(row: str) -> str:
        return (f"INSERT INTO accountstamp (account_id, version) "
                f"SELECT a, 1 FROM (SELECT {ACCOUNT_OF[table].replace('ROW', row)} AS a) s "
                f"WHERE a IS NOT NULL ON CONFLICT (account_id) DO UPDATE "
                f"SET version = accountstamp.version + 1;")
    return (f"CREATE FUNCTION stamp_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN\n"
            f"IF TG_OP <> 'DELETE' THEN {bump('NEW')} END IF;\n"
            f"IF TG_OP <> 'INSERT' THEN {bump('OLD')} END IF;\n"
            f"RETURN NULL; END $$")


def upgrade() -> None:
    op.create_table(
        "accountstamp",
        sa.Column("account_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("account_id"),
    )
    dialect = op.get_bind().dialect.name
    for table in ACCOUNT_OF:
        if dialect == "postgresql":
            op.execute(_postgresql_function(table))
            op.execute(f'CREATE TRIGGER stamp_{table} AFTER INSERT OR UPDATE OR DELETE ON "{table}" '
                       f"FOR EACH ROW EXECUTE FUNCTION stamp_{table}()")
        else:
            for operation in OPERATIONS:
                op.execute(_row_trigger(table, operation, dialect))


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in ACCOUNT_OF:
        if postgresql:
            op.execute(f'DROP TRIGGER IF EXISTS stamp_{table} ON "{table}"')
            op.execute(f"DROP FUNCTION IF EXISTS stamp_{table}()")
        else:
            for operation in OPERATIONS:
                op.execute(f"DROP TRIGGER IF EXISTS stamp_{table}_{operation.lower()}")
    op.drop_table("accountstamp")
