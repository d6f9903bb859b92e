"""POST /api/v1/usage through the real Starlette app that is mounted in front of Reflex."""
from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from rxportal import db
from rxportal.api import build_api
from rxportal.models import Account
from rxportal.models.usage import ApiToken, UsageSample
from rxportal.services import api_tokens

URL = "/api/v1/usage"


@pytest.fixture()
def api(session):
    session.add(Account(number="100001", name="Alex", email="alex@example.net", billing_day=15,
                        currency="CAD"))
    _, token = api_tokens.create(session, "billing system")
    session.commit()
    client = TestClient(build_api())
    client.headers["Authorization"] = f"Bearer {token}"
    client.token = token
    return client


def record(**overrides):
    today = date.today().isoformat()
    return {"account": "100001", "date": today, "bytes_down": 1000, "bytes_up": 10, **overrides}


def samples():
    with db.session_scope() as s:
        return [(x.bytes_down, x.bytes_up, x.source) for x in s.exec(select(UsageSample))]


def test_a_batch_is_imported_and_a_resent_batch_counts_once(api):
    body = {"batch_id": "nightly-1", "records": [record(), record(bytes_down="2000")]}
    first = api.post(URL, json=body)
    assert first.status_code == 200 and first.json() == {
        "batch_id": "nightly-1", "records": 2, "duplicate": False}
    again = api.post(URL, json=body)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert sorted(samples()) == [(1000, 10, "api"), (2000, 10, "api")]


def test_without_a_valid_token_nothing_is_read(api):
    body = {"batch_id": "b", "records": [record()]}
    for header in (None, "Bearer ", "Bearer rxp_wrong", f"Basic {api.token}", api.token):
        headers = {"Authorization": header} if header is not None else {}
        client = TestClient(build_api())
        response = client.post(URL, json=body, headers=headers)
        assert response.status_code == 401, header
    assert samples() == []


def test_a_revoked_token_is_refused(api):
    with db.session_scope() as s:
        token_id = s.exec(select(ApiToken)).one().id
        api_tokens.revoke(s, token_id)
    assert api.post(URL, json={"batch_id": "b", "records": [record()]}).status_code == 401


def test_tokens_are_stored_hashed(api):
    with db.session_scope() as s:
        row = s.exec(select(ApiToken)).one()
    assert api.token not in (row.token_hash, row.prefix) and len(row.token_hash) == 64


def test_one_bad_record_rejects_the_batch_with_every_problem(api):
    body = {"batch_id": "b", "records": [
        record(), record(account="999"), record(date="yesterday"), record(bytes_up=-1),
        record(bytes_down=1.5), record(bytes_down=True), "not a record",
        record(account="<script>alert(1)</script>"), record(account="1' OR '1'='1")]}
    response = api.post(URL, json=body)
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert [p["record"] for p in problems] == [2, 3, 4, 5, 6, 7, 8, 9]
    assert samples() == []
    # fixed, the same batch id is accepted: a rejected batch was never stored
    assert api.post(URL, json={"batch_id": "b", "records": [record()]}).status_code == 200


@pytest.mark.parametrize("body,status", [
    ("not json", 400),
    ([1, 2], 400),
    ({"records": [{}]}, 422),
    ({"batch_id": "", "records": [{}]}, 422),
    ({"batch_id": "x" * 101, "records": [{}]}, 422),
    ({"batch_id": "b", "records": []}, 422),
    ({"batch_id": "b"}, 422),
])
def test_malformed_bodies_get_a_clear_error(api, body, status):
    if isinstance(body, str):
        response = api.post(URL, content=body, headers={"Content-Type": "application/json"})
    else:
        response = api.post(URL, json=body)
    assert response.status_code == status and "error" in response.json()
    assert samples() == []


def test_too_large_a_body_is_refused(api):
    response = api.post(URL, content=b"{" + b" " * (9 * 1024 * 1024) + b"}",
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_two_tokens_may_use_the_same_batch_id(api, session):
    _, other = api_tokens.create(session, "other system")
    session.commit()
    body = {"batch_id": "same", "records": [record()]}
    assert api.post(URL, json=body).json()["duplicate"] is False
    response = TestClient(build_api()).post(URL, json=body,
                                            headers={"Authorization": f"Bearer {other}"})
    assert response.json()["duplicate"] is False
    assert len(samples()) == 2


def test_cli_creates_a_token_that_works(session, capsys):
    from rxportal.cli import main

    session.add(Account(number="100001", name="Alex", billing_day=15, currency="CAD"))
    session.commit()
    assert main(["create-api-token", "radius bridge"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("rxp_")
    response = TestClient(build_api()).post(
        URL, json={"batch_id": "1", "records": [record()]},
        headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert main(["create-api-token", ""]) == 2
