from datetime import date

from rxportal.services import i18n


def test_money_is_exact_and_formatted_per_language():
    assert i18n.format_money(123456, "CAD", "en", "CA") == "$1,234.56"
    assert i18n.format_money(123456, "CAD", "fr", "CA") == "1\u00a0234,56\u00a0$"
    assert i18n.format_money(-5, "USD", "en", "US") == "-$0.05"
    assert i18n.format_money(1000, "JPY", "en", "JP") == "¥1,000"  # no minor unit
    assert i18n.minor_to_decimal_str(10**17 + 1, "USD") == "1000000000000000.01"


def test_dates_are_formatted_per_language():
    assert i18n.format_day(date(2026, 2, 28), "fr", "CA") == "28 févr. 2026"
    assert i18n.format_day(date(2026, 2, 28), "en", "CA") == "Feb 28, 2026"


def test_placeholders_are_filled_after_translation():
    text = i18n.translate("fr", "We sent a confirmation link to {email}. Your address changes once you open it.",
                          email="a@b.c")
    assert "a@b.c" in text and text.startswith("Nous")
