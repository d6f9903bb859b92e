"""Languages: message catalogs (gettext .po files) and Babel formatting of money, dates, numbers.

Every visible string is an English msgid translated through the catalogs in
rxportal/locales/<lang>/*.po (one .po file per feature, all merged). English needs no catalog.
Adding a language is adding a folder of .po files and a name in LANGUAGE_NAMES.
"""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, get_currency_precision

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
SOURCE_LANGUAGE = "en"
# Each language's own name, shown in the language selector.
LANGUAGE_NAMES = {"en": "English", "fr": "Français"}


def N_(msgid: str) -> str:
    """Mark a message for translation where it is defined; it is translated where shown."""
    return msgid


def languages() -> list[str]:
    return [SOURCE_LANGUAGE] + sorted(
        p.name for p in LOCALES_DIR.iterdir() if p.is_dir() and p.name in LANGUAGE_NAMES
    )


def normalize_language(lang: str | None, default: str = SOURCE_LANGUAGE) -> str:
    lang = (lang or "").strip().lower()[:8]
    return lang if lang in LANGUAGE_NAMES else default


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    """msgid -> translation for one language, merged from all its .po files."""
    messages: dict[str, str] = {}
    folder = LOCALES_DIR / lang
    if not folder.is_dir():
        return messages
    for po_file in sorted(folder.glob("*.po")):
        with po_file.open("rb") as handle:
            for message in read_po(handle, locale=lang):
                if message.id and message.string and not message.fuzzy:
                    messages[str(message.id)] = str(message.string)
    return messages


def translate(lang: str, msgid: str, **values) -> str:
    """The text of msgid in lang (English when missing), with {placeholders} filled in."""
    text = msgid if lang == SOURCE_LANGUAGE else catalog(lang).get(msgid, msgid)
    return text.format(**values) if values else text


def locale_for(lang: str, country: str = "") -> str:
    """A Babel locale such as fr_CA from a language and the ISP's country."""
    return str(_locale(lang, country))


@lru_cache(maxsize=256)
def _locale(lang: str, country: str = "") -> Locale:
    """The parsed Babel locale: Babel parses a locale name anew on every call given a string,
    which was a fifth of a billing page's load."""
    if country:
        try:
            return Locale.parse(f"{lang}_{country.upper()}")
        except (UnknownLocaleError, ValueError):
            pass
    return Locale.parse(lang)


def minor_to_decimal_str(amount_minor: int, currency: str) -> str:
    """Exact decimal text of a minor-unit amount (no floats): 1234 USD -> '12.34'."""
    digits = get_currency_precision(currency)
    sign = "-" if amount_minor < 0 else ""
    units, cents = divmod(abs(int(amount_minor)), 10**digits)
    return f"{sign}{units}.{cents:0{digits}d}" if digits else f"{sign}{units}"


# The formatters are pure functions of their arguments, and a page shows the same few amounts
# and days on every load: their texts are kept.
@lru_cache(maxsize=4096)
def format_money(amount_minor: int, currency: str, lang: str, country: str = "") -> str:
    from decimal import Decimal

    return format_currency(
        Decimal(minor_to_decimal_str(amount_minor, currency)), currency,
        locale=_locale(lang, country),
    )


@lru_cache(maxsize=4096)
def format_day(value: date | datetime | None, lang: str, country: str = "", tz: str = "") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime) and tz:
        value = value.astimezone(ZoneInfo(tz))
    day = value.date() if isinstance(value, datetime) else value
    return _babel_date(day, format="medium", locale=_locale(lang, country))


def format_moment(value: datetime | None, lang: str, country: str = "", tz: str = "UTC") -> str:
    if value is None:
        return ""
    return _babel_datetime(value, format="medium", tzinfo=ZoneInfo(tz or "UTC"),
                           locale=_locale(lang, country))


def format_number(value, lang: str, country: str = "") -> str:
    return format_decimal(value, locale=_locale(lang, country))
