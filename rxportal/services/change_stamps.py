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


def highest(session: Session) -> int:
    """More than or as much as any account's version now: what a restored database's versions
    must be moved past (see `move_past`)."""
    shared = session.get(AccountStamp, SHARED)
    most = session.execute(select(func.max(AccountStamp.version))
                           .where(AccountStamp.account_id != SHARED)).scalar_one()
    return (shared.version if shared else 0) + int(most or 0)


def move_past(session: Session, floor: int) -> None:
    """After a database was restored from a backup: its versions may be ones that browser tabs
    read other data at before the restore, so every account's version is moved past `floor`
    (the shared stamp, in every account's sum, is raised by it)."""
    shared = session.get(AccountStamp, SHARED) or AccountStamp(account_id=SHARED, version=0)
    shared.version += floor + 1
    session.add(shared)
