"""Customer authentication: logins with throttling, sessions, temporary passwords, password
reset and change, forgotten usernames and first-time registration.

Errors are raised as AuthError carrying an English msgid that the caller translates.
"""
from __future__ import annotations

from rxportal.services.i18n import N_

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from rxportal import config
from rxportal.models import Account, AuthToken, LoginAttempt, PortalUser, UserSession, utcnow
from rxportal.services import audit, mail, passwords, secrets_store
from rxportal.services import settings as isp_settings
from rxportal.services.passwords import PasswordRejected

THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER_AND_ADDRESS = 5
MAX_FAILURES_PER_ADDRESS = 30
# Past this many failures for one username from anywhere, only browsers that logged in as
# that user before (a signed "known device" token) may keep trying: an attacker spreading
# guesses over many addresses is stopped without locking the real user out.
MAX_FAILURES_PER_USER = 10
MAX_LOOKUPS_PER_ADDRESS = 10  # registration and recovery requests
MAX_LOOKUPS_PER_EMAIL = 3
MAX_INPUT = 254

LOGIN_FAILED = N_("The username or password is incorrect.")
THROTTLED = N_("Too many attempts. Please wait a few minutes and try again.")


class AuthError(Exception):
    def __init__(self, msgid: str, field: str = "", **values):
        super().__init__(msgid)
        self.msgid = msgid
        self.field = field
        self.values = values


@dataclass(frozen=True)
class LoginResult:
    token: str
    user_id: int
    account_id: int
    must_change_password: bool
    language: str
    device_token: str


@dataclass(frozen=True)
class CurrentUser:
    user_id: int
    account_id: int
    username: str
    must_change_password: bool
    language: str
    session_id: int


# --- throttling -------------------------------------------------------------------------


def _recent(session: Session, kind: str, **where) -> int:
    query = select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.kind == kind, LoginAttempt.at >= utcnow() - THROTTLE_WINDOW
    )
    for column, value in where.items():
        query = query.where(getattr(LoginAttempt, column) == value)
    return int(session.exec(query).one())


def _note_attempt(session: Session, kind: str, username: str, ip: str) -> None:
    session.add(LoginAttempt(kind=kind, username=username[:254], ip=ip[:64]))


def device_token_for(user_id: int) -> str:
    nonce = secrets.token_hex(8)
    return f"{user_id}.{nonce}.{secrets_store.sign(f'device:{user_id}:{nonce}')}"


def _is_known_device(device_token: str, user_id: int | None) -> bool:
    try:
        token_user, nonce, signature = (device_token or "").split(".")
    except ValueError:
        return False
    return (user_id is not None and token_user == str(user_id)
            and secrets_store.verify(f"device:{token_user}:{nonce}", signature))


def _login_throttled(session: Session, username: str, ip: str, known_device: bool) -> bool:
    """A browser that logged in as this user before is only held to the per-address limit,
    so guesses from elsewhere (or from the same network) cannot lock its owner out."""
    if _recent(session, "login", ip=ip) >= MAX_FAILURES_PER_ADDRESS:
        return True
    if known_device:
        return False
    if _recent(session, "login", username=username, ip=ip) >= MAX_FAILURES_PER_USER_AND_ADDRESS:
        return True
    return _recent(session, "login", username=username) >= MAX_FAILURES_PER_USER


def _lookup_throttled(session: Session, kind: str, email: str, ip: str) -> bool:
    return (_recent(session, kind, ip=ip) >= MAX_LOOKUPS_PER_ADDRESS
            or _recent(session, kind, username=email) >= MAX_LOOKUPS_PER_EMAIL)


# --- login and sessions --------------------------------------------------------------------


def normalize_username(username: str) -> str:
    return (username or "").strip().lower()[:MAX_INPUT]


def login(session: Session, username: str, password: str, ip: str = "", user_agent: str = "",
          device_token: str = "") -> LoginResult:
    username = normalize_username(username)
    password = password or ""
    if not username or not password:
        raise AuthError(N_("Enter your username and password."))
    user = session.exec(select(PortalUser).where(PortalUser.username == username)).first()
    known = _is_known_device(device_token, user.id if user else None)
    if _login_throttled(session, username, ip, known):
        raise AuthError(THROTTLED)
    if user is None:
        passwords.verify_password(password, passwords.dummy_hash())  # same time as a real check
        _note_attempt(session, "login", username, ip)
        raise AuthError(LOGIN_FAILED)
    account = session.get(Account, user.account_id)
    if not passwords.verify_password(password, user.password_hash) or user.disabled or (
        account is None or account.status == "closed"
    ):
        _note_attempt(session, "login", username, ip)
        raise AuthError(LOGIN_FAILED)
    if user.must_change_password and user.temporary_password_expires_at and (
        user.temporary_password_expires_at < utcnow()
    ):
        raise AuthError(N_("Your temporary password has expired. Use “Forgot password” to get a new one."))
    user.last_login_at = utcnow()
    session.add(user)
    token = _start_session(session, user, ip, user_agent)
    audit.record(session, "login", actor_type="customer", actor_id=user.id,
                 actor_name=user.username, target=f"account:{user.account_id}", ip=ip)
    return LoginResult(token=token, user_id=user.id, account_id=user.account_id,
                       must_change_password=user.must_change_password,
                       language=user.language, device_token=device_token_for(user.id))


def _start_session(session: Session, user: PortalUser, ip: str, user_agent: str) -> str:
    token = passwords.new_token()
    cfg = config.get()
    session.add(UserSession(
        user_id=user.id, token_hash=passwords.token_digest(token), ip=ip[:64],
        user_agent=(user_agent or "")[:300],
        expires_at=utcnow() + timedelta(hours=cfg.session_absolute_hours),
    ))
    return token


def current_user(session: Session, token: str) -> CurrentUser | None:
    """The user of a live session, or None (unknown, ended, idle too long or expired)."""
    if not token or len(token) > 200:
        return None
    # The session and its user in one round trip: every event of every page asks this.
    found = session.exec(
        select(UserSession, PortalUser).join(PortalUser, PortalUser.id == UserSession.user_id)
        .where(UserSession.token_hash == passwords.token_digest(token))
    ).first()
    if found is None:
        return None
    row, user = found
    now = utcnow()
    if row.ended_at is not None or row.expires_at <= now:
        return None
    if row.last_seen_at + timedelta(minutes=config.get().session_idle_minutes) <= now:
        return None
    if user.disabled:
        return None
    if now - row.last_seen_at > timedelta(minutes=1):
        row.last_seen_at = now
        session.add(row)
    return CurrentUser(user_id=user.id, account_id=user.account_id, username=user.username,
                       must_change_password=user.must_change_password,
                       language=user.language, session_id=row.id)


# A page of this site with its query: letters, digits and the few signs its addresses use.
_RETURN_ADDRESS = re.compile(r"/[A-Za-z0-9/_-]*(\?[A-Za-z0-9=&_.%-]*)?")


def return_address(requested: str, pages: tuple[str, ...], default: str) -> str:
    """Where to go after logging in: the customer page that was asked for (as `next=` on the
    login page), else `default`. Only one of `pages` (and what is under it) is accepted, never
    another site's address, so the login page cannot be used to send someone elsewhere."""
    requested = str(requested or "")
    if len(requested) > 300 or not _RETURN_ADDRESS.fullmatch(requested):
        return default
    path = requested.split("?", 1)[0].rstrip("/")
    if any(path == page or path.startswith(page + "/") for page in pages):
        return requested
    return default


def logout(session: Session, token: str) -> None:
    row = session.exec(
        select(UserSession).where(UserSession.token_hash == passwords.token_digest(token or ""))
    ).first()
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        session.add(row)


def end_other_sessions(session: Session, user_id: int, keep_session_id: int | None) -> int:
    rows = session.exec(
        select(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    ).all()
    ended = 0
    for row in rows:
        if row.id != keep_session_id:
            row.ended_at = utcnow()
            session.add(row)
            ended += 1
    return ended


# --- passwords -------------------------------------------------------------------------------


def _check_new_password(session: Session, new: str, confirm: str, username: str) -> None:
    if not new:
        raise AuthError(N_("Enter a new password."), "new_password")
    if new != confirm:
        raise AuthError(N_("The two new passwords do not match."), "confirm_password")
    try:
        passwords.check_rules(new, username, passwords.rules(session))
    except PasswordRejected as rejected:
        raise AuthError(rejected.msgid, "new_password", **rejected.values) from None


def _set_password(session: Session, user: PortalUser, new: str) -> None:
    user.password_hash = passwords.hash_password(new)
    user.must_change_password = False
    user.temporary_password_expires_at = None
    session.add(user)


def _account_email_and_language(session: Session, user: PortalUser) -> tuple[str, str]:
    account = session.get(Account, user.account_id)
    default = isp_settings.get(session, "default_language")
    return (account.email if account else ""), (user.language or (account.language if account else "") or default)


def change_password(session: Session, current: CurrentUser, old: str, new: str, confirm: str,
                    ip: str = "") -> None:
    user = session.get(PortalUser, current.user_id)
    if not old:
        raise AuthError(N_("Enter your current password."), "current_password")
    if not passwords.verify_password(old, user.password_hash):
        raise AuthError(N_("The current password is incorrect."), "current_password")
    _check_new_password(session, new, confirm, user.username)
    _set_password(session, user, new)
    end_other_sessions(session, user.id, current.session_id)
    _notify_password_changed(session, user, ip)


def set_first_password(session: Session, current: CurrentUser, new: str, confirm: str,
                       ip: str = "") -> None:
    """After logging in with a temporary password: the customer picks their own."""
    user = session.get(PortalUser, current.user_id)
    if not user.must_change_password:
        raise AuthError(N_("Your password was already changed."))
    _check_new_password(session, new, confirm, user.username)
    _set_password(session, user, new)
    end_other_sessions(session, user.id, current.session_id)
    audit.record(session, "password_set", actor_type="customer", actor_id=user.id,
                 actor_name=user.username, ip=ip)


def _notify_password_changed(session: Session, user: PortalUser, ip: str) -> None:
    email, lang = _account_email_and_language(session, user)
    if email:
        mail.queue(session, email, "password_changed", lang, username=user.username)
    audit.record(session, "password_changed", actor_type="customer", actor_id=user.id,
                 actor_name=user.username, ip=ip)


# --- recovery and registration ----------------------------------------------------------------

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")


def normalize_email(email: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    email = (email or "").strip()
    if not email:
        raise AuthError(N_("Enter your e-mail address."), "email")
    if len(email) > MAX_INPUT:
        raise AuthError(N_("This e-mail address is too long."), "email")
    try:
        return validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise AuthError(N_("Enter a valid e-mail address, like name@example.com."), "email") from None


def _users_for_email(session: Session, email: str) -> list[tuple[PortalUser, Account]]:
    return list(session.exec(
        select(PortalUser, Account).join(Account, Account.id == PortalUser.account_id)
        .where(func.lower(Account.email) == email, PortalUser.disabled.is_(False))
    ).all())


def _new_link_token(session: Session, user_id: int, purpose: str, minutes: int,
                    payload: str = "") -> str:
    token = passwords.new_token()
    session.add(AuthToken(user_id=user_id, purpose=purpose,
                          token_hash=passwords.token_digest(token), payload=payload,
                          expires_at=utcnow() + timedelta(minutes=minutes)))
    return token


def request_password_reset(session: Session, email: str, ip: str = "") -> None:
    """E-mail a reset link to each login of that address; the answer never says if it exists."""
    email = normalize_email(email)
    if _lookup_throttled(session, "recover", email, ip):
        raise AuthError(THROTTLED)
    _note_attempt(session, "recover", email, ip)
    minutes = int(isp_settings.get(session, "reset_token_minutes"))
    for user, account in _users_for_email(session, email):
        token = _new_link_token(session, user.id, "reset", minutes)
        link = f"{mail.public_url(session)}/reset/{token}"
        mail.queue(session, account.email, "password_reset",
                   user.language or account.language, username=user.username, link=link,
                   minutes=minutes)


def request_username_reminder(session: Session, email: str, ip: str = "") -> None:
    email = normalize_email(email)
    if _lookup_throttled(session, "recover", email, ip):
        raise AuthError(THROTTLED)
    _note_attempt(session, "recover", email, ip)
    found = _users_for_email(session, email)
    if found:
        usernames = "\n".join(f"  • {user.username}" for user, _ in found)
        account = found[0][1]
        mail.queue(session, account.email, "username_reminder",
                   found[0][0].language or account.language, usernames=usernames)


def _valid_token(session: Session, token: str, purpose: str) -> AuthToken | None:
    if not token or len(token) > 200:
        return None
    row = session.exec(
        select(AuthToken).where(AuthToken.token_hash == passwords.token_digest(token),
                                AuthToken.purpose == purpose)
    ).first()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


def reset_token_is_valid(session: Session, token: str) -> bool:
    return _valid_token(session, token, "reset") is not None


def reset_password(session: Session, token: str, new: str, confirm: str, ip: str = "") -> None:
    row = _valid_token(session, token, "reset")
    if row is None:
        raise AuthError(N_("This link has expired or was already used. Ask for a new one."))
    user = session.get(PortalUser, row.user_id)
    _check_new_password(session, new, confirm, user.username)
    _set_password(session, user, new)
    row.used_at = utcnow()
    session.add(row)
    end_other_sessions(session, user.id, None)
    _notify_password_changed(session, user, ip)


def _username_for(session: Session, account: Account) -> str:
    base = re.sub(r"[^a-z0-9._-]", "", account.email.split("@")[0].lower())[:40] or "customer"
    candidate, n = base, 1
    while session.exec(select(PortalUser.id).where(PortalUser.username == candidate)).first():
        n += 1
        candidate = f"{base}{n}"
    return candidate


def create_login(session: Session, account: Account, username: str | None = None) -> tuple[PortalUser, str]:
    """A new portal login with a temporary password that must be changed at first login."""
    temporary = passwords.temporary_password()
    days = int(isp_settings.get(session, "temporary_password_days"))
    user = PortalUser(account_id=account.id, username=username or _username_for(session, account),
                      password_hash=passwords.hash_password(temporary),
                      must_change_password=True,
                      temporary_password_expires_at=utcnow() + timedelta(days=days))
    session.add(user)
    session.flush()
    return user, temporary


def register(session: Session, email: str, ip: str = "") -> bool:
    """First-time registration. False when no account has that address (the guide tells the
    customer to contact their ISP); on a match, the username and a temporary password are
    e-mailed, or, when the account already has a login, a reminder with a reset link."""
    email = normalize_email(email)
    if _lookup_throttled(session, "register", email, ip):
        raise AuthError(THROTTLED)
    _note_attempt(session, "register", email, ip)
    account = session.exec(
        select(Account).where(func.lower(Account.email) == email, Account.status != "closed")
    ).first()
    if account is None:
        return False
    existing = session.exec(select(PortalUser).where(PortalUser.account_id == account.id)).first()
    lang = account.language or isp_settings.get(session, "default_language")
    if existing is not None:
        minutes = int(isp_settings.get(session, "reset_token_minutes"))
        token = _new_link_token(session, existing.id, "reset", minutes)
        mail.queue(session, account.email, "already_registered", existing.language or lang,
                   username=existing.username, link=f"{mail.public_url(session)}/reset/{token}")
        return True
    user, temporary = create_login(session, account)
    mail.queue(session, account.email, "welcome", lang, username=user.username,
               temporary_password=temporary, name=account.name,
               days=isp_settings.get(session, "temporary_password_days"))
    audit.record(session, "registered", actor_type="customer", actor_id=user.id,
                 actor_name=user.username, target=f"account:{account.id}", ip=ip)
    return True


# --- e-mail change --------------------------------------------------------------------------


def request_email_change(session: Session, current: CurrentUser, new_email: str) -> None:
    new_email = normalize_email(new_email)
    user = session.get(PortalUser, current.user_id)
    account = session.get(Account, current.account_id)
    if new_email == (account.email or "").lower():
        return
    token = _new_link_token(session, user.id, "confirm_email", 24 * 60, payload=new_email)
    mail.queue(session, new_email, "confirm_email", user.language or account.language,
               link=f"{mail.public_url(session)}/confirm-email/{token}", new_email=new_email)


def confirm_email_change(session: Session, token: str) -> str:
    row = _valid_token(session, token, "confirm_email")
    if row is None:
        raise AuthError(N_("This link has expired or was already used. Ask for a new one."))
    user = session.get(PortalUser, row.user_id)
    account = session.get(Account, user.account_id)
    old_email = account.email
    account.email = row.payload
    row.used_at = utcnow()
    session.add_all([account, row])
    if old_email:
        mail.queue(session, old_email, "email_changed", user.language or account.language,
                   new_email=row.payload)
    audit.record(session, "email_changed", actor_type="customer", actor_id=user.id,
                 actor_name=user.username, target=f"account:{account.id}",
                 old=old_email, new=row.payload)
    return row.payload


def set_language(session: Session, user_id: int, lang: str) -> None:
    user = session.get(PortalUser, user_id)
    if user is not None:
        user.language = lang
        session.add(user)
