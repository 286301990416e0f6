"""The control API under ``/_mock/``: steer a running mock over HTTP, from any language.

No ZITADEL route starts with ``/_mock``, so the prefix can never hide one. Whether the API is
mounted is decided by ``decide_control`` from the address the server listens on: on by default
on a loopback address only; anywhere else only with a token, which every control request must
then carry (``Authorization: Bearer TOKEN`` or ``X-Mock-Token: TOKEN``).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import threading
import traceback
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import falcon
import falcon.constants

from ..namespaces import NAMESPACE_HEADER, NamespaceError, Namespaces
from ..protocols.rest.connection import WIRE_KEY
from ..usage import UsageTracker
from .forms import ControlError, ControlRequest, Operation, Reply
from .openapi import openapi_document
from .ops import OPERATIONS, install_scenario, read_scenario, replace_scenario
from .page import PAGE_FILTERS, authorization_token, page_json, serve_page

__all__ = [
    "PREFIX",
    "TOKEN_HEADER",
    "ControlDecision",
    "ControlOptions",
    "decide_control",
    "is_loopback",
    "mount_control",
    "token_problem",
]

PREFIX = "/_mock"
TOKEN_HEADER = "X-Mock-Token"
MAX_BODY = 64 * 1024 * 1024  # a large scenario fits; a runaway upload does not
_POLL = 0.05  # how often a request waiting for a long operation looks at the server's stop
BUSY = "another PUT /_mock/scenario is being carried out; send this one again once it is answered"
STOPPING = "the server is stopping"


@dataclass(frozen=True)
class ControlOptions:
    """How the control API is served: ``token``, if set, is required on every request."""

    token: str | None = None


@dataclass(frozen=True)
class ControlDecision:
    """Whether the control API is on (``options``) and why, in words for a log line."""

    options: ControlOptions | None
    reason: str

    @property
    def enabled(self) -> bool:
        return self.options is not None


def is_loopback(host: str) -> bool:
    """Tell whether ``host`` (a numeric address, or ``localhost``) is a loopback address."""
    name = host.strip().strip("[]")
    if name.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False  # another name: it may resolve to anything, so it is not trusted
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def decide_control(host: str, *, enabled: bool = True, token: str | None = None) -> ControlDecision:
    """Decide whether a server listening on ``host`` serves the control API.

    Off when not ``enabled`` (``--no-control``). With a token: on, and the token is required.
    Without one: on for a loopback address only, since anyone who can reach the server could
    otherwise change what it answers.
    """
    if not enabled:
        return ControlDecision(None, "control API off (--no-control)")
    if token:
        return ControlDecision(ControlOptions(token), "control API on; the token is required")
    if is_loopback(host):
        return ControlDecision(ControlOptions(), f"control API on ({host} is a loopback address)")
    return ControlDecision(
        None,
        f"control API off: {host} is not a loopback address; "
        "give --control-token TOKEN to serve it with a token",
    )


def _token_bytes(token: str) -> bytes:
    """The bytes a client sends for ``token``: its UTF-8 form.

    A token read from the command line or the environment holds any byte that is not UTF-8 as
    a lone surrogate (Python's ``surrogateescape``): written back, it is that byte again.
    """
    return token.encode("utf-8", "surrogateescape")


def token_problem(token: str) -> str | None:
    """Why ``token`` could never be sent in a header (so never match), or None if it can be.

    Any text is fine, non-ASCII included (sent as UTF-8); not an empty one, nor one with a
    control character (a header cannot carry CR, LF or NUL) or with spaces at either end (a
    header's value is read without them).
    """
    if not token.strip():
        return "the token is empty"
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in token):
        return "the token holds a control character, which no header can carry"
    if token != token.strip(" "):
        return "the token starts or ends with a space, which a header value loses"
    try:
        _token_bytes(token)
    except UnicodeEncodeError:
        return "the token is not valid text: it has a lone surrogate"
    return None


def _header_bytes(value: str) -> bytes:
    """The bytes a header value was sent as.

    WSGI (PEP 3333) and falcon's ASGI request both give a header value as its bytes decoded as
    latin-1, whatever they were: encoding back gives them again (a UTF-8 token's, say).
    """
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:  # not from the wire (a test's own environ): take it as text
        return value.encode("utf-8", "surrogateescape")


def _token_matches(req: Any, token: str) -> bool:
    given = req.get_header(TOKEN_HEADER)
    if given is None:
        given = authorization_token(req.get_header("Authorization") or "")
    if given is None:
        return False
    # Bytes against bytes, in constant time, as sent on the wire: the token in UTF-8 (curl, Go,
    # browsers), or in latin-1 when all of it fits there (Python's http.client, so requests,
    # sends a str that way). Both are compared always, so the time tells neither.
    sent = _header_bytes(given)
    utf8 = hmac.compare_digest(sent, _token_bytes(token))
    try:
        latin1 = hmac.compare_digest(sent, token.encode("latin-1"))
    except UnicodeEncodeError:
        latin1 = False
    return utf8 or latin1


def _send(resp: Any, reply: Reply, namespace: str | None = None) -> None:
    resp.status = reply.status
    resp.content_type = "application/json"
    resp.data = (json.dumps(reply.body, indent=2, ensure_ascii=False) + "\n").encode()
    resp.set_header("Cache-Control", "no-store")
    if namespace is not None:
        resp.set_header(NAMESPACE_HEADER, namespace)
    if reply.status == 401:
        resp.set_header("WWW-Authenticate", 'Bearer realm="zitadel-mock control API"')


class _Control:
    """What the WSGI and ASGI resources share: checks, dispatch and error answers."""

    def __init__(self, namespaces: Namespaces, options: ControlOptions) -> None:
        self.namespaces = namespaces
        self.options = options
        # At most one long operation (PUT /scenario) at a time: each may hold a whole scenario
        # being built, in time and memory; a second one meanwhile is answered 429 at once.
        self._long = threading.Lock()

    def refused(self, req: Any) -> Reply | None:
        """A 401 if a token is required and the request does not carry it."""
        if self.options.token is None or _token_matches(req, self.options.token):
            return None
        return Reply(
            401,
            {
                "error": "the control API needs its token: send 'Authorization: Bearer TOKEN' "
                f"or '{TOKEN_HEADER}: TOKEN'"
            },
        )

    def too_large(self, req: Any, body: bytes = b"") -> Reply | None:
        """A 413 if the body is (or says it will be) larger than MAX_BODY."""
        if (req.content_length or 0) > MAX_BODY or len(body) > MAX_BODY:
            return Reply(413, {"error": f"the body is larger than {MAX_BODY} bytes"})
        return None

    def run(
        self,
        req: Any,
        op: Operation | None,
        allow: str,
        body: bytes,
        params: dict[str, str],
        stopping: threading.Event | None = None,
    ) -> tuple[Reply, str | None]:
        """Answer a control request (already let in); returns the reply and its namespace.

        ``stopping`` (under waitress: the server's stop) lets a long operation be built on a
        thread of its own and given up, answered 503, when the server stops meanwhile.
        """
        if op is None:
            message = f"{req.method} is not allowed on {req.path}; allowed: {allow}"
            return Reply(405, {"error": message}), None
        too_large = self.too_large(req, body)
        if too_large is not None:
            return too_large, None
        try:
            name = self.namespaces.name(req.get_header(NAMESPACE_HEADER))
        except NamespaceError as exc:
            return Reply(400, {"error": str(exc)}), None
        query = parse_qs(req.query_string, keep_blank_values=True)
        unknown = sorted(set(query) - set(op.query))
        if unknown:
            expected = ", ".join(op.query) or "none"
            message = f"unknown query parameter {unknown[0]!r}; expected: {expected}"
            return Reply(400, {"error": message}), name
        request = ControlRequest(self.namespaces, name, params, query, body, req.content_type or "")
        try:
            if op.handler is replace_scenario:
                return self._long_operation(request, stopping), name
            return op.handler(request), name
        except ControlError as exc:
            return Reply(exc.status, exc.body()), name
        except Exception:
            # A bug in the mock: keep the traceback where tests look for it, answer 500.
            self.namespaces.default.record_server_error(traceback.format_exc())
            return Reply(500, {"error": "an exception was raised inside zitadel-mock"}), name

    def _long_operation(self, request: ControlRequest, stopping: threading.Event | None) -> Reply:
        """PUT /scenario: one at a time; read and checked apart, then swapped in at once."""
        if not self._long.acquire(blocking=False):
            raise ControlError(429, BUSY)
        try:
            if stopping is None:
                return replace_scenario(request)
            scenario = _apart(lambda: read_scenario(request), stopping)
            if scenario is None:
                return Reply(503, {"error": STOPPING})
            return install_scenario(request, scenario)
        finally:
            self._long.release()

    def not_found(self, req: Any, resp: Any) -> None:
        refused = self.refused(req)
        if refused is not None:
            _send(resp, refused)
            return
        message = f"no control route {req.path}; see {PREFIX}/openapi.json"
        _send(resp, Reply(404, {"error": message}))


def _apart(work: Any, stopping: threading.Event) -> Any:
    """Run ``work`` on a thread of its own; its result, or None if the server stops first.

    The serving thread is free meanwhile (the request was handed to a worker: see
    ``_waitress.loop.InlineDispatcher``); a server that stops does not wait for ``work`` to end.
    """
    done = threading.Event()
    box: list[Any] = []

    def run() -> None:
        try:
            box.append((True, work()))
        except BaseException as exc:  # handed to the waiting request, raised there
            box.append((False, exc))
        finally:
            done.set()

    threading.Thread(target=run, name="zitadel-mock-control", daemon=True).start()
    while not done.wait(_POLL):
        if stopping.is_set():
            return None
    ok, value = box[0]
    if not ok:
        raise value
    return value


_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _finish(resp: Any, reply: Reply, namespace: str | None, allow: str) -> None:
    if reply.status == 405:
        resp.set_header("Allow", allow)
    _send(resp, reply, namespace)


def _route(control: _Control, table: _Table, req: Any, resp: Any) -> Any:
    """The route's (ops, allow, params); None when answered here: the page, a 404, a refusal."""
    if serve_page(req, resp, PREFIX, control.refused):
        return None
    found = table.find(req.path)
    if found is None:
        control.not_found(req, resp)
        return None
    refused = control.refused(req) or control.too_large(req)
    if refused is not None:
        _send(resp, refused)
        return None
    return found


def _wsgi_sink(control: _Control, table: _Table) -> Any:
    def sink(req: falcon.Request, resp: falcon.Response, **kwargs: Any) -> None:
        found = _route(control, table, req, resp)
        if found is None:
            return
        ops, allow, params = found
        body = req.bounded_stream.read(MAX_BODY + 1) if req.method in _WITH_BODY else b""
        wire = req.env.get(WIRE_KEY)
        stopping = wire.stopping if wire is not None else None
        reply = control.run(req, ops.get(req.method), allow, body, params, stopping)
        _finish(resp, *reply, allow)

    return sink


def _asgi_sink(control: _Control, table: _Table) -> Any:
    async def sink(req: Any, resp: Any, **kwargs: Any) -> None:
        found = _route(control, table, req, resp)
        if found is None:
            return
        ops, allow, params = found
        body = await req.stream.read(MAX_BODY + 1) if req.method in _WITH_BODY else b""
        _finish(resp, *control.run(req, ops.get(req.method), allow, body, params), allow)

    return sink


class _Table:
    """The control routes, matched segment by segment (``{name}`` takes one whole segment).

    Kept out of falcon's router on purpose: adding a route there checks every responder and
    the router is compiled on the first request, which made each server's start several
    milliseconds slower, while most servers never receive a control request.
    """

    def __init__(self, table: dict[str, dict[str, Operation]]) -> None:
        self.routes = [
            (template.split("/"), ops, ", ".join(sorted(ops))) for template, ops in table.items()
        ]

    def find(self, path: str) -> tuple[dict[str, Operation], str, dict[str, str]] | None:
        segments = path.split("/")
        for parts, ops, allow in self.routes:
            if len(parts) != len(segments):
                continue
            params: dict[str, str] = {}
            for part, segment in zip(parts, segments, strict=True):
                if part.startswith("{"):
                    if not segment:
                        break
                    params[part[1:-1]] = segment
                elif part != segment:
                    break
            else:
                return ops, allow, params
        return None


def _openapi(request: ControlRequest) -> Reply:
    return Reply(200, openapi_document(PREFIX))


def routes() -> dict[str, dict[str, Operation]]:
    """Every control route (full path template) with its operations by method."""
    table: dict[str, dict[str, Operation]] = {}
    for op in (
        *OPERATIONS,
        Operation("GET", "", _openapi),
        Operation("GET", "/", _openapi),
        Operation("GET", "/openapi.json", _openapi),
        # What the live page (GET /_mock/ from a browser) polls: read-only, bounded.
        Operation("GET", "/page.json", page_json, PAGE_FILTERS),
    ):
        table.setdefault(PREFIX + op.route, {})[op.method] = op
    return table


def mount_control(app: Any, namespaces: Namespaces, options: ControlOptions, *, asgi: bool) -> None:
    """Serve the control API under the prefix; unknown paths under it get a JSON 404."""
    control = _Control(namespaces, options)
    UsageTracker.install(namespaces)  # GET /usage counts every call from the start
    make = _asgi_sink if asgi else _wsgi_sink
    app.add_sink(make(control, _Table(routes())), rf"{PREFIX}(/|$)")
