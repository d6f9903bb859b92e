"""`t()`: a visible string in the visitor's language, chosen in the browser.

Each string is built from the catalogs when the app compiles, as a switch on the language var:
a language change costs one small state update, and an msgid with no translation fails the build.
"""
from __future__ import annotations

import reflex as rx

from rxportal.services import i18n
from rxportal.state.session import SessionState


class MissingTranslation(KeyError):
    pass


def translations(msgid: str) -> dict[str, str]:
    """The msgid in every language (English is the msgid itself)."""
    texts = {i18n.SOURCE_LANGUAGE: msgid}
    for lang in i18n.languages():
        if lang == i18n.SOURCE_LANGUAGE:
            continue
        catalog = i18n.catalog(lang)
        if msgid not in catalog:
            raise MissingTranslation(f"no {lang} translation for {msgid!r}")
        texts[lang] = catalog[msgid]
    return texts


def t(msgid: str, strict: bool = True, **values) -> rx.Var:
    """The translated text; {placeholders} may be filled with plain values or state vars.
    With strict=False a missing translation shows the English text instead of failing."""
    try:
        found = translations(msgid)
    except MissingTranslation:
        if strict:
            raise
        found = {lang: msgid for lang in i18n.languages()}
    texts = {lang: text.format(**values) if values else text for lang, text in found.items()}
    others = [(lang, text) for lang, text in texts.items() if lang != i18n.SOURCE_LANGUAGE]
    if len(others) == 1:
        lang, text = others[0]
        return rx.cond(SessionState.ui_lang == lang, text, texts[i18n.SOURCE_LANGUAGE])
    return rx.match(SessionState.ui_lang, *others, texts[i18n.SOURCE_LANGUAGE])
