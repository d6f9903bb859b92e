"""The visitor's language, in a state of its own.

Every translated text of every page (`components.i18n.t`) follows `ui_lang`, and the browser
re-renders each component that reads a state whenever anything in that state changes. Kept in
SessionState, every page load (the login's figures), a menu opened or a form made busy re-rendered
all of a page's texts; here they are rendered again only when the language changes
(bench/README.md, "Seventh pass"). SessionState inherits from it, so its handlers read and set
these vars as their own.
"""
from __future__ import annotations

import reflex as rx

from rxportal.services import i18n


class LanguageState(rx.State):
    # The language the visitor chose ("" = the ISP's default), kept in this browser.
    lang: str = rx.LocalStorage("", name="rxportal_lang", sync=True)
    default_lang: str = "en"

    @rx.var
    def ui_lang(self) -> str:
        return i18n.normalize_language(self.lang or self.default_lang)
