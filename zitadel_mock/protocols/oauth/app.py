"""The OAuth endpoints' falcon resources (WSGI and ASGI): thin HTTP layers over ``oauth``.

``mount_oauth`` adds them to the app ``protocols.rest.app.create_app`` builds. A request is read
into an ``OAuthRequest`` (the form, Basic credentials, the issuer from the Host header and the
scheme) and the answer is written with its headers; delays and faults of forced rules on the
token endpoint are carried out as on the API's routes.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from typing import Any

import falcon
import falcon.asgi

from ... import oauth, oauth_provider
from ...namespaces import DEFAULT_NAMESPACE, NAMESPACE_HEADER, NamespaceError, Namespaces
from ...oauth_messages import OAuthAnswer, OAuthRequest, query_unescape
from ...state import State
from ..rest.connection import deliver_asgi, deliver_wsgi
from ..rest.headers import asgi_headers, wsgi_headers

__all__ = ["MAX_FORM", "MAX_FORM_FIELDS", "ROUTES", "mount_oauth", "parse_form"]

ROUTES = {
    "/.well-known/openid-configuration": "discovery",
    "/oauth/v2/token": "token",
    "/oauth/v2/keys": "keys",
    "/oauth/v2/introspect": "introspect",
}
_METHOD = {"discovery": "GET", "keys": "GET", "token": "POST", "introspect": "POST"}
MAX_FORM = 64 * 1024  # a token request is under 2 KiB; more is no form this endpoint reads
MAX_FORM_FIELDS = 100
FORM_TYPE = "application/x-www-form-urlencoded"

Resolve = Callable[[Any], State]


def parse_form(text: str) -> dict[str, str] | None:
    """Go's url.ParseQuery, first value of each field; None where Go reports an error."""
    fields: dict[str, str] = {}
    if not text:
        return fields
    pairs = text.split("&")
    if len(pairs) > MAX_FORM_FIELDS:
        return None
    for pair in pairs:
        if not pair:
            continue
        if ";" in pair:  # Go refuses semicolons as separators
            return None
        name, _, value = pair.partition("=")
        name_text, value_text = query_unescape(name), query_unescape(value)
        if name_text is None or value_text is None:
            return None
        fields.setdefault(name_text, value_text)
    return fields


def _basic(authorization: str | None) -> tuple[str, str] | None:
    """Go's Request.BasicAuth: ``Basic`` (any case), base64 of ``id:secret``; else None."""
    if not authorization or authorization[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(authorization[6:], validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None
    client_id, colon, secret = decoded.partition(":")
    return (client_id, secret) if colon else None


def _namespace(req: Any) -> str:
    value = req.get_header(NAMESPACE_HEADER)
    if not value:
        return DEFAULT_NAMESPACE
    try:
        return Namespaces.name(value)
    except NamespaceError:
        return DEFAULT_NAMESPACE


def _headers(req: Any) -> tuple[tuple[str, str], ...]:
    env = getattr(req, "env", None)  # WSGI; falcon's ASGI request has none
    return wsgi_headers(env) if env is not None else asgi_headers(req.headers)


def _request(req: Any, body: bytes, started: float, arrived: int) -> OAuthRequest:
    fields = parse_form(req.query_string)
    form_error = fields is None
    if (req.content_type or "").split(";")[0].strip().lower() == FORM_TYPE:
        # As Go's ParseForm: the body's fields come first, then the query string's.
        posted = None if len(body) > MAX_FORM else parse_form(body.decode("utf-8", "replace"))
        form_error = form_error or posted is None
        fields = {**(fields or {}), **(posted or {})}
    return OAuthRequest(
        method=req.method,
        path=req.path,
        form=fields or {},
        basic=_basic(req.get_header("Authorization")),
        issuer=f"{req.scheme}://{req.netloc}",
        form_error=form_error,
        headers=_headers(req),
        arrived_ns=arrived,
        started=started,
        namespace=_namespace(req),
    )


def _not_allowed(resp: Any, method: str) -> None:
    # As a Go router answers a method a route was not registered for: 405, no body.
    resp.status = 405
    resp.data = b""
    resp.set_header("Allow", method)


def _send(resp: Any, answer: OAuthAnswer) -> None:
    resp.status = answer.status
    resp.data = answer.body
    resp.content_type = "application/json"
    if answer.cache_control:
        resp.set_header("Cache-Control", answer.cache_control)


class _Endpoint:
    def __init__(self, resolve: Resolve, name: str) -> None:
        self.resolve = resolve
        self.name = name
        self.method = _METHOD[name]

    def answer(self, req: Any, body: bytes) -> OAuthAnswer:
        started, arrived = time.perf_counter(), time.time_ns()
        if self.name == "discovery":
            return oauth_provider.discovery(f"{req.scheme}://{req.netloc}")
        if self.name == "keys":
            return oauth_provider.keys()
        state = self.resolve(req)
        request = _request(req, body, started, arrived)
        if self.name == "token":
            return oauth.token(state, request)
        return oauth_provider.introspect(state, request)


class _WsgiEndpoint(_Endpoint):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if self.method != "GET":
            return _not_allowed(resp, self.method)
        _send(resp, self.answer(req, b""))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        if self.method != "POST":
            return _not_allowed(resp, self.method)
        body = req.bounded_stream.read(MAX_FORM + 1)
        answer = self.answer(req, body)
        if answer.injection is not None and not deliver_wsgi(req.env, answer.injection):
            return  # the connection is dropped, not answered
        _send(resp, answer)


class _AsgiEndpoint(_Endpoint):
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        if self.method != "GET":
            return _not_allowed(resp, self.method)
        _send(resp, self.answer(req, b""))

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        if self.method != "POST":
            return _not_allowed(resp, self.method)
        body = await req.stream.read(MAX_FORM + 1)
        answer = self.answer(req, body)
        if answer.injection is not None:
            await deliver_asgi(answer.injection)
        _send(resp, answer)


def mount_oauth(app: Any, resolve: Resolve, *, asgi: bool) -> None:
    """Add the OAuth endpoints to a falcon app; ``resolve`` finds a request's State."""
    endpoint = _AsgiEndpoint if asgi else _WsgiEndpoint
    for path, name in ROUTES.items():
        app.add_route(path, endpoint(resolve, name))
