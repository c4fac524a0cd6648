"""What keeps strangers out of the web app and its errors short: the Host names accepted (against
DNS rebinding), no request that changes anything from another site's page (against cross-site
request forgery), every error as one line of JSON, the page's own headers, and the browser session
(a random cookie) that each job belongs to."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from nst.apps.web.config import WebConfig

SESSION_COOKIE = "nst_session"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# The page loads nothing from elsewhere, and no other site may frame it.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def add_guards(app: FastAPI, config: WebConfig) -> None:
    """What keeps strangers out and errors short: the Host names accepted, no request that changes
    anything from another site's page, every error as one line of JSON."""
    if config.allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(config.allowed_hosts))

    @app.middleware("http")  # added after the Host check, so it runs before it, as it always has
    async def same_origin_only(request: Request, call_next: Callable) -> Response:
        # Against cross-site request forgery: another site's page may send the browser here, but
        # nothing it sends may start, change or cancel a run.
        if request.method not in SAFE_METHODS and not _from_this_origin(request):
            return JSONResponse({"error": "refused: the request came from another site's page"}, status_code=403)
        return await call_next(request)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return JSONResponse({"error": str(error.detail)}, status_code=error.status_code)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"error": "unexpected error in the server (its log says more)"}, status_code=500)


def _from_this_origin(request: Request) -> bool:
    """Whether the browser says the request comes from this app's own page (or from no page at
    all: a command-line client). Browsers send ``Origin`` with every cross-origin POST and
    ``Sec-Fetch-Site`` with every request; another port on this machine is another origin."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.headers.get('host', '')}"


def browser_session(request: Request, response: Response) -> str:
    """The browser's session id, from its cookie, or a new one sent as a cookie. SameSite=Strict:
    other sites' pages cannot act in it."""
    session = request.cookies.get(SESSION_COOKIE, "")
    if not re.fullmatch(r"[A-Za-z0-9_-]{32}", session):
        session = secrets.token_urlsafe(24)
        response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="strict")
    return session
