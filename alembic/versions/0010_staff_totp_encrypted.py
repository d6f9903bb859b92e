"""staff: TOTP secrets encrypted at rest (AES-GCM, key derived from the secret key)

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

COLUMNS = ("totp_secret", "totp_pending_secret")


def upgrade() -> None:
    with op.batch_alter_table("staffuser", schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.alter_column(column, existing_type=sqlmodel.sql.sqltypes.AutoString(length=64),
                                  type_=sqlmodel.sql.sqltypes.AutoString(length=255),
                                  existing_nullable=False)
    _reseal(lambda value, store: value if store.is_encrypted(value)
            else store.encrypt(value, "staff-totp"))


def downgrade() -> None:
    _reseal(lambda value, store: store.decrypt(value, "staff-totp")
            if store.is_encrypted(value) else value)
    with op.batch_alter_table("staffuser", schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.alter_column(column, existing_type=sqlmodel.sql.sqltypes.AutoString(length=255),
                                  type_=sqlmodel.sql.sqltypes.AutoString(length=64),
                                  existing_nullable=False)


def _reseal(change) -> None:
    """Rewrite both columns of every staff user with `change(value, secrets_store)`."""
    from rxportal.services import secrets_store

    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT id, totp_secret, totp_pending_secret FROM staffuser")).all()
    for row_id, secret, pending in rows:
        connection.execute(
            sa.text("UPDATE staffuser SET totp_secret = :secret, totp_pending_secret = :pending "
                    "WHERE id = :id"),
            {"id": row_id, "secret": change(secret or "", secrets_store) if secret else "",
             "pending": change(pending or "", secrets_store) if pending else ""})
