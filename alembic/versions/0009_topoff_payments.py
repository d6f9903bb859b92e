"""top-offs paid through billing payments: the payment attempt, refunds and data taken back

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("topoffpurchase", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempt_id", sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=False, server_default=""))
        batch_op.add_column(sa.Column("refunded_minor", sa.Integer(), nullable=False,
                                      server_default="0"))
        batch_op.add_column(sa.Column("removed_bytes", sa.BigInteger(), nullable=False,
                                      server_default="0"))
        batch_op.create_index(batch_op.f("ix_topoffpurchase_attempt_id"), ["attempt_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("topoffpurchase", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_topoffpurchase_attempt_id"))
        batch_op.drop_column("removed_bytes")
        batch_op.drop_column("refunded_minor")
        batch_op.drop_column("attempt_id")
