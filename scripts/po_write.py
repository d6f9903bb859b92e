"""Write a dict of msgid -> translation into a .po file (merging with what it has), with Babel.

Usage: python scripts/po_write.py rxportal/locales/fr/core.po fr path/to/dict.py
(the .py file defines a dict named FR)."""
import runpy
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

target, lang, source = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
catalog = Catalog(locale=lang, fuzzy=False)
if target.exists():
    with target.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
for msgid, text in runpy.run_path(source)["FR"].items():
    catalog.add(msgid, text)
catalog.fuzzy = False
target.parent.mkdir(parents=True, exist_ok=True)
with target.open("wb") as handle:
    write_po(handle, catalog, width=100, sort_output=True, omit_header=False)
print(f"{target}: {len(catalog)} messages")
