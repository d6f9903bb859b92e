"""Downloading a ticket attachment: by a logged-in user of the ticket's account (the session
cookie is checked on every request), or with the signed link mailed to the support mailbox;
anything else is 404, like a missing file."""
from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from rxportal import db
from rxportal.services import auth, tickets
from rxportal.state.session import SESSION_COOKIE


def _not_found() -> Response:
    return PlainTextResponse("Not found", status_code=404,
                             headers={"Cache-Control": "no-store"})


async def attachment(request: Request) -> Response:
    raw_id = request.path_params.get("attachment_id", "")
    token = request.cookies.get(SESSION_COOKIE, "")
    signature = request.query_params.get("sig", "")
    if not raw_id.isdecimal() or len(raw_id) > 12 or not (token or signature):
        return _not_found()
    with db.session_scope() as session:
        try:
            if signature:  # a link mailed to the support mailbox
                found = tickets.get_attachment_signed(session, int(raw_id), signature[:64])
            else:
                user = auth.current_user(session, token)
                if user is None or user.must_change_password:
                    return _not_found()
                found = tickets.get_attachment(session, user.account_id, int(raw_id))
        except tickets.NotFound:
            return _not_found()
        data, content_type, filename = found.data, found.content_type, found.filename
    inline = "inline" if request.query_params.get("view") == "1" else "attachment"
    return Response(data, media_type=content_type, headers={
        "Content-Disposition": f"{inline}; filename*=UTF-8''{quote(filename)}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
        "Cache-Control": "private, no-store",
    })


routes = [Route("/ticket-files/{attachment_id}", attachment)]
