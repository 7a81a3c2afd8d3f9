"""Who may drive the workbench: this user's browser, on this machine, on this page.

The server binds to 127.0.0.1 only. On top of that, every request passes three checks
before it reaches a route (an ASGI middleware, so static files are covered too):

* **Host**: ``127.0.0.1:PORT`` or ``localhost:PORT`` only. A web page that points a
  name of its own at 127.0.0.1 (DNS rebinding) sends its own name: refused.
* **Origin**: when the browser names the page a request comes from (``Origin``, or
  ``Sec-Fetch-Site``), it must be this server. Another page's form or
  script: refused.
* **Token**: a random token, printed in the URL at start (as Jupyter does). The first
  request carries it as ``?token=...``; the server answers with a cookie
  (``HttpOnly``, ``SameSite=Strict``, named after the port) and a redirect to the same
  address without the token, and the cookie carries it from then on. A script may send
  it as the ``X-Peermatch-Token`` header. No token, or a wrong one: refused. So
  another local user, who cannot read this user's terminal, cannot use the server.

Refusals are ``403`` with a short text. Every page also carries a Content-Security-Policy
that allows only this server's own scripts and styles, no inline script: a member's name
that slipped through escaping still could not run.
"""

from __future__ import annotations

import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

__all__ = ["Guard", "new_token", "HEADERS"]

#: Headers added to every answer.
HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    # not "no-referrer": under it a browser sends "Origin: null" with the page's own
    # form posts, which the origin check must refuse
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


def new_token() -> str:
    """A fresh random token (32 bytes, URL-safe)."""
    return secrets.token_urlsafe(32)


class Guard:
    """ASGI middleware refusing foreign hosts, foreign origins and requests without the
    token (see the module's text).

    Parameters
    ----------
    app : ASGI application
    token : str
    port : int
        The port the server listens on (names the allowed hosts and origins).
    """

    def __init__(self, app, token: str, port: int) -> None:
        self.app, self.token, self.port = app, token, int(port)
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
        self.origins = {f"http://{h}" for h in self.hosts}
        self.cookie = f"peermatch_token_{port}"

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        why = self._refusal(headers)
        if why is None:
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            given = query.get("token")
            if given is not None and secrets.compare_digest(given, self.token):
                return await self._enter(scope, query, send)
            if not self._has_token(headers):
                why = ("This page needs the token: open the address that 'peermatch app' "
                       "printed (it ends with ?token=...).")
        if why is not None:
            return await _answer(send, 403, why.encode(), {"content-type":
                                                           "text/plain; charset=utf-8"})

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                extra = [(k.encode(), v.encode()) for k, v in HEADERS.items()]
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)
        return await self.app(scope, receive, send_with_headers)

    def _refusal(self, headers: dict) -> str | None:
        if headers.get("host", "") not in self.hosts:
            return (f"Refused: this server answers only at 127.0.0.1:{self.port} or "
                    f"localhost:{self.port}.")
        origin = headers.get("origin")
        if origin is not None and origin not in self.origins:
            return "Refused: a request from another site."
        # another site, or another port of this host (a different origin of the same site)
        if headers.get("sec-fetch-site") in ("cross-site", "same-site"):
            return "Refused: a request from another site."
        return None

    def _has_token(self, headers: dict) -> bool:
        given = headers.get("x-peermatch-token")
        if given is None:
            jar = SimpleCookie()
            try:
                jar.load(headers.get("cookie", ""))
            except Exception:  # a malformed cookie header is no token
                return False
            given = jar[self.cookie].value if self.cookie in jar else None
        return given is not None and secrets.compare_digest(given, self.token)

    async def _enter(self, scope, query: dict, send) -> None:
        """The token in the address: set the cookie, go to the address without it."""
        query.pop("token", None)
        where = scope.get("path", "/") + (f"?{urlencode(query)}" if query else "")
        cookie = (f"{self.cookie}={self.token}; Path=/; HttpOnly; SameSite=Strict")
        await _answer(send, 303, b"", {"location": where, "set-cookie": cookie, **HEADERS})


async def _answer(send, status: int, body: bytes, headers: dict) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(k.encode(), v.encode()) for k, v in
                            {**headers, "content-length": str(len(body))}.items()]})
    await send({"type": "http.response.body", "body": body})
