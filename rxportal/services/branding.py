"""What the login page shows of the ISP: name, logo and a login message with simple markup."""
from __future__ import annotations

import nh3
from sqlmodel import Session

from rxportal.services import settings as isp_settings

ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "br", "p", "a", "ul", "ol", "li", "span"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
DEFAULT_LOGO = "/logo.svg"


def sanitize_markup(markup: str) -> str:
    """Keep simple formatting and links; drop scripts, styles, events and everything else."""
    return nh3.clean(markup or "", tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto", "tel"}, link_rel="noopener noreferrer")


def login_message(session: Session, lang: str) -> str:
    key = "login_message_fr" if lang == "fr" else "login_message"
    return sanitize_markup(isp_settings.get(session, key))


def logo_url(session: Session) -> str:
    """The uploaded logo (served by the staff feature) or the bundled one."""
    path = isp_settings.get(session, "logo_path")
    return f"/_branding/logo?v={abs(hash(path)) % 10**6}" if path else DEFAULT_LOGO
