"""The falcon apps (WSGI and ASGI): thin HTTP layers over ``answers``."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

import falcon
import falcon.asgi

from ...answers import Answer, Request, handle, routing_error
from ...clock import http_date
from ...codes import ZError
from ...control.http import ControlOptions, mount_control
from ...errors import ScenarioError
from ...model import LIST_AUTH_FACTORS, LIST_SECOND_FACTORS, Scenario
from ...namespaces import NAMESPACE_HEADER, NamespaceError, Namespaces
from ...state import State
from .connection import deliver_asgi, deliver_wsgi
from .protojson import FIXED_HEADERS, error_body
from .request_ids import REQUEST_IDS

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


def _request(req: Any, header: Header, rpc: str, user_id: str | None) -> Request:
    return Request(
        rpc=rpc,
        method=req.method,
        path=req.path,
        authorization=header(req, "Authorization"),
        org_header=header(req, ORG_HEADER) or None,
        user_id=user_id,
    )


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
        _send(resp, state, routing_error(state, req.method, req.path, known_path=True))


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


def _http_error_handler(resolve: Callable[[Any], State]) -> Any:
    def handler(req: Any, resp: Any, error: falcon.HTTPError, params: Any) -> None:
        state = resolve(req)
        if error.status_code in (404, 405) or "Invalid HTTP method" in str(error.description):
            # Falcon answers an unknown method on a route with 400; the gateway with 405.
            known = req.uri_template is not None
            _send(resp, state, routing_error(state, req.method, req.path, known_path=known))
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

    def resolve(req: Any) -> State:
        return spaces.get(header(req, NAMESPACE_HEADER))

    def lenient(req: Any) -> State:
        return spaces.lenient(header(req, NAMESPACE_HEADER))

    app: Any = falcon.asgi.App() if asgi else falcon.App()
    route_cls = _AsgiRoute if asgi else _WsgiRoute
    for template, rpc in ROUTES.items():
        app.add_route(template, route_cls(resolve, header, rpc))
    if control:
        options = control if isinstance(control, ControlOptions) else ControlOptions()
        mount_control(app, spaces, options, asgi=asgi)
    wrap = _async if asgi else (lambda h: h)
    app.add_error_handler(Exception, wrap(_crash_handler(lenient)))
    app.add_error_handler(falcon.HTTPError, wrap(_http_error_handler(lenient)))
    app.add_error_handler(NamespaceError, wrap(_namespace_error_handler(spaces)))
    return app
