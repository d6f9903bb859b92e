"""Staff authentication and roles: a password, then a TOTP second factor (or a one-time
recovery code), throttled like customer logins. Staff sessions live in their own table, so a
customer's session token never opens the console.

Roles: administrator (everything) and support (customers and tickets only). Every staff
handler calls `require(session, token, area)`, which raises StaffDenied otherwise.

Errors are raised as StaffAuthError carrying an English msgid that the caller translates.
"""
from __future__ import annotations

import base64
import hashlib
import io
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from sqlalchemy import func
from sqlmodel import Session, select

from rxportal.models import LoginAttempt, utcnow
from rxportal.models.staff import ROLES, StaffSession, StaffUser
from rxportal.services import audit, passwords, secrets_store
from rxportal.services.passwords import PasswordRejected

THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER_AND_ADDRESS = 5
MAX_FAILURES_PER_ADDRESS = 30
MAX_FAILURES_PER_USER = 10  # past this, only a browser that logged in as that user before
MAX_CODE_FAILURES_PER_SESSION = 5
MAX_CODE_FAILURES_PER_USER = 10
PENDING_MINUTES = 10  # time allowed between the password and the second factor
SESSION_IDLE_MINUTES = 30
SESSION_ABSOLUTE_HOURS = 12
RECOVERY_CODES = 10
ISSUER = "rxportal"

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")

LOGIN_FAILED = "The username or password is incorrect."
CODE_FAILED = "This code is not valid. Try again with a new code."
UNREADABLE_SECRET = ("Your authenticator cannot be checked (the server's secret key changed). "
                     "Ask an administrator to reset it.")
TOTP_PURPOSE = "staff-totp"  # the encryption key of TOTP secrets at rest
THROTTLED = "Too many attempts. Please wait a few minutes and try again."

# What each role may open. Support staff see customers and tickets only.
AREAS = {
    "customers": ("administrator", "support"),
    "bulk_invite": ("administrator",),
    "tickets": ("administrator", "support"),
    "settings": ("administrator",),
    "audit": ("administrator",),
    "staff": ("administrator",),
    "billing": ("administrator",),
    "contracts": ("administrator",),
    "usage": ("administrator",),
    "own": ("administrator", "support"),  # one's own password and recovery codes
    "contract_records": ("administrator", "support"),  # read-only signature records
}


class StaffAuthError(Exception):
    def __init__(self, msgid: str, field: str = "", **values):
        super().__init__(msgid)
        self.msgid = msgid
        self.field = field
        self.values = values


class StaffDenied(Exception):
    """No live, verified staff session, or a role that may not do this."""


@dataclass(frozen=True)
class StaffLogin:
    token: str
    needs_enrolment: bool
    device_token: str


@dataclass(frozen=True)
class CurrentStaff:
    staff_id: int
    username: str
    role: str
    session_id: int

    def may(self, area: str) -> bool:
        return self.role in AREAS.get(area, ("administrator",))


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str
    qr_data_uri: str


# --- staff users ------------------------------------------------------------------------------


def normalize_username(username: str) -> str:
    return (username or "").strip().lower()[:254]


def create_staff(session: Session, username: str, role: str = "support",
                 password: str | None = None, actor: CurrentStaff | None = None) -> tuple[StaffUser, str]:
    """A new staff user. Without a password, a random one is made and returned (shown once)."""
    username = normalize_username(username)
    if not USERNAME_RE.match(username):
        raise StaffAuthError(
            "Use 2 to 64 lowercase letters, digits, dots, dashes or underscores.", "username")
    if role not in ROLES:
        raise StaffAuthError("Choose a role: administrator or support.", "role")
    if session.exec(select(StaffUser.id).where(StaffUser.username == username)).first():
        raise StaffAuthError("This username is already taken.", "username")
    if password:
        try:
            passwords.check_rules(password, username, passwords.rules(session))
        except PasswordRejected as rejected:
            raise StaffAuthError(rejected.msgid, "password", **rejected.values) from None
    else:  # a random one, shown once; its owner changes it on their password page
        password = passwords.temporary_password()
    user = StaffUser(username=username, role=role, password_hash=passwords.hash_password(password))
    session.add(user)
    session.flush()
    audit.record(session, "staff_created", actor_type="staff" if actor else "system",
                 actor_id=actor.staff_id if actor else None,
                 actor_name=actor.username if actor else "cli", target=f"staff:{user.id}",
                 username=username, role=role)
    return user, password


def list_staff(session: Session) -> list[StaffUser]:
    return list(session.exec(select(StaffUser).order_by(StaffUser.username)))


def set_disabled(session: Session, actor: CurrentStaff, staff_id: int, disabled: bool) -> None:
    user = session.get(StaffUser, staff_id)
    if user is None:
        raise LookupError("staff user not found")
    if user.id == actor.staff_id and disabled:
        raise StaffAuthError("You cannot disable your own login.")
    before = user.disabled
    user.disabled = disabled
    session.add(user)
    if disabled:
        _end_sessions(session, user.id)
    audit.record(session, "staff_disabled" if disabled else "staff_enabled", actor_type="staff",
                 actor_id=actor.staff_id, actor_name=actor.username, target=f"staff:{user.id}",
                 before=before, after=disabled)


def reset_second_factor(session: Session, actor: CurrentStaff, staff_id: int) -> None:
    """An administrator clears a colleague's lost authenticator: enrolment at next login."""
    user = session.get(StaffUser, staff_id)
    if user is None:
        raise LookupError("staff user not found")
    user.totp_secret = user.totp_pending_secret = ""
    user.recovery_codes = []
    session.add(user)
    _end_sessions(session, user.id)
    audit.record(session, "staff_2fa_reset", actor_type="staff", actor_id=actor.staff_id,
                 actor_name=actor.username, target=f"staff:{user.id}")


def change_password(session: Session, current: CurrentStaff, old: str, new: str,
                    confirm: str) -> None:
    user = session.get(StaffUser, current.staff_id)
    if not old:
        raise StaffAuthError("Enter your current password.", "current_password")
    if not passwords.verify_password(old, user.password_hash):
        raise StaffAuthError("The current password is incorrect.", "current_password")
    if not new:
        raise StaffAuthError("Enter a new password.", "new_password")
    if new != confirm:
        raise StaffAuthError("The two new passwords do not match.", "confirm_password")
    try:
        passwords.check_rules(new, user.username, passwords.rules(session))
    except PasswordRejected as rejected:
        raise StaffAuthError(rejected.msgid, "new_password", **rejected.values) from None
    user.password_hash = passwords.hash_password(new)
    session.add(user)
    _end_sessions(session, user.id, keep=current.session_id)
    audit.record(session, "staff_password_changed", actor_type="staff", actor_id=user.id,
                 actor_name=user.username, target=f"staff:{user.id}")


# --- throttling -------------------------------------------------------------------------------


def _recent(session: Session, kind: str, **where) -> int:
    query = select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.kind == kind, LoginAttempt.at >= utcnow() - THROTTLE_WINDOW)
    for column, value in where.items():
        query = query.where(getattr(LoginAttempt, column) == value)
    return int(session.exec(query).one())


def _note(session: Session, kind: str, username: str, ip: str) -> None:
    session.add(LoginAttempt(kind=kind, username=username[:254], ip=(ip or "")[:64]))


def device_token_for(staff_id: int) -> str:
    nonce = secrets.token_hex(8)
    return f"{staff_id}.{nonce}.{secrets_store.sign(f'staffdevice:{staff_id}:{nonce}')}"


def _is_known_device(device_token: str, staff_id: int | None) -> bool:
    try:
        token_user, nonce, signature = (device_token or "").split(".")
    except ValueError:
        return False
    return (staff_id is not None and token_user == str(staff_id)
            and secrets_store.verify(f"staffdevice:{token_user}:{nonce}", signature))


def _throttled(session: Session, username: str, ip: str, known: bool) -> bool:
    if _recent(session, "staff", username=username, ip=ip) >= MAX_FAILURES_PER_USER_AND_ADDRESS:
        return True
    if _recent(session, "staff", ip=ip) >= MAX_FAILURES_PER_ADDRESS:
        return True
    return not known and _recent(session, "staff", username=username) >= MAX_FAILURES_PER_USER


# --- login, second factor, sessions -----------------------------------------------------------


def login(session: Session, username: str, password: str, ip: str = "", user_agent: str = "",
          device_token: str = "") -> StaffLogin:
    """Check the password; returns a pending session that only opens the second-factor step."""
    username = normalize_username(username)
    password = password or ""
    if not username or not password:
        raise StaffAuthError("Enter your username and password.")
    user = session.exec(select(StaffUser).where(StaffUser.username == username)).first()
    known = _is_known_device(device_token, user.id if user else None)
    if _throttled(session, username, ip, known):
        raise StaffAuthError(THROTTLED)
    if user is None:
        passwords.verify_password(password, passwords.dummy_hash())
        _note(session, "staff", username, ip)
        raise StaffAuthError(LOGIN_FAILED)
    if not passwords.verify_password(password, user.password_hash) or user.disabled:
        _note(session, "staff", username, ip)
        raise StaffAuthError(LOGIN_FAILED)
    token = passwords.new_token()
    session.add(StaffSession(staff_id=user.id, token_hash=passwords.token_digest(token),
                             verified=False, ip=(ip or "")[:64],
                             user_agent=(user_agent or "")[:300],
                             expires_at=utcnow() + timedelta(minutes=PENDING_MINUTES)))
    return StaffLogin(token=token, needs_enrolment=not user.totp_secret,
                      device_token=device_token_for(user.id))


def _session_row(session: Session, token: str) -> StaffSession | None:
    if not token or len(token) > 200:
        return None
    row = session.exec(
        select(StaffSession).where(StaffSession.token_hash == passwords.token_digest(token))
    ).first()
    if row is None or row.ended_at is not None or row.expires_at <= utcnow():
        return None
    return row


def _pending(session: Session, token: str) -> tuple[StaffSession, StaffUser]:
    row = _session_row(session, token)
    if row is None or row.verified:
        raise StaffAuthError("Your login has expired. Please log in again.")
    user = session.get(StaffUser, row.staff_id)
    if user is None or user.disabled:
        raise StaffAuthError("Your login has expired. Please log in again.")
    return row, user


def pending_needs_enrolment(session: Session, token: str) -> bool | None:
    """For a pending login: True when the user must enrol an authenticator, False when they
    must enter a code, None when there is no pending login."""
    try:
        _, user = _pending(session, token)
    except StaffAuthError:
        return None
    return not user.totp_secret


def qr_data_uri(text: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def seal_totp_secret(secret: str) -> str:
    """How a TOTP secret is stored: encrypted with a key derived from the secret key."""
    return secrets_store.encrypt(secret, TOTP_PURPOSE)


def open_totp_secret(stored: str) -> str:
    """The TOTP secret of a stored value; StaffAuthError when it cannot be decrypted."""
    try:
        return secrets_store.decrypt(stored, TOTP_PURPOSE)
    except secrets_store.Undecryptable:
        raise StaffAuthError(UNREADABLE_SECRET) from None


def start_enrolment(session: Session, token: str) -> Enrolment:
    """A new secret for the authenticator app, as a QR code and as text to type."""
    _, user = _pending(session, token)
    if user.totp_secret:
        raise StaffAuthError("An authenticator is already set up for this login.")
    try:
        secret = secrets_store.decrypt(user.totp_pending_secret, TOTP_PURPOSE)
    except secrets_store.Undecryptable:
        secret = ""  # a pending secret sealed under an old key: start afresh
    if not secret:
        secret = pyotp.random_base32()
        user.totp_pending_secret = seal_totp_secret(secret)
        session.add(user)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    return Enrolment(secret=secret, uri=uri, qr_data_uri=qr_data_uri(uri))


def _clean_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()[:32]


def _totp_counter(secret: str, code: str, last_counter: int) -> int | None:
    """The time step the code belongs to (current one, or one either side), if valid and new."""
    if not re.fullmatch(r"[0-9]{6}", code):  # \d would take '١٢٣٤٥٦', which compare_digest refuses
        return None
    totp = pyotp.TOTP(secret)
    now = utcnow()
    for offset in (0, -1, 1):
        at = now + timedelta(seconds=30 * offset)
        if secrets.compare_digest(totp.at(at), code):
            counter = totp.timecode(at)
            return counter if counter > last_counter else None
    return None


def _code_failure(session: Session, row: StaffSession, user: StaffUser, ip: str) -> None:
    _note(session, "staff_2fa", user.username, ip)
    _note(session, f"staff_2fa:{row.id}", user.username, ip)
    session.flush()
    if _recent(session, f"staff_2fa:{row.id}") >= MAX_CODE_FAILURES_PER_SESSION:
        row.ended_at = utcnow()  # start over with the password
        session.add(row)


def _code_throttled(session: Session, row: StaffSession, user: StaffUser) -> bool:
    return (_recent(session, f"staff_2fa:{row.id}") >= MAX_CODE_FAILURES_PER_SESSION
            or _recent(session, "staff_2fa", username=user.username) >= MAX_CODE_FAILURES_PER_USER)


def _new_recovery_codes(user: StaffUser) -> list[str]:
    codes = ["-".join(secrets.token_hex(3) for _ in range(3)) for _ in range(RECOVERY_CODES)]
    user.recovery_codes = [_code_hash(_clean_code(c)) for c in codes]
    return codes


def _code_hash(code: str) -> str:
    return hashlib.sha256(f"staff-recovery:{code}".encode()).hexdigest()


def _verify(session: Session, row: StaffSession, user: StaffUser, ip: str) -> None:
    row.verified = True
    now = utcnow()
    row.last_seen_at = now
    row.expires_at = now + timedelta(hours=SESSION_ABSOLUTE_HOURS)
    user.last_login_at = now
    session.add_all([row, user])
    audit.record(session, "staff_login", actor_type="staff", actor_id=user.id,
                 actor_name=user.username, target=f"staff:{user.id}", ip=ip)


def confirm_enrolment(session: Session, token: str, code: str, ip: str = "") -> list[str]:
    """Check a first code from the new authenticator; returns the recovery codes (shown once)
    and completes the login."""
    row, user = _pending(session, token)
    if user.totp_secret or not user.totp_pending_secret:
        raise StaffAuthError("Start the authenticator set-up again.")
    if _code_throttled(session, row, user):
        raise StaffAuthError(THROTTLED)
    code = _clean_code(code)
    if not code:
        raise StaffAuthError("Enter the 6-digit code from your authenticator app.", "code")
    counter = _totp_counter(open_totp_secret(user.totp_pending_secret), code, 0)
    if counter is None:
        _code_failure(session, row, user, ip)
        raise StaffAuthError(CODE_FAILED, "code")
    user.totp_secret, user.totp_pending_secret = user.totp_pending_secret, ""
    user.totp_last_counter = counter
    codes = _new_recovery_codes(user)
    audit.record(session, "staff_2fa_enrolled", actor_type="staff", actor_id=user.id,
                 actor_name=user.username, target=f"staff:{user.id}", ip=ip)
    _verify(session, row, user, ip)
    return codes


def verify_code(session: Session, token: str, code: str, ip: str = "") -> None:
    """The second step of a login: a TOTP code, or one of the recovery codes (used up)."""
    row, user = _pending(session, token)
    if not user.totp_secret:
        raise StaffAuthError("Set up your authenticator app first.")
    if _code_throttled(session, row, user):
        raise StaffAuthError(THROTTLED)
    code = _clean_code(code)
    if not code:
        raise StaffAuthError("Enter the 6-digit code from your authenticator app.", "code")
    try:  # recovery codes still work when the secret is sealed under an old key
        secret, unreadable = open_totp_secret(user.totp_secret), False
    except StaffAuthError:
        secret, unreadable = "", True
    counter = _totp_counter(secret, code, user.totp_last_counter) if secret else None
    if counter is not None:
        user.totp_last_counter = counter
    else:
        digest = _code_hash(code)
        remaining = [h for h in user.recovery_codes if not secrets.compare_digest(h, digest)]
        if len(remaining) == len(user.recovery_codes):
            _code_failure(session, row, user, ip)
            raise StaffAuthError(UNREADABLE_SECRET if unreadable else CODE_FAILED, "code")
        user.recovery_codes = remaining
        audit.record(session, "staff_recovery_code_used", actor_type="staff", actor_id=user.id,
                     actor_name=user.username, target=f"staff:{user.id}", ip=ip,
                     remaining=len(remaining))
    _verify(session, row, user, ip)


def regenerate_recovery_codes(session: Session, current: CurrentStaff) -> list[str]:
    user = session.get(StaffUser, current.staff_id)
    codes = _new_recovery_codes(user)
    session.add(user)
    audit.record(session, "staff_recovery_codes_renewed", actor_type="staff", actor_id=user.id,
                 actor_name=user.username, target=f"staff:{user.id}")
    return codes


def current_staff(session: Session, token: str) -> CurrentStaff | None:
    """The staff user of a live, verified session, or None."""
    row = _session_row(session, token)
    if row is None or not row.verified:
        return None
    now = utcnow()
    if row.last_seen_at + timedelta(minutes=SESSION_IDLE_MINUTES) <= now:
        return None
    user = session.get(StaffUser, row.staff_id)
    if user is None or user.disabled or not user.totp_secret:
        return None
    if now - row.last_seen_at > timedelta(minutes=1):
        row.last_seen_at = now
        session.add(row)
    return CurrentStaff(staff_id=user.id, username=user.username, role=user.role,
                        session_id=row.id)


def require(session: Session, token: str, area: str) -> CurrentStaff:
    """The current staff user if they may use `area`; raises StaffDenied otherwise."""
    current = current_staff(session, token)
    if current is None or not current.may(area):
        raise StaffDenied(area)
    return current


def logout(session: Session, token: str) -> None:
    row = _session_row(session, token)
    if row is not None:
        row.ended_at = utcnow()
        session.add(row)


def _end_sessions(session: Session, staff_id: int, keep: int | None = None) -> None:
    for row in session.exec(select(StaffSession).where(
            StaffSession.staff_id == staff_id, StaffSession.ended_at.is_(None))):
        if row.id != keep:
            row.ended_at = utcnow()
            session.add(row)


def actor_fields(current: CurrentStaff, ip: str = "") -> dict:
    """Keyword arguments for audit.record naming this staff user."""
    return {"actor_type": "staff", "actor_id": current.staff_id, "actor_name": current.username,
            "ip": ip}
