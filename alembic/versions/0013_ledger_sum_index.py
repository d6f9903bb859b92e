"""ledger sum index: an account's total balance sums its whole ledger

The sum read the account's entries through ix_transaction_account_time_amount, whose entries also
carry the time; (account_id, amount_minor) holds only what the sum needs (SQLite, 20,000 entries:
2.0 → 1.1 ms per page load; bench/bench_history.py).

Revision ID: 0013
Revises: 0012
"""
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_transaction_account_amount", "transaction",
                    ["account_id", "amount_minor"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_transaction_account_amount", table_name="transaction")
