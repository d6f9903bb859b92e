"""Every visible string has a French translation, and translations keep their placeholders."""
import re

from rxportal.services import i18n, i18n_extract


def test_every_message_in_the_code_has_a_french_translation():
    missing = i18n_extract.missing("fr")
    assert missing == {}, "run `python -m rxportal.services.i18n_extract fr` and translate: " + \
        ", ".join(f"{m!r} ({w})" for m, w in list(missing.items())[:20])


def test_translations_keep_the_same_placeholders():
    placeholder = re.compile(r"\{(\w*)\}")
    for msgid, text in i18n.catalog("fr").items():
        assert sorted(placeholder.findall(msgid)) == sorted(placeholder.findall(text)), msgid


def test_every_mail_template_exists_in_every_language_with_the_same_placeholders():
    from rxportal.services.mail import TEMPLATES_DIR

    dollar = re.compile(r"\$\{?(\w+)")
    english = {p.name: p for p in (TEMPLATES_DIR / "en").glob("*.txt")}
    assert english
    for lang in i18n.languages():
        for name, path in english.items():
            other = TEMPLATES_DIR / lang / name
            assert other.exists(), f"{lang}/{name} is missing"
            assert set(dollar.findall(other.read_text())) == set(dollar.findall(path.read_text())), \
                f"{lang}/{name} placeholders differ"


def test_unknown_language_falls_back_to_english():
    assert i18n.translate("de", "Log in") == "Log in"
    assert i18n.translate("fr", "Log in") == "Se connecter"
    assert i18n.normalize_language("xx") == "en"
