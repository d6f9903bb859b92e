"""Password hashing (bcrypt) and the password rules: at least 8 characters (the ISP may ask for
more, up to 64), at most 72 bytes (bcrypt's limit: longer is refused, never silently cut), no
composition rules, common passwords refused unless the ISP turns that off.

The ISP's rules are settings read from the database at each check, so a change applies at once
in every worker."""
from __future__ import annotations

from rxportal.services.i18n import N_

import hashlib
import secrets
from dataclasses import dataclass
from functools import lru_cache

import bcrypt
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from rxportal import config
from rxportal.services import settings as isp_settings

MIN_LENGTH = 8  # DESIGN.md: never fewer
MAX_MIN_LENGTH = 64  # 64 characters always fit in bcrypt's 72 bytes when typed in ASCII
MAX_BYTES = 72

isp_settings.register("password_min_length", MIN_LENGTH)
isp_settings.register("password_refuse_common", True)


class PasswordRejected(ValueError):
    """The reason is an English msgid with its {placeholders}, translated by the caller."""

    def __init__(self, msgid: str, **values):
        super().__init__(msgid)
        self.msgid, self.values = msgid, values


@dataclass(frozen=True)
class Rules:
    min_length: int = MIN_LENGTH
    refuse_common: bool = True


RULE_KEYS = ["password_min_length", "password_refuse_common"]


def rules(session, values: dict | None = None) -> Rules:
    """The ISP's password rules, as set in the console (never below DESIGN.md's floor);
    `values` are these settings when the caller read them already."""
    values = values if values is not None else isp_settings.get_many(session, RULE_KEYS)
    length = int(values["password_min_length"] or MIN_LENGTH)
    return Rules(min_length=min(max(length, MIN_LENGTH), MAX_MIN_LENGTH),
                 refuse_common=bool(values["password_refuse_common"]))


def hash_password(password: str) -> str:
    rounds = config.get().bcrypt_rounds
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    if not password_hash or len(password.encode("utf-8")) > MAX_BYTES:
        return False
    try:
        return bcrypt.checkpw(password.encode("utf-8"), password_hash.encode("ascii"))
    except ValueError:
        return False


# A valid hash of a random password, checked when the user does not exist so that a login
# for an unknown user takes as long as one for a known user.
@lru_cache(maxsize=1)
def dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 30,000 most common leaked passwords, as shipped with zxcvbn."""
    return frozenset(FREQUENCY_LISTS["passwords"])


def check_rules(password: str, username: str = "", rules: Rules = Rules()) -> None:
    """Raise PasswordRejected with the reason when the password breaks a rule."""
    if len(password) < rules.min_length:
        raise PasswordRejected(N_("Use at least {count} characters."), count=rules.min_length)
    if len(password.encode("utf-8")) > MAX_BYTES:
        raise PasswordRejected(N_("Use at most 72 bytes (about 64 characters)."))
    lowered = password.lower()
    if username and lowered == username.lower():
        raise PasswordRejected(N_("This password is too common. Choose another one."))
    if rules.refuse_common and lowered in common_passwords():
        raise PasswordRejected(N_("This password is too common. Choose another one."))


def new_token() -> str:
    """A random token of 256 bits, for links and sessions."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Tokens are stored as their SHA-256: a database leak does not leak live tokens."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def temporary_password() -> str:
    """A temporary password of about 128 bits that is still easy to type from an e-mail."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    groups = ["".join(secrets.choice(alphabet) for _ in range(6)) for _ in range(5)]
    return "-".join(groups)
