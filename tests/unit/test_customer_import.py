"""CSV import of customers: all rows checked first, nothing imported when one is bad."""
import subprocess
import sys

from sqlmodel import select

from rxportal.models import Account, AccountPhone, AccountService, Plan
from rxportal.services import customer_import

HEADER = "number,name,email,phone,billing_day,currency,language,plan\n"


def test_good_rows_are_imported_and_a_second_import_updates(session):
    session.add(Plan(name="Fibre 100", price_minor=6500, currency="CAD"))
    session.flush()
    text = HEADER + "A1,Ann Lee,ann@example.org,613-555-0142,15,CAD,fr,Fibre 100\n" \
                    "A2,Bob Roy,bob@example.org,,31,USD,en,\n"
    assert customer_import.import_customers(session, text).created == 2
    ann = session.exec(select(Account).where(Account.number == "A1")).one()
    assert (ann.billing_day, ann.language) == (15, "fr")
    assert session.exec(select(AccountPhone.number)).all() == ["+16135550142"]
    assert len(session.exec(select(AccountService)).all()) == 1
    report = customer_import.import_customers(session, text.replace("Ann Lee", "Ann Lee-Roy"))
    assert (report.created, report.updated) == (0, 2)
    assert ann.name == "Ann Lee-Roy"
    assert len(session.exec(select(AccountService)).all()) == 1


def test_one_bad_row_imports_nothing_and_names_every_problem_by_line(session):
    text = HEADER + "A1,Ann Lee,ann@example.org,,15,CAD,en,\n" \
                    "A2,,not-an-email,12,32,XX,de,Gold\n" \
                    "A1,<script>x</script>,x@example.org,,1,CAD,en,\n"
    report = customer_import.import_customers(session, text)
    assert report.created == 0
    assert session.exec(select(Account)).all() == []
    joined = "\n".join(report.errors)
    for expected in ("line 3: name is empty", "line 3: e-mail address", "line 3: phone number",
                     "line 3: billing_day", "line 3: currency", "line 3: language",
                     "line 3: no plan named 'Gold'", "line 4: account number A1 appears twice"):
        assert expected in joined


def test_missing_columns_are_reported(session):
    report = customer_import.import_customers(session, "name,email\nAnn,ann@example.org\n")
    assert report.errors == ["line 1: missing column(s) number"]


def test_the_cli_command_reports_bad_rows_and_exits_non_zero(session, tmp_path, data_dir):
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "A1,Ann,bad-email,,1,CAD,en,\n")
    result = subprocess.run([sys.executable, "-m", "rxportal.cli", "import-customers", str(bad)],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "line 2" in result.stderr


def test_a_billing_day_in_other_digits_is_refused_not_a_crash(session):
    report = customer_import.import_customers(session, HEADER + "A1,Ann,ann@example.org,,²,CAD,en,\n")
    assert report.errors == ["line 2: billing_day must be a day of the month (1-31)"]
