"""What the login page shows of the ISP: name, logo and a login message with simple markup;
and the logo upload from the staff console: checked to be a real image by its content (not its
name), re-encoded as a clean PNG and kept in the data folder (which survives upgrades and
redeploys). The setting `logo_path` names the file relative to the data folder; it is served
at /_branding/logo (rxportal/api/branding.py)."""
from __future__ import annotations

import base64
import hashlib
import io
from functools import lru_cache
from pathlib import Path

import nh3
from sqlmodel import Session

from rxportal import config
from rxportal.services import audit
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


# --- logo upload (staff console) ---------------------------------------------------------

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 4096 * 4096
MAX_SIDE = 4096
STORED_MAX_SIZE = (800, 400)  # the stored logo is scaled down to fit
ACCEPTED_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
FOLDER = "branding"


class UploadRefused(ValueError):
    """The English msgid of why an upload was refused."""

    def __init__(self, msgid: str, **values):
        super().__init__(msgid)
        self.msgid = msgid
        self.values = values


def check_image(data: bytes):
    """A decoded Pillow image when `data` is a PNG, JPEG, GIF or WebP of sensible size."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise UploadRefused("Choose an image file to upload.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRefused("This file is too large: the limit is {limit} MB.",
                            limit=MAX_UPLOAD_BYTES // (1024 * 1024))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            width, height = probe.size
            probe.verify()
        if kind not in ACCEPTED_FORMATS:
            raise UploadRefused("This file is not a PNG, JPEG, GIF or WebP image.")
        if width < 1 or height < 1 or width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
            raise UploadRefused("This image is too large: use at most 4096 × 4096 pixels.")
        image = Image.open(io.BytesIO(data))
        image.load()
    except UploadRefused:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise UploadRefused("This file is not a PNG, JPEG, GIF or WebP image.") from None
    return image


def save_logo(session: Session, data: bytes, *, actor_id: int | None, actor_name: str,
              ip: str = "") -> str:
    """Check and store an uploaded logo; returns its path relative to the data folder.
    Nothing is written when the upload is refused."""
    image = check_image(data)
    image = image.convert("RGBA")
    image.thumbnail(STORED_MAX_SIZE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    png = buffer.getvalue()
    relative = f"{FOLDER}/logo-{hashlib.sha256(png).hexdigest()[:16]}.png"
    target = config.get().data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    temporary.write_bytes(png)
    temporary.replace(target)
    before = isp_settings.get(session, "logo_path")
    isp_settings.put(session, "logo_path", relative)
    audit.record(session, "setting_changed", actor_type="staff", actor_id=actor_id,
                 actor_name=actor_name, target="setting:logo_path", ip=ip,
                 setting="logo_path", before=before, after=relative)
    return relative


def remove_logo(session: Session, *, actor_id: int | None, actor_name: str, ip: str = "") -> None:
    before = isp_settings.get(session, "logo_path")
    if not before:
        return
    isp_settings.put(session, "logo_path", "")
    audit.record(session, "setting_changed", actor_type="staff", actor_id=actor_id,
                 actor_name=actor_name, target="setting:logo_path", ip=ip,
                 setting="logo_path", before=before, after="")


def logo_file(session: Session) -> Path | None:
    relative = isp_settings.get(session, "logo_path")
    if not relative:
        return None
    data_dir = config.get().data_dir.resolve()
    path = (data_dir / relative).resolve()
    if data_dir not in path.parents or not path.is_file():
        return None
    return path


@lru_cache(maxsize=8)
def _data_uri(path: str, _mtime: float) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def logo_data_uri(session: Session) -> str:
    """The logo as a data: URI for an <img> (empty when there is none): works in every worker
    without a static file route."""
    path = logo_file(session)
    if path is None:
        return ""
    return _data_uri(str(path), path.stat().st_mtime)
