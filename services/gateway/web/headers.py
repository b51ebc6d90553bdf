"""Security headers on every gateway response: a Content-Security-Policy without inline
script, no framing, no sniffing, no referrer to other sites.

The web app's scripts are files under /static (htmx, SortableJS, app.js); no template has
an inline <script>, an on*= handler or an hx-on attribute, and htmx runs with eval and
script tags off (the htmx-config meta in base.html). Inline style *attributes* stay
allowed (a person's avatar colour is ``style="--hue: 210"``); style elements are not.

The API docs (/docs, /redoc) are FastAPI's pages: their one inline script is allowed by
its hash (computed from the page itself), with the CDN they load Swagger UI from.
"""
from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; "
               "style-src-attr 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
               "base-uri 'none'; object-src 'none'")
DOCS_CDN = "https://cdn.jsdelivr.net"
COMMON = [(b"x-content-type-options", b"nosniff"),
          (b"referrer-policy", b"strict-origin-when-cross-origin"),
          (b"x-frame-options", b"DENY"),
          (b"cross-origin-opener-policy", b"same-origin")]
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def docs_policy(body: bytes) -> str:
    """The docs page's policy: its own inline scripts by hash, Swagger UI from the CDN."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s).digest()).decode()}'"
                      for s in _INLINE_SCRIPT.findall(body))
    return (f"default-src 'self'; script-src 'self' {DOCS_CDN} {hashes}; "
            f"style-src 'self' {DOCS_CDN} 'unsafe-inline'; img-src 'self' data: https:; "
            f"worker-src blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
            f"object-src 'none'")


class SecurityHeaders:
    """Pure ASGI middleware (no per-request task, unlike BaseHTTPMiddleware)."""

    def __init__(self, app: ASGIApp, docs_paths: tuple[str, ...] = ("/docs", "/redoc")) -> None:
        self.app = app
        self.docs_paths = docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in self.docs_paths:
            await self._docs(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *COMMON,
                                      (b"content-security-policy", PAGE_POLICY.encode())]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hold the (small) docs page until its body is known, then hash its scripts."""
        start: Message | None = None
        body = b""

        async def collect(message: Message) -> None:
            nonlocal start, body
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                body += message.get("body", b"")
                if message.get("more_body"):
                    return
                headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
                start["headers"] = [*headers, *COMMON,
                                    (b"content-length", str(len(body)).encode()),
                                    (b"content-security-policy", docs_policy(body).encode())]
                await send(start)
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, collect)
