"""Has anything an account's pages show changed? Database triggers (migration 0012) raise the
account's stamp on every write to its data, and the shared stamp (account 0) on every write to
what all accounts' pages show (settings, plans, products, contract templates). Both only grow,
so their sum changes whenever either does: a page that remembers the sum it was loaded at need
not read its data again while the sum is the same (state/session.py, `SessionState._unchanged`)."""
from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlmodel import Session

from rxportal.models import AccountStamp

SHARED = 0

_VERSION = (select(func.coalesce(func.sum(AccountStamp.version), 0))
            .where(AccountStamp.account_id.in_(bindparam("accounts", expanding=True))))


def version(session: Session, account_id: int) -> int:
    """The account's data version: it changes on every write to anything its pages show."""
    return int(session.execute(_VERSION, {"accounts": [SHARED, account_id]}).scalar_one())
