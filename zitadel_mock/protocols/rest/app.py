"""The falcon apps (WSGI and ASGI): thin HTTP layers over ``answers``."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

import falcon
import falcon.asgi

from ...answers import Answer, handle, routing_error
from ...codes import ZError
from ...control.http import ControlOptions, mount_control
from ...errors import ScenarioError
from ...model import LIST_AUTH_FACTORS, LIST_SECOND_FACTORS, Scenario
from ...namespaces import NAMESPACE_HEADER, NamespaceError, Namespaces
from ...state import State
from ..grpc.web import AsgiGrpcWeb, WsgiGrpcWeb
from ..oauth.app import mount_oauth
from .calls import NAMESPACE_KEY, Header, asgi_header, rest_request, wsgi_header
from .connection import deliver_asgi, deliver_wsgi
from .control_log import AsgiControlLog, WsgiControlLog
from .direct import DirectApp
from .protojson import error_body
from .reply import crashed, send
from .routes_v2 import V2_ROUTES, mount_v2

__all__ = ["ROUTES", "create_app"]

ROUTES: dict[str, str] = {
    "/management/v1/policies/login/second_factors/_search": LIST_SECOND_FACTORS,
    "/management/v1/users/{user_id}/auth_factors/_search": LIST_AUTH_FACTORS,
}


MAX_COMPARED_PATH = 300  # characters of an unknown path compared with the routes (difflib)


def nearest_route(method: str, path: str) -> str:
    """Why a request matched no route: the route it is nearest to, and the method it takes."""
    compared = path[:MAX_COMPARED_PATH]
    best = max(
        ROUTES,
        key=lambda template: difflib.SequenceMatcher(None, compared, template).ratio(),
    )
    return f"no route takes {method} to this path; did you mean POST {best}?"


def _routing_why(req: Any, known_path: bool) -> str:
    method = printable_method(req.method)
    if known_path:
        takes, rpc = V2_ROUTES.get(req.uri_template or "", ("POST", ""))
        rpc = rpc or ROUTES.get(req.uri_template or "", "this route")
        return f"{rpc} takes {takes}, not {method}: {takes} {req.uri_template}"
    return nearest_route(method, req.path)


def printable_method(method: str) -> str:
    return method if method.isascii() and method.isprintable() else repr(method)


class _Route:
    """One ZITADEL route: POST answers; every other method is 405, as the gateway does."""

    def __init__(self, resolve: Callable[[Any], State], header: Header, rpc: str) -> None:
        self.resolve = resolve  # the request's namespace -> its State
        self.header = header
        self.rpc = rpc

    def answer(self, req: Any, user_id: str | None) -> tuple[State, Answer]:
        state = self.resolve(req)
        return state, handle(state, rest_request(req, self.header, self.rpc, user_id))

    def not_allowed(self, req: Any, resp: Any, **params: Any) -> None:
        state = self.resolve(req)
        request = rest_request(req, self.header, self.rpc, None)
        why = _routing_why(req, True)
        send(resp, state, routing_error(state, request, known_path=True, why=why))


class _WsgiRoute(_Route):
    def on_post(self, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        state, answer = self.answer(req, params.get("user_id"))
        if answer.injection is not None and not deliver_wsgi(req.env, answer.injection):
            return  # the connection is dropped, not answered
        send(resp, state, answer)

    def on_options(self, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        self.not_allowed(req, resp)


class _AsgiRoute(_Route):
    async def on_post(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, **params: str
    ) -> None:
        state, answer = self.answer(req, params.get("user_id"))
        if answer.injection is not None:
            await deliver_asgi(answer.injection)
        send(resp, state, answer)

    async def on_options(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, **params: str
    ) -> None:
        self.not_allowed(req, resp)


def _http_error_handler(resolve: Callable[[Any], State], header: Header) -> Any:
    def handler(req: Any, resp: Any, error: falcon.HTTPError, params: Any) -> None:
        state = resolve(req)
        if error.status_code in (404, 405) or "Invalid HTTP method" in str(error.description):
            # Falcon answers an unknown method on a route with 400; the gateway with 405.
            known = req.uri_template is not None
            request = rest_request(req, header, "", None)
            why = _routing_why(req, known)
            send(resp, state, routing_error(state, request, known_path=known, why=why))
            return
        code = 8 if error.status_code == 413 else 3
        message = str(error.title or "invalid request")
        send(resp, state, Answer(error.status_code, error_body(ZError(code, message))))

    return handler


def _crash_handler(resolve: Callable[[Any], State]) -> Any:
    def handler(req: Any, resp: Any, error: Exception, params: Any) -> None:
        state = resolve(req)
        send(resp, state, crashed(state))

    return handler


def _async(handler: Any) -> Any:
    async def wrapped(req: Any, resp: Any, error: Any, params: Any, **kwargs: Any) -> None:
        handler(req, resp, error, params)

    return wrapped


def _namespace_error_handler(spaces: Namespaces) -> Any:
    def handler(req: Any, resp: Any, error: NamespaceError, params: Any) -> None:
        send(resp, spaces.default, Answer(400, error_body(ZError(3, str(error)))))

    return handler


def _refuse_socket_faults(spaces: Namespaces) -> None:
    """An ASGI app cannot drop connections: say so now, and refuse such rules from now on."""
    serving = spaces.default.serving
    serving.sockets = False
    scenarios = {id(state.scenario): state.scenario for _, state in spaces.items()}
    live = [rule for _, state in spaces.items() for rule, _ in state.errors()]
    for scenario in scenarios.values():
        problem = serving.problem(scenario.errors)
        if problem is not None:
            serving.sockets = True
            index, key, reason = problem
            raise ScenarioError(reason, source=scenario.source, path=f"errors[{index}].{key}")
    problem = serving.problem(live)
    if problem is not None:
        serving.sockets = True
        raise ScenarioError(f"a forced rule: {problem[2]}", path=problem[1])


def create_app(
    scenario: Scenario | State | Namespaces,
    *,
    asgi: bool = False,
    control: bool | ControlOptions = False,
) -> Any:
    """Build the falcon app serving a scenario (or a live ``State``); ASGI with ``asgi=True``.

    Each request is served from the State of its namespace (the ``X-Mock-Namespace`` header;
    without it, the default one: the given State). With ``control``, the control API is
    mounted under ``/_mock/`` (``ControlOptions`` can require a token).

    An ASGI app cannot reset or close a connection: with a forced rule that asks for such a
    fault, ``create_app(..., asgi=True)`` raises ScenarioError, and adding one later fails too.
    """
    spaces = scenario if isinstance(scenario, Namespaces) else Namespaces(scenario)
    if asgi:
        _refuse_socket_faults(spaces)

    header = asgi_header if asgi else wsgi_header

    def resolve(req: Any) -> State:
        if asgi:
            return spaces.get(req.get_header(NAMESPACE_HEADER))
        return spaces.get(req.env.get(NAMESPACE_KEY))

    def lenient(req: Any) -> State:
        return spaces.lenient(header(req, NAMESPACE_HEADER))

    # gRPC-web is told apart by its content type on any path, before routing (as ZITADEL does).
    middleware: list[Any] = [AsgiGrpcWeb(spaces) if asgi else WsgiGrpcWeb(spaces)]
    if control:
        log_cls = AsgiControlLog if asgi else WsgiControlLog
        middleware.append(log_cls(spaces, header))
    app: Any = (
        falcon.asgi.App(middleware=middleware) if asgi else DirectApp(spaces, middleware=middleware)
    )
    route_cls = _AsgiRoute if asgi else _WsgiRoute
    for template, rpc in ROUTES.items():
        app.add_route(template, route_cls(resolve, header, rpc))
    mount_v2(app, resolve, header, rest_request, send, _Route, asgi=asgi)  # REST and Connect
    mount_oauth(app, resolve, asgi=asgi)
    if control:
        options = control if isinstance(control, ControlOptions) else ControlOptions()
        mount_control(app, spaces, options, asgi=asgi)
    wrap = _async if asgi else (lambda h: h)
    app.add_error_handler(Exception, wrap(_crash_handler(lenient)))
    app.add_error_handler(falcon.HTTPError, wrap(_http_error_handler(lenient, header)))
    app.add_error_handler(NamespaceError, wrap(_namespace_error_handler(spaces)))
    return app
