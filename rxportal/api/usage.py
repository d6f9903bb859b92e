"""POST /api/v1/usage: usage samples from the ISP's systems.

    Authorization: Bearer rxp_...        (a token made with `rxportal create-api-token`)
    Content-Type: application/json
    {"batch_id": "2026-11-20-nightly",
     "records": [{"account": "100001", "date": "2026-11-20", "bytes_down": 123, "bytes_up": 45},
                 {"account": "100002", "date": "2026-11", "bytes_down": "900", "bytes_up": "10"}]}

`date` is a day (YYYY-MM-DD) or a billing period (YYYY-MM). Every record is checked first: one
bad record rejects the whole batch (422, with every problem and its record number, from 1).
A batch_id already received with the same token is not counted again (200, "duplicate": true).

Mounted by rxportal.api.build_api() (every module's `routes`) in front of Reflex.
"""
from __future__ import annotations

import json

from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from rxportal import db
from rxportal.services import api_tokens, usage
from rxportal.wellformed import well_formed

MAX_BODY = 8 * 1024 * 1024
MAX_RECORDS = 10_000
SCOPE = "usage"


def _error(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status,
                        headers={"Cache-Control": "no-store"})


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _ingest(token: str, payload) -> JSONResponse:
    with db.session_scope() as session:
        row = api_tokens.authenticate(session, token, SCOPE)
        if row is None:
            return _error(401, "invalid or missing API token")
        token_id = row.id
        if not isinstance(payload, dict):
            return _error(400, "the body must be a JSON object")
        batch_id = payload.get("batch_id")
        if not isinstance(batch_id, str) or not batch_id.strip() or len(batch_id) > 100:
            return _error(422, "batch_id must be a string of 1 to 100 characters")
        records = payload.get("records")
        if not isinstance(records, list) or not records:
            return _error(422, "records must be a non-empty list")
        if len(records) > MAX_RECORDS:
            return _error(413, f"at most {MAX_RECORDS} records per batch")
        key = f"{token_id}:{batch_id.strip()}"
        earlier = usage.find_batch(session, "api", key)
        if earlier is not None:
            return JSONResponse({"batch_id": batch_id, "records": earlier.rows,
                                 "duplicate": True})
        checked = usage.check_records(session, list(enumerate(records, start=1)))
        if checked.errors:
            return _error(422, "no record was imported: fix these and send the batch again",
                          problems=[{"record": n, "problem": p} for n, p in checked.errors])
        result = usage.import_rows(session, "api", key, checked.rows, api_token_id=token_id)
        return JSONResponse({"batch_id": batch_id, "records": result.rows,
                             "duplicate": result.duplicate})


async def post_usage(request: Request) -> JSONResponse:
    token = _bearer(request)
    if not token:
        return _error(401, "invalid or missing API token")
    length = request.headers.get("content-length")
    if length and (not length.isdecimal() or int(length) > MAX_BODY):
        return _error(413, "the body is too large")
    body = await request.body()
    if len(body) > MAX_BODY:
        return _error(413, "the body is too large")
    try:
        payload = well_formed(json.loads(body))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _error(400, "the body is not JSON")
    try:
        return await run_in_threadpool(_ingest, token, payload)
    except IntegrityError:
        # The same batch arrived twice at once: the other one won; answer as a duplicate.
        return await run_in_threadpool(_ingest, token, payload)


routes = [Route("/api/v1/usage", post_usage, methods=["POST"])]
