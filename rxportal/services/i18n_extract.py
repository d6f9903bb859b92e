"""Finding every translatable string in the code (Babel's extractor), for the catalog check
(tests) and for `python -m rxportal.services.i18n_extract` (prints what lacks a translation,
as .po entries to fill in)."""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir

from rxportal.services import i18n

PACKAGE_DIR = Path(__file__).resolve().parent.parent
# t("..."), self._("..."), N_("...") and translate(lang, "...").
KEYWORDS = {"t": None, "_": None, "N_": None, "translate": (2,)}


def used_msgids() -> dict[str, str]:
    """msgid -> 'file:line' of its first use."""
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE_DIR), method_map=[("**.py", "python")], keywords=KEYWORDS,
        comment_tags=(), strip_comment_tags=True,
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def missing(lang: str) -> dict[str, str]:
    catalog = i18n.catalog(lang)
    return {m: where for m, where in used_msgids().items() if m not in catalog}


def _po_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


if __name__ == "__main__":
    language = sys.argv[1] if len(sys.argv) > 1 else "fr"
    for msgid, where in missing(language).items():
        print(f"#: {where}\nmsgid \"{_po_escape(msgid)}\"\nmsgstr \"\"\n")
