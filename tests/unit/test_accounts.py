"""My Details validation: all or nothing, phone numbers formatted for the ISP's country."""
import pytest
from sqlmodel import select

from rxportal.models import AccountPhone
from rxportal.services import accounts
from tests.factories import make_account


def test_details_are_saved_with_phone_numbers_in_e164(session):
    account = make_account(session)
    details = accounts.update_details(
        session, account.id, name="  Pat   Doe ", country="CA",
        phones=[("613-555-0142", "Mobile"), ("+33 1 42 68 53 00", "Paris"), ("", "")])
    assert details.name == "Pat Doe"
    assert details.phones == [("(613) 555-0142", "Mobile"), ("+33 1 42 68 53 00", "Paris")]
    stored = session.exec(select(AccountPhone.number).order_by(AccountPhone.position)).all()
    assert stored == ["+16135550142", "+33142685300"]


@pytest.mark.parametrize("name, field", [
    ("", "name"), ("   ", "name"), ("x" * 10_000, "name"), ("Pat\u0000Doe", "name"),
])
def test_bad_names_are_refused(session, name, field):
    account = make_account(session)
    with pytest.raises(accounts.InvalidDetails) as invalid:
        accounts.update_details(session, account.id, name=name, phones=[], country="CA")
    assert field in invalid.value.errors


@pytest.mark.parametrize("phone", ["12", "not a phone", "<script>", "9" * 40, "555-0100"])
def test_bad_phone_numbers_are_refused_and_nothing_is_saved(session, phone):
    account = make_account(session, name="Before")
    with pytest.raises(accounts.InvalidDetails) as invalid:
        accounts.update_details(session, account.id, name="After", country="CA",
                                phones=[("613-555-0142", ""), (phone, "")])
    assert "phone_1" in invalid.value.errors
    assert account.name == "Before"


def test_markup_and_emoji_in_a_name_are_kept_as_text(session):
    account = make_account(session)
    details = accounts.update_details(session, account.id, name="<script>alert(1)</script> 🚀",
                                      phones=[], country="CA")
    assert details.name == "<script>alert(1)</script> 🚀"


def test_too_many_phone_numbers_are_refused(session):
    account = make_account(session)
    with pytest.raises(accounts.InvalidDetails) as invalid:
        accounts.update_details(session, account.id, name="Pat", country="CA",
                                phones=[("613-555-0142", "")] * 11)
    assert "phones" in invalid.value.errors
