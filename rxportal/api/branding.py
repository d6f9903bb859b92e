"""The ISP's uploaded logo, served from the data folder (see services/branding.py)."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from rxportal import db
from rxportal.services import branding


async def logo(_request: Request) -> Response:
    with db.session_scope() as session:
        path = branding.logo_file(session)
    if path is None:
        return RedirectResponse(branding.DEFAULT_LOGO, status_code=302)
    return FileResponse(path, media_type="image/png",
                        headers={"Cache-Control": "public, max-age=300",
                                 "X-Content-Type-Options": "nosniff"})


routes = [Route("/_branding/logo", logo)]
