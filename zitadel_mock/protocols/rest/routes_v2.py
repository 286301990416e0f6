"""The v2 REST routes of ZITADEL's gateway, over ``answers`` as the v1 routes are.

None of them has a body: a request's filters and context come in the query string, as the
gateway reads them (field names in camelCase or as in the proto, a repeated field by repeating
its key, enums by name or number, booleans as Go's ``strconv.ParseBool`` reads them). A value
it cannot read is 400 INVALID_ARGUMENT before any auth check; unknown keys are ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import falcon
import falcon.asgi

from ...answers import Answer, Request, handle, refused
from ...answers_v2 import AUTH_FACTORS, STATES, V2Args
from ...codes import ZError
from ...journal import shown
from ...model import (
    GET_LOGIN_SETTINGS,
    LIST_AUTHENTICATION_FACTORS,
    LIST_AUTHENTICATION_METHOD_TYPES,
)
from ...state import State
from ..connect.routes import mount_connect
from .connection import deliver_asgi, deliver_wsgi

__all__ = ["V2_ROUTES", "mount_rest_v2", "mount_v2"]

# template -> (the HTTP method it takes, rpc)
V2_ROUTES: dict[str, tuple[str, str]] = {
    "/v2/users/{user_id}/authentication_factors/_search": ("POST", LIST_AUTHENTICATION_FACTORS),
    "/v2/users/{user_id}/authentication_methods": ("GET", LIST_AUTHENTICATION_METHOD_TYPES),
    "/v2/settings/login": ("GET", GET_LOGIN_SETTINGS),
}
MAX_VALUES = 64  # repeated values read per filter: more is no filter anyone means
_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")
MakeRequest = Callable[[Any, str, "str | None"], Request]
Send = Callable[[Any, State, Answer], None]


class _BadQuery(Exception):
    pass


def _values(params: dict[str, Any], *names: str) -> list[str]:
    out: list[str] = []
    for name in names:
        value = params.get(name)
        if value is not None:
            out.extend(value if isinstance(value, list) else [value])
    return out


def _enums(
    params: dict[str, Any], field: str, camel: str, table: dict[str, int]
) -> tuple[int, ...]:
    values = _values(params, camel, field)
    if len(values) > MAX_VALUES:
        raise _BadQuery(f'parsing field "{field}": more than {MAX_VALUES} values')
    numbers = []
    for value in values:
        if value in table:
            numbers.append(table[value])
        elif value.isdigit() and len(value) <= 10 and int(value) < 2**31:
            numbers.append(int(value))
        else:
            raise _BadQuery(
                f'parsing field "{field}": {shown(value)} is not one of {", ".join(table)}'
            )
    return tuple(numbers)


def query_args(rpc: str, params: dict[str, Any]) -> V2Args:
    """The V2Args of a v2 REST request's query string; raises _BadQuery."""
    if rpc == LIST_AUTHENTICATION_FACTORS:
        return V2Args(
            _enums(params, "auth_factors", "authFactors", AUTH_FACTORS),
            _enums(params, "states", "states", STATES),
        )
    if rpc != GET_LOGIN_SETTINGS:
        return V2Args()  # domainQuery changes nothing the mock answers
    org_ids = _values(params, "ctx.orgId", "ctx.org_id")
    instance = _values(params, "ctx.instance")
    if org_ids and instance:
        raise _BadQuery(
            'parsing field "ctx.instance": field already set for oneof "resource_owner"'
        )
    if instance:
        value = instance[-1]
        if value not in _TRUE + _FALSE:
            raise _BadQuery(f'parsing field "ctx.instance": {shown(value)} is no boolean')
        return V2Args(ctx_instance=value in _TRUE)
    if org_ids:
        return V2Args(ctx_org_id=org_ids[-1])
    return V2Args()


class _RouteV2:
    def __init__(
        self, resolve: Callable[[Any], State], make_request: MakeRequest, send: Send, rpc: str
    ) -> None:
        self.resolve = resolve
        self.make_request = make_request
        self.send = send
        self.rpc = rpc

    def answer(self, req: Any, user_id: str | None) -> tuple[State, Answer]:
        state = self.resolve(req)
        request = self.make_request(req, self.rpc, user_id)
        try:
            args = query_args(self.rpc, req.params)
        except _BadQuery as exc:
            why = f"the query string cannot be read: {exc}"
            return state, refused(state, request, ZError(3, str(exc)), why)
        return state, handle(state, request._replace(v2=args))


def _wsgi_responder(route: _RouteV2) -> Any:
    def respond(req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        state, answer = route.answer(req, params.get("user_id"))
        if answer.injection is not None and not deliver_wsgi(req.env, answer.injection):
            return  # the connection is dropped, not answered
        route.send(resp, state, answer)

    return respond


def _asgi_responder(route: _RouteV2) -> Any:
    async def respond(req: falcon.asgi.Request, resp: falcon.asgi.Response, **params: str) -> None:
        state, answer = route.answer(req, params.get("user_id"))
        if answer.injection is not None:
            await deliver_asgi(answer.injection)
        route.send(resp, state, answer)

    return respond


def _options(not_allowed: Callable[[Any, Any, str], None], rpc: str, asgi: bool) -> Any:
    def respond(req: Any, resp: Any, **params: Any) -> None:
        not_allowed(req, resp, rpc)

    async def respond_async(req: Any, resp: Any, **params: Any) -> None:
        not_allowed(req, resp, rpc)

    return respond_async if asgi else respond


def mount_rest_v2(
    app: Any,
    resolve: Callable[[Any], State],
    make_request: MakeRequest,
    send: Send,
    not_allowed: Callable[[Any, Any, str], None],
    *,
    asgi: bool,
) -> None:
    """Add the v2 REST routes; ``not_allowed(req, resp, rpc)`` answers OPTIONS (the gateway's
    405; falcon would answer it itself)."""
    for template, (method, rpc) in V2_ROUTES.items():
        route = _RouteV2(resolve, make_request, send, rpc)
        resource = type("V2Route", (), {})()
        respond = _asgi_responder(route) if asgi else _wsgi_responder(route)
        setattr(resource, f"on_{method.lower()}", respond)
        resource.on_options = _options(not_allowed, rpc, asgi)
        app.add_route(template, resource)


def mount_v2(
    app: Any,
    resolve: Callable[[Any], State],
    header: Any,
    request: Callable[[Any, Any, str, str | None], Request],
    send: Send,
    route_cls: Any,
    *,
    asgi: bool,
) -> None:
    """The v2 RPCs on the REST app: their REST routes, and Connect (``protocols.connect``).

    ``request``, ``send`` and ``route_cls`` are the REST app's, so that v2 requests are
    read, journalled and refused (405) as v1's are.
    """

    def make_request(req: Any, rpc: str, user_id: str | None) -> Request:
        return request(req, header, rpc, user_id)

    def not_allowed(req: Any, resp: Any, rpc: str) -> None:
        route_cls(resolve, header, rpc).not_allowed(req, resp)

    mount_rest_v2(app, resolve, make_request, send, not_allowed, asgi=asgi)
    mount_connect(app, resolve, make_request, asgi=asgi)
