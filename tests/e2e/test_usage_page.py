"""The Data Usage page: figures, the chart of 12 periods with the cap line in both languages,
an unlimited customer, a page the ISP turned off, the Top-Off dialog, and usage fed by the CSV
import showing up (or, for a bad file, not)."""
import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from tests.e2e.conftest import ROOT, login, look_at, new_page, wait_ready

BARS = "#usage-chart .barlayer .point"
CAP_LINE = "#usage-chart .scatterlayer .js-line"


def figures_of(username: str):
    from rxportal import db
    from rxportal.models import PortalUser
    from rxportal.services import usage

    with db.session_scope() as session:
        user = session.exec(select(PortalUser).where(PortalUser.username == username)).one()
        return usage.current(session, user.account_id), user.account_id


@pytest.fixture()
def en_page(browser, portal):
    """A page in English whatever language the demo users chose in earlier tests."""
    en_page = new_page(browser, portal, lang="en")
    yield en_page
    en_page.context.close()


def open_usage(page, user="demo"):
    login(page, user)
    page.goto("/usage")
    wait_ready(page)
    page.locator(BARS).first.wait_for()


def test_usage_page_looks_right_everywhere(browser, portal):
    look_at(browser, portal, "/usage", "usage", user="demo", ready_selector=BARS)


@pytest.mark.journey
def test_demo_sees_the_period_against_the_cap_and_twelve_bars(en_page):
    figures, _ = figures_of("demo")
    from rxportal.services import usage

    open_usage(en_page)
    expect(en_page.get_by_role("heading", name="Data Usage", exact=True)).to_be_visible()
    expect(en_page.locator("#usage-used")).to_have_text(usage.format_bytes(figures.used, "en", "CA"))
    expect(en_page.locator("#usage-cap")).to_have_text("500 GB")
    expect(en_page.locator("#usage-percent")).to_have_text(f"{figures.percent}% of your data cap")
    expect(en_page.get_by_role("progressbar")).to_be_visible()
    expect(en_page.locator(BARS)).to_have_count(12)
    expect(en_page.locator(CAP_LINE)).to_have_count(1)
    expect(en_page.locator("#usage-chart .legendtext")).to_have_text(["Data used", "Data cap"])
    expect(en_page.locator("#usage-chart .ytitle")).to_have_text("GB")
    expect(en_page.locator("#usage-projection")).to_contain_text("more than your data cap of 500 GB")
    expect(en_page.get_by_role("button", name="Top-Off")).to_be_visible()
    en_page.get_by_text("Show the figures as a table").click()
    expect(en_page.locator("#usage-table tbody tr")).to_have_count(12)


def test_the_page_in_french(browser, portal):
    page = new_page(browser, portal, lang="fr")
    try:
        open_usage(page)
        expect(page.get_by_role("heading", name="Consommation de données")).to_be_visible()
        expect(page.locator("#usage-cap")).to_have_text("500\u202fGo")
        expect(page.locator(BARS)).to_have_count(12)
        expect(page.locator("#usage-chart .legendtext")).to_have_text(
            ["Données utilisées", "Plafond de données"])
        expect(page.locator("#usage-chart .ytitle")).to_have_text("Go")
        expect(page.get_by_role("button", name="Recharge")).to_be_visible()
        # switching back to English re-labels the page and the chart at once
        page.goto("/details")
        wait_ready(page)
        page.locator("#details-language").select_option("en")
        page.get_by_role("link", name="Data Usage").first.click()  # no reload: no init script
        expect(page).to_have_url(re.compile(r"/usage/?$"))
        expect(page.locator("#usage-chart .legendtext")).to_have_text(["Data used", "Data cap"])
    finally:
        page.context.close()


@pytest.mark.journey
def test_unlimited_demo2_sees_no_cap_no_top_off_and_only_her_usage(en_page):
    from rxportal.services import usage

    mine, _ = figures_of("demo2")
    demo, _ = figures_of("demo")
    assert mine.used != demo.used
    open_usage(en_page, "demo2")
    expect(en_page.locator("#usage-used")).to_have_text(usage.format_bytes(mine.used, "en", "CA"))
    expect(en_page.locator("#usage-cap")).to_have_text("Unlimited")
    expect(en_page.get_by_role("button", name="Top-Off")).to_have_count(0)
    expect(en_page.get_by_role("progressbar")).to_have_count(0)
    expect(en_page.locator(BARS)).to_have_count(12)
    expect(en_page.locator(CAP_LINE)).to_have_count(0)


def test_a_page_the_isp_turned_off_is_not_reachable(browser, portal):
    from rxportal import db
    from rxportal.services import settings

    with db.session_scope() as session:
        settings.put(session, "page_usage", False)
    page = new_page(browser, portal, lang="en")
    try:
        login(page, "demo")
        expect(page.locator("#amount-due")).not_to_be_empty()
        expect(page.get_by_role("link", name="Data Usage")).to_have_count(0)  # nor "See data usage"
        page.goto("/usage")
        page.wait_for_url("**/billing")
        expect(page.locator(BARS)).to_have_count(0)
    finally:
        page.context.close()
        with db.session_scope() as session:
            settings.put(session, "page_usage", True)


def test_the_top_off_dialog_offers_the_products_and_confirms(en_page):
    open_usage(en_page)
    en_page.get_by_role("button", name="Top-Off").click()
    dialog = en_page.get_by_role("dialog")
    expect(dialog.get_by_role("radio")).to_have_count(3)
    dialog.get_by_text("50 GB for $9.00").click()
    dialog.get_by_role("button", name="Continue").click()
    expect(dialog.locator("#topoff-summary")).to_have_text("You are buying 50 GB for $9.00.")
    expect(dialog).to_contain_text("Your data cap for this period becomes 550 GB.")
    expect(dialog.get_by_label("Pay with")).to_be_visible()
    dialog.get_by_role("button", name="Back").click()
    expect(dialog.get_by_role("radio")).to_have_count(3)
    dialog.get_by_role("button", name="Cancel").click()
    expect(en_page.get_by_role("dialog")).to_have_count(0)
    expect(en_page.locator("#usage-cap")).to_have_text("500 GB")


def _import(portal, path):
    return subprocess.run([sys.executable, "-m", "rxportal.cli", "import-usage", str(path)],
                          env=portal.env, cwd=ROOT, capture_output=True, text=True)


def test_a_bad_csv_changes_nothing_and_a_good_one_shows_on_the_page(en_page, portal, tmp_path):
    from rxportal.services import usage

    before, _ = figures_of("demo2")
    day = before.start.isoformat()
    bad = tmp_path / "bad.csv"
    bad.write_text(f"100002,{day},7000000000,0\n100002,{day},lots,0\n")
    result = _import(portal, bad)
    assert result.returncode == 1 and "line 2" in result.stderr
    assert figures_of("demo2")[0].used == before.used
    good = tmp_path / "good.csv"
    good.write_text(f"account,date,bytes_down,bytes_up\n100002,{day},7000000000,0\n")
    assert _import(portal, good).returncode == 0
    open_usage(en_page, "demo2")
    expect(en_page.locator("#usage-used")).to_have_text(
        usage.format_bytes(before.used + 7_000_000_000, "en", "CA"))


def test_the_charting_library_loads_only_on_the_usage_page(en_page):
    requested = []
    en_page.on("request", lambda request: requested.append(request.url))
    login(en_page, "demo")
    en_page.goto("/details")
    wait_ready(en_page)
    assert not [url for url in requested if "plotly-basic" in url]
    en_page.get_by_role("link", name="Data Usage").first.click()
    en_page.locator(BARS).first.wait_for()
    assert [url for url in requested if "plotly-basic" in url]


def test_top_off_dialog_on_a_phone_in_french(browser, portal):
    from tests.e2e.conftest import PHONE, check_accessibility, snap

    page = new_page(browser, portal, PHONE, lang="fr")
    try:
        open_usage(page)
        page.get_by_role("button", name="Recharge").click()
        dialog = page.get_by_role("dialog")
        expect(dialog.get_by_role("radio")).to_have_count(3)
        snap(page, "usage-topoff-fr-phone")
        check_accessibility(page)
        dialog.get_by_role("button", name="Continuer").click()
        expect(dialog.locator("#topoff-summary")).to_contain_text("Vous achetez 25\u202fGo pour")
        snap(page, "usage-topoff-confirm-fr-phone")
        check_accessibility(page)
    finally:
        page.context.close()


def test_after_logout_the_next_customer_never_sees_the_previous_figures(en_page):
    from rxportal.services import usage

    demo, _ = figures_of("demo")
    demo2, _ = figures_of("demo2")
    demo_text = usage.format_bytes(demo.used, "en", "CA")
    open_usage(en_page, "demo")
    expect(en_page.locator("#usage-used")).to_have_text(demo_text)
    en_page.get_by_role("button", name="Log out").first.click()
    en_page.wait_for_url(re.compile(r"/$"))
    wait_ready(en_page)
    en_page.locator("#username").fill("demo2")
    en_page.locator("#password").fill("correct-horse-demo")
    en_page.locator("form button[type=submit]").click()
    en_page.wait_for_url("**/billing")
    wait_ready(en_page)
    # record every figure the page ever shows while demo2 goes to the usage page (no reload)
    en_page.evaluate("""() => {
        window.seenUsage = [];
        new MutationObserver(() => {
            const el = document.querySelector('#usage-used');
            if (el) window.seenUsage.push(el.textContent);
        }).observe(document.body, {subtree: true, childList: true, characterData: true});
    }""")
    en_page.get_by_role("link", name="Data Usage").first.click()
    expect(en_page.locator("#usage-used")).to_have_text(usage.format_bytes(demo2.used, "en", "CA"))
    assert demo_text not in en_page.evaluate("() => window.seenUsage")


@pytest.mark.journey
def test_the_json_api_of_the_running_portal_feeds_the_page(en_page, portal):
    import json
    import urllib.error
    import urllib.request

    from rxportal.services import usage

    before, _ = figures_of("demo2")
    token = portal.cli("create-api-token", "e2e billing system").stdout.strip().splitlines()[-1]
    body = json.dumps({"batch_id": "e2e-1", "records": [
        {"account": "100002", "date": before.start.isoformat(), "bytes_down": 5_000_000_000,
         "bytes_up": 0}]}).encode()

    def post(auth):
        request = urllib.request.Request(f"{portal.url}/api/v1/usage", data=body, method="POST",
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": auth})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    assert post("Bearer rxp_not-a-token")[0] == 401
    assert post(f"Bearer {token}") == (200, {"batch_id": "e2e-1", "records": 1,
                                             "duplicate": False})
    assert post(f"Bearer {token}")[1]["duplicate"] is True
    open_usage(en_page, "demo2")
    expect(en_page.locator("#usage-used")).to_have_text(
        usage.format_bytes(before.used + 5_000_000_000, "en", "CA"))


@pytest.mark.journey
def test_zz_a_top_off_paid_with_the_saved_card_raises_the_cap_once(en_page, portal):
    """Runs last in this file: it leaves demo with 50 GB more this period."""
    open_usage(en_page)
    en_page.get_by_role("button", name="Top-Off").click()
    dialog = en_page.get_by_role("dialog")
    dialog.get_by_text("50 GB for $9.00").click()
    dialog.get_by_role("button", name="Continue").click()
    pay = dialog.get_by_role("button", name="Confirm and pay")
    pay.dblclick()
    expect(dialog).to_contain_text("Your data cap is now 550 GB", timeout=30_000)
    dialog.get_by_role("button", name="Close").click()
    expect(en_page.locator("#usage-cap")).to_have_text("550 GB")
    expect(en_page.locator("#usage-topoffs")).to_contain_text("50 GB")
    portal.mail.wait_for("demo@example.net", "Receipt for your data top-off")
    from rxportal import db
    from rxportal.models import Transaction

    _, demo_id = figures_of("demo")
    with db.session_scope() as session:
        charges = session.exec(select(Transaction).where(
            Transaction.account_id == demo_id,
            Transaction.description.like("Data top-off%"))).all()
    assert len(charges) == 1 and charges[0].amount_minor == 900
    # the billing page shows the charge and the raised cap
    en_page.get_by_role("link", name="Billing").first.click()
    expect(en_page.locator("#transactions")).to_contain_text("Data top-off: 50 GB")
    expect(en_page.get_by_text("550 GB").first).to_be_visible()
