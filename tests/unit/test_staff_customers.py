"""Customers in the staff console: search, invite, bulk invite, reset link, disable, charges
and credits, services, plans and the audit log."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from rxportal.models import AccountPhone, AuditLog, OutboxMail, PortalUser, Transaction
from rxportal.services import auth, ledger, staff_customers
from rxportal.services.staff import CurrentStaff
from rxportal.services.staff_customers import StaffActionError
from tests.factories import make_account, make_service, make_user

ADMIN = CurrentStaff(staff_id=1, username="alice", role="administrator", session_id=1)


def people(session):
    a = make_account(session, "100001", "alex@example.net", name="Alex Martin")
    b = make_account(session, "100002", "camille@example.org", name="Camille Roy")
    c = make_account(session, "200003", "", name="No Mail 50%_")
    session.add(AccountPhone(account_id=b.id, number="+15145550123"))
    make_user(session, a, "alexm")
    session.commit()
    return a, b, c


def names(result):
    return [r.name for r in result.rows]


def test_search_by_every_field(session):
    people(session)
    assert names(staff_customers.search(session, "")) == ["Alex Martin", "Camille Roy", "No Mail 50%_"]
    assert names(staff_customers.search(session, "camille")) == ["Camille Roy"]
    assert names(staff_customers.search(session, "EXAMPLE.NET")) == ["Alex Martin"]
    assert names(staff_customers.search(session, "200003")) == ["No Mail 50%_"]
    assert names(staff_customers.search(session, "alexm")) == ["Alex Martin"]
    assert names(staff_customers.search(session, "(514) 555-0123")) == ["Camille Roy"]
    assert names(staff_customers.search(session, "50%")) == ["No Mail 50%_"]  # % is literal
    assert names(staff_customers.search(session, "%")) == ["No Mail 50%_"]
    assert names(staff_customers.search(session, "' OR 1=1 --")) == []
    assert names(staff_customers.search(session, "<script>")) == []
    assert staff_customers.search(session, "x" * 10_000).total == 0
    row = staff_customers.search(session, "alex").rows[0]
    assert row.usernames == "alexm"


def test_search_is_paged(session):
    for n in range(30):
        make_account(session, f"3{n:05d}", f"p{n}@example.net", name=f"Person {n:02d}")
    session.commit()
    first = staff_customers.search(session, "person", page=1, page_size=25)
    second = staff_customers.search(session, "person", page=2, page_size=25)
    assert (first.total, first.pages, len(first.rows), len(second.rows)) == (30, 2, 25, 5)
    assert staff_customers.search(session, "person", page=99).page == 2
    assert staff_customers.search(session, "person", page=-3).page == 1


def test_invite_creates_a_login_and_mails_the_temporary_password(session):
    _, camille, nomail = people(session)
    user = staff_customers.invite(session, ADMIN, camille.id)
    session.commit()
    [message] = session.exec(select(OutboxMail).where(OutboxMail.to_addr == "camille@example.org")).all()
    assert user.username in message.text_body and user.must_change_password
    temporary = message.text_body.split("Temporary password: ")[1].split()[0]
    assert auth.login(session, user.username, temporary).must_change_password
    with pytest.raises(StaffActionError):
        staff_customers.invite(session, ADMIN, nomail.id)
    with pytest.raises(LookupError):
        staff_customers.invite(session, ADMIN, 99999)
    assert session.exec(select(AuditLog).where(AuditLog.action == "customer_invited")).one().actor_name == "alice"


def test_reset_link_and_disable_only_for_the_accounts_own_logins(session):
    alex, camille, _ = people(session)
    login = session.exec(select(PortalUser).where(PortalUser.username == "alexm")).one()
    with pytest.raises(LookupError):
        staff_customers.send_reset_link(session, ADMIN, camille.id, login.id)
    with pytest.raises(LookupError):
        staff_customers.set_login_disabled(session, ADMIN, camille.id, login.id, True)
    staff_customers.send_reset_link(session, ADMIN, alex.id, login.id)
    mail = session.exec(select(OutboxMail)).one()
    assert "/reset/" in mail.text_body
    token = mail.text_body.split("/reset/")[1].split()[0]
    assert auth.reset_token_is_valid(session, token)
    result = auth.login(session, "alexm", "a long enough secret")
    staff_customers.set_login_disabled(session, ADMIN, alex.id, login.id, True)
    session.commit()
    assert auth.current_user(session, result.token) is None
    with pytest.raises(auth.AuthError):
        auth.login(session, "alexm", "a long enough secret")
    staff_customers.set_login_disabled(session, ADMIN, alex.id, login.id, False)
    assert auth.login(session, "alexm", "a long enough secret")


def test_post_charge_and_credit_move_the_balance(session):
    alex, _, _ = people(session)
    staff_customers.post_transaction(session, ADMIN, alex.id, "charge", "12.50", "Router")
    staff_customers.post_transaction(session, ADMIN, alex.id, "credit", "20", "Outage credit")
    assert ledger.total_balance(session, alex.id) == 1250 - 2000
    rows = session.exec(select(Transaction).order_by(Transaction.id)).all()
    assert [(r.kind, r.amount_minor) for r in rows] == [("charge", 1250), ("credit", -2000)]
    assert session.exec(select(AuditLog).where(AuditLog.action == "customer_credit_posted")).one()


@pytest.mark.parametrize("kind,amount,description,field", [
    ("credit", "", "x", "amount"), ("credit", "abc", "x", "amount"), ("credit", "-5", "x", "amount"),
    ("credit", "0", "x", "amount"), ("credit", "1.234", "x", "amount"),
    ("credit", "99999999999", "x", "amount"), ("credit", "1e5", "x", "amount"),
    ("credit", "5", "", "description"), ("credit", "5", "y" * 201, "description"),
    ("credit", "5", "two\nlines", "description"), ("refund", "5", "x", "kind"),
])
def test_bad_charges_and_credits_are_refused(session, kind, amount, description, field):
    alex, _, _ = people(session)
    with pytest.raises(StaffActionError) as error:
        staff_customers.post_transaction(session, ADMIN, alex.id, kind, amount, description)
    assert error.value.field == field
    assert session.exec(select(Transaction)).all() == []


def test_hostile_description_is_kept_as_text(session):
    alex, _, _ = people(session)
    row = staff_customers.post_transaction(session, ADMIN, alex.id, "credit", "1",
                                           "<script>alert(1)</script>'; DROP TABLE account; --")
    assert row.description.startswith("<script>")


def test_services_and_plans(session):
    alex, _, _ = people(session)
    plan = staff_customers.save_plan(session, ADMIN, None, "Fibre 50", "45.00", "300")
    assert plan.price_minor == 4500 and plan.data_cap_bytes == 300 * 1000**3
    with pytest.raises(StaffActionError):
        staff_customers.save_plan(session, ADMIN, None, "", "45", "")
    with pytest.raises(StaffActionError):
        staff_customers.save_plan(session, ADMIN, None, "X", "45", "lots")
    service = staff_customers.add_service(session, ADMIN, alex.id, plan.id)
    assert ledger.services_total(session, alex.id) == 4500
    staff_customers.end_service(session, ADMIN, alex.id, service.id)
    assert ledger.services_total(session, alex.id) == 0
    other = make_account(session, "999", "o@example.net")
    other_service = make_service(session, other)
    with pytest.raises(LookupError):
        staff_customers.end_service(session, ADMIN, alex.id, other_service.id)
    plan = staff_customers.save_plan(session, ADMIN, plan.id, "Fibre 50", "50", "")
    assert plan.price_minor == 5000 and plan.data_cap_bytes is None


def test_bulk_invite_uses_the_guides_email_and_a_steady_rate(session):
    alex, camille, _ = people(session)
    for n in range(4):
        make_account(session, f"5{n:05d}", f"bulk{n}@example.net", name=f"Bulk {n}")
    session.commit()
    assert staff_customers.bulk_candidates_count(session) == 5  # not alex (has a login), not the one without mail
    subject, body = staff_customers.bulk_message(session)
    assert "We are excited to announce the launch of our new portal today." in body
    assert staff_customers.bulk_invite(session, ADMIN) == 5
    session.commit()
    mails = session.exec(select(OutboxMail).order_by(OutboxMail.next_attempt_at)).all()
    assert len(mails) == 5 and all(m.status == "queued" for m in mails)
    gaps = [(b.next_attempt_at - a.next_attempt_at) for a, b in zip(mails, mails[1:])]
    assert all(gap == timedelta(seconds=2) for gap in gaps)  # 30 a minute by default
    camille_mail = next(m for m in mails if m.to_addr == "camille@example.org")
    assert "Hello Camille Roy" in camille_mail.text_body
    temporary = camille_mail.text_body.split("Your temporary password: ")[1].split()[0]
    username = camille_mail.text_body.split("Your username: ")[1].split()[0]
    assert auth.login(session, username, temporary).must_change_password
    assert staff_customers.bulk_candidates_count(session) == 0
    assert staff_customers.bulk_invite(session, ADMIN) == 0


def test_bulk_message_is_checked(session):
    check = staff_customers.check_bulk_message
    assert check("Hi", "$username $temporary_password") == {}
    assert set(check("", "")) == {"subject", "message"}
    assert "message" in check("Hi", "Hello $name")  # no credentials
    assert "message" in check("Hi", "$username $temporary_password $unknown")
    assert "message" in check("Hi", "$username $temporary_password $")
    assert "subject" in check("a\nb", "$username $temporary_password")
    assert "message" in check("Hi", "$username $temporary_password" + "x" * 30_000)
    errors = staff_customers.save_bulk_message(session, ADMIN, "New portal at $isp_name",
                                               "<b>Hi</b> $name: $username / $temporary_password, costs $$5")
    assert errors == {}
    people(session)
    staff_customers.bulk_invite(session, ADMIN)
    mail = session.exec(select(OutboxMail)).first()
    assert mail.subject == "New portal at Example Internet"
    assert "costs $5" in mail.text_body and "&lt;b&gt;Hi&lt;/b&gt;" in mail.html_body


def test_audit_log_filters_and_pages(session):
    alex, _, _ = people(session)
    for n in range(60):
        staff_customers.post_transaction(session, ADMIN, alex.id, "credit", "1", f"c{n}")
    staff_customers.invite(session, ADMIN, people_account(session))
    page = staff_customers.audit_page(session, page=1)
    assert page.total == 61 and page.pages == 2 and len(page.rows) == 50
    assert page.rows[0].action == "customer_invited"
    assert staff_customers.audit_page(session, action="customer_invited").total == 1
    assert staff_customers.audit_page(session, actor="ALI").total == 61
    assert staff_customers.audit_page(session, actor="bob").total == 0
    assert staff_customers.audit_page(session, target=f"account:{alex.id}").total >= 60
    assert "customer_credit_posted" in staff_customers.audit_actions(session)


def people_account(session):
    return make_account(session, "777", "seven@example.net").id


def test_topoff_products(session):
    from rxportal.models.usage import TopOffProduct

    product = staff_customers.save_topoff(session, ADMIN, None, "10 GB extra", "10", "7.50")
    assert (product.bytes, product.price_minor, product.currency) == (10 * 1000**3, 750, "CAD")
    for name, gb, price, field in [("", "10", "5", "name"), ("X", "0", "5", "gb"),
                                   ("X", "ten", "5", "gb"), ("X", "10", "-1", "amount"),
                                   ("<script>\nx", "10", "5", "name")]:
        with pytest.raises(StaffActionError) as error:
            staff_customers.save_topoff(session, ADMIN, None, name, gb, price)
        assert error.value.field == field
    staff_customers.save_topoff(session, ADMIN, product.id, "20 GB extra", "20", "12")
    staff_customers.set_topoff_active(session, ADMIN, product.id, False)
    stored = session.get(TopOffProduct, product.id)
    assert (stored.name, stored.bytes, stored.price_minor, stored.active) == (
        "20 GB extra", 20 * 1000**3, 1200, False)
    assert len(session.exec(select(TopOffProduct)).all()) == 1
