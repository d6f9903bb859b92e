"""The HTTP routes beside Reflex: health check and security headers."""
from starlette.testclient import TestClient

from rxportal.api import build_api


def test_health_check_reports_the_database(session):
    client = TestClient(build_api())
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"


def test_health_check_fails_when_the_database_is_unreachable(monkeypatch, data_dir):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    answer = TestClient(build_api()).get("/healthz")
    assert answer.status_code == 503


def test_an_attachment_id_in_other_digits_is_not_found_not_a_crash(session):
    # "²".isdigit() is true but int("²") fails: ids are checked with isdecimal().
    client = TestClient(build_api(), raise_server_exceptions=True)
    answer = client.get("/ticket-files/%C2%B2?sig=abc")
    assert answer.status_code == 404


def test_hashed_build_assets_are_cached_for_a_year_and_nothing_else():
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from rxportal.api import CacheHashedAssets

    ok = lambda request: PlainTextResponse("x")  # noqa: E731
    app = CacheHashedAssets(Starlette(routes=[Route("/assets/entry-Ab12Cd34.js", ok),
                                              Route("/billing.js", ok)]))
    client = TestClient(app)
    assert client.get("/assets/entry-Ab12Cd34.js").headers["cache-control"] == (
        "public, max-age=31536000, immutable")
    assert "cache-control" not in client.get("/assets/missing.js").headers  # a 404
    assert "cache-control" not in client.get("/billing.js").headers  # not hashed: may change


def test_a_page_address_without_its_slash_is_answered_with_the_page_not_a_redirect(tmp_path):
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    from rxportal.api import PagesWithoutRedirect

    (tmp_path / "billing" / "pay").mkdir(parents=True)
    (tmp_path / "billing" / "index.html").write_text("billing page")
    (tmp_path / "billing" / "pay" / "index.html").write_text("pay page")
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("login page")
    static = Starlette(routes=[Mount("/", StaticFiles(directory=tmp_path, html=True))])
    app = PagesWithoutRedirect(static, static_dir=tmp_path)
    client = TestClient(app, follow_redirects=False)
    for address, text in (("/billing", "billing page"), ("/billing/", "billing page"),
                          ("/billing/pay", "pay page"), ("/billing?x=1", "billing page"),
                          ("/", "login page")):
        answer = client.get(address)
        assert (answer.status_code, answer.text) == (200, text), address
    # Not pages: a folder without a page keeps the server's own answer, and nothing climbs out.
    assert client.get("/assets").status_code == 404
    assert client.get("/billing/../../etc/passwd").status_code == 404
    assert client.post("/billing").status_code == 405
