"""1,000 wrong passwords for one user from several addresses: the attacker is slowed to a
handful of real checks, and the real user still logs in from their own browser."""
from sqlmodel import select

from rxportal.models import LoginAttempt
from rxportal.services import auth
from tests.factories import make_account, make_user

PASSWORD = "the real users phrase"


def test_a_thousand_guesses_from_many_addresses_do_not_lock_out_the_real_user(session):
    user = make_user(session, make_account(session), username="target", password=PASSWORD)
    device = auth.login(session, "target", PASSWORD, ip="198.51.100.10").device_token
    outcomes = {"throttled": 0, "checked": 0, "succeeded": 0}
    for n in range(1000):
        try:
            auth.login(session, "target", f"guess-{n}", ip=f"203.0.113.{n % 20}")
            outcomes["succeeded"] += 1
        except auth.AuthError as failure:
            outcomes["throttled" if failure.msgid == auth.THROTTLED else "checked"] += 1
    assert outcomes["succeeded"] == 0
    # Only the first few guesses were ever checked against the password.
    assert outcomes["checked"] <= auth.MAX_FAILURES_PER_USER
    assert outcomes["throttled"] >= 1000 - auth.MAX_FAILURES_PER_USER
    recorded = session.exec(select(LoginAttempt).where(LoginAttempt.username == "target")).all()
    assert len(recorded) == outcomes["checked"]
    # The real user, from the browser they used before, gets in at once.
    result = auth.login(session, "target", PASSWORD, ip="198.51.100.10", device_token=device)
    assert auth.current_user(session, result.token).user_id == user.id
