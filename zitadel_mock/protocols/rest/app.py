"""The falcon apps (WSGI and ASGI): thin HTTP layers over ``answers``."""

from __future__ import annotations

import difflib
import json
import time
import traceback
from collections.abc import Callable
from typing import Any

import falcon
import falcon.asgi

from ...answers import Answer, Request, handle, routing_error
from ...clock import http_date
from ...codes import ZError
from ...control.http import PREFIX, ControlOptions, mount_control
from ...errors import ScenarioError
from ...journal import Call
from ...model import LIST_AUTH_FACTORS, LIST_SECOND_FACTORS, Scenario
from ...namespaces import DEFAULT_NAMESPACE, NAMESPACE_HEADER, NamespaceError, Namespaces
from ...state import State
from ..grpc.web import AsgiGrpcWeb, WsgiGrpcWeb
from ..oauth.app import mount_oauth
from .connection import deliver_asgi, deliver_wsgi
from .headers import asgi_headers, wsgi_headers
from .protojson import FIXED_HEADERS, error_body
from .request_ids import REQUEST_IDS
from .routes_v2 import V2_ROUTES, mount_v2

__all__ = ["ROUTES", "create_app"]

ROUTES: dict[str, str] = {
    "/management/v1/policies/login/second_factors/_search": LIST_SECOND_FACTORS,
    "/management/v1/users/{user_id}/auth_factors/_search": LIST_AUTH_FACTORS,
}
INTERNAL = ZError(13, "An internal error occurred")
ORG_HEADER = "x-zitadel-orgid"
Header = Callable[[Any, str], "str | None"]  # reads one request header by name
# Under WSGI a header is read straight from the environ: falcon's get_header normalises the
# name on every call, which costs more than all the headers' lookups together.
_ENVIRON = {
    name: "HTTP_" + name.upper().replace("-", "_")
    for name in ("Authorization", ORG_HEADER, NAMESPACE_HEADER)
}


def _wsgi_header(req: Any, name: str) -> str | None:
    return req.env.get(_ENVIRON[name])  # type: ignore[no-any-return]


def _asgi_header(req: Any, name: str) -> str | None:
    return req.get_header(name)  # type: ignore[no-any-return]


_HEADERS = (("Content-Type", "application/json"), *FIXED_HEADERS)


new_request_id = REQUEST_IDS.new


def _send(resp: Any, state: State, answer: Answer) -> None:
    resp.status = answer.status
    resp.data = answer.body
    now = state.now_ns()
    if state.view.request_ids:
        # From 4.13.0. Added here, not in the answer memo: each answer gets ids of its own. The
        # gateway's header is derived from ZITADEL's code, not seen on a live server: REST asks
        # the gRPC server again inside, which makes a second id (PROTOCOLS.md section 0).
        resp.set_headers(
            (
                *_HEADERS,
                ("Expires", http_date(now)),
                ("X-Request-Id", new_request_id(now)),
                ("Grpc-Metadata-X-Request-Id", new_request_id(now)),
            )
        )
    else:
        resp.set_headers(_HEADERS)
        resp.set_header("Expires", http_date(now))
    if answer.www_authenticate:
        resp.set_header("WWW-Authenticate", answer.www_authenticate)


def _namespace(req: Any, header: Header) -> str:
    """The namespace's name, for the journal: an invalid one is answered in the default's."""
    return _namespace_name(header(req, NAMESPACE_HEADER))


def _namespace_name(value: str | None) -> str:
    if not value:  # most requests
        return DEFAULT_NAMESPACE
    try:
        return Namespaces.name(value)
    except NamespaceError:
        return DEFAULT_NAMESPACE


_AUTHORIZATION_KEY, _ORG_KEY, _NAMESPACE_KEY = _ENVIRON.values()


def _request(req: Any, header: Header, rpc: str, user_id: str | None) -> Request:
    started = time.perf_counter()
    arrived = time.time_ns()
    if header is _wsgi_header:  # read from the environ at once: most requests
        env = req.env
        authorization, org = env.get(_AUTHORIZATION_KEY), env.get(_ORG_KEY)
        namespace, headers = env.get(_NAMESPACE_KEY), wsgi_headers(env)
    else:
        authorization, org = header(req, "Authorization"), header(req, ORG_HEADER)
        namespace, headers = header(req, NAMESPACE_HEADER), asgi_headers(req.headers)
    return Request(
        rpc,
        req.method,
        req.path,
        authorization,
        org or None,
        user_id,
        headers,
        arrived,
        started,
        "rest",
        _namespace_name(namespace) if namespace else DEFAULT_NAMESPACE,
    )


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
        return state, handle(state, _request(req, self.header, self.rpc, user_id))

    def not_allowed(self, req: Any, resp: Any, **params: Any) -> None:
        state = self.resolve(req)
        request = _request(req, self.header, self.rpc, None)
        why = _routing_why(req, True)
        _send(resp, state, routing_error(state, request, known_path=True, why=why))


class _WsgiRoute(_Route):
    def on_post(self, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        state, answer = self.answer(req, params.get("user_id"))
        if answer.injection is not None and not deliver_wsgi(req.env, answer.injection):
            return  # the connection is dropped, not answered
        _send(resp, state, answer)

    def on_options(self, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        self.not_allowed(req, resp)


class _AsgiRoute(_Route):
    async def on_post(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, **params: str
    ) -> None:
        state, answer = self.answer(req, params.get("user_id"))
        if answer.injection is not None:
            await deliver_asgi(answer.injection)
        _send(resp, state, answer)

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
            request = _request(req, header, "", None)
            why = _routing_why(req, known)
            _send(resp, state, routing_error(state, request, known_path=known, why=why))
            return
        code = 8 if error.status_code == 413 else 3
        message = str(error.title or "invalid request")
        _send(resp, state, Answer(error.status_code, error_body(ZError(code, message))))

    return handler


def _crash_handler(resolve: Callable[[Any], State]) -> Any:
    def handler(req: Any, resp: Any, error: Exception, params: Any) -> None:
        state = resolve(req)
        state.record_server_error(traceback.format_exc())
        _send(resp, state, Answer(500, error_body(INTERNAL)))

    return handler


def _async(handler: Any) -> Any:
    async def wrapped(req: Any, resp: Any, error: Any, params: Any, **kwargs: Any) -> None:
        handler(req, resp, error, params)

    return wrapped


def _namespace_error_handler(spaces: Namespaces) -> Any:
    def handler(req: Any, resp: Any, error: NamespaceError, params: Any) -> None:
        _send(resp, spaces.default, Answer(400, error_body(ZError(3, str(error)))))

    return handler


class _ControlLog:
    """Hands each control API call to the default state's observers (the access log).

    The journal records ZITADEL calls only, so that a test's assertions count what its code
    asked; control calls are seen by the observers alone. Nothing is done when none listens.
    ``start`` and ``finish`` are falcon's WSGI middleware methods themselves (every request
    passes them: one call each, a string comparison for all but control calls).
    """

    def __init__(self, spaces: Namespaces, header: Header) -> None:
        self.spaces = spaces
        self.header = header

    def start(self, req: Any, resp: Any) -> None:
        if req.path.startswith(PREFIX) and self.spaces.default.observers:
            req.context.control_started = (time.perf_counter(), time.time_ns())

    def finish(self, req: Any, resp: Any, resource: Any = None, succeeded: bool = True) -> None:
        if not req.path.startswith(PREFIX):
            return
        started = getattr(req.context, "control_started", None)
        if started is None:
            return
        data = resp.data or b""
        call = Call(
            None,
            req.method,
            req.path,
            None,
            None,
            None,
            resp.status_code,
            data,
            why=_control_why(resp.status_code, data),
            time_ns=started[1],
            duration=time.perf_counter() - started[0],
            protocol="control",
            namespace=_namespace(req, self.header),
        )
        for observer in self.spaces.default.observers:
            observer(call)


def _control_why(status: int, body: bytes) -> str:
    """``control API`` and, for a refusal, the message the control API answered."""
    if status < 400:
        return "control API"
    try:
        message = json.loads(body).get("error")
    except (ValueError, AttributeError):
        message = None
    return f"control API: {message}" if isinstance(message, str) else "control API"


class _WsgiControlLog(_ControlLog):
    process_request = _ControlLog.start
    process_response = _ControlLog.finish


class _AsgiControlLog(_ControlLog):
    async def process_request(self, req: Any, resp: Any) -> None:
        self.start(req, resp)

    async def process_response(self, req: Any, resp: Any, resource: Any, succeeded: bool) -> None:
        self.finish(req, resp)


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

    header = _asgi_header if asgi else _wsgi_header

    namespace_key = _ENVIRON[NAMESPACE_HEADER]

    def resolve(req: Any) -> State:
        if asgi:
            return spaces.get(req.get_header(NAMESPACE_HEADER))
        return spaces.get(req.env.get(namespace_key))

    def lenient(req: Any) -> State:
        return spaces.lenient(header(req, NAMESPACE_HEADER))

    # gRPC-web is told apart by its content type on any path, before routing (as ZITADEL does).
    middleware: list[Any] = [AsgiGrpcWeb(spaces) if asgi else WsgiGrpcWeb(spaces)]
    if control:
        log_cls = _AsgiControlLog if asgi else _WsgiControlLog
        middleware.append(log_cls(spaces, header))
    app: Any = falcon.asgi.App(middleware=middleware) if asgi else falcon.App(middleware=middleware)
    route_cls = _AsgiRoute if asgi else _WsgiRoute
    for template, rpc in ROUTES.items():
        app.add_route(template, route_cls(resolve, header, rpc))
    mount_v2(app, resolve, header, _request, _send, _Route, asgi=asgi)  # REST and Connect
    mount_oauth(app, resolve, asgi=asgi)
    if control:
        options = control if isinstance(control, ControlOptions) else ControlOptions()
        mount_control(app, spaces, options, asgi=asgi)
    wrap = _async if asgi else (lambda h: h)
    app.add_error_handler(Exception, wrap(_crash_handler(lenient)))
    app.add_error_handler(falcon.HTTPError, wrap(_http_error_handler(lenient, header)))
    app.add_error_handler(NamespaceError, wrap(_namespace_error_handler(spaces)))
    return app
