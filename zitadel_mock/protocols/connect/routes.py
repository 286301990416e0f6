"""Connect unary over the falcon apps: ``POST /zitadel.user.v2.UserService/<Method>`` and
``POST /zitadel.settings.v2.SettingsService/GetLoginSettings``.

A body is ``application/json`` (protojson; unknown fields ignored) or ``application/proto``.
As connect-go does: the message is decoded before any interceptor, so a body that does not
decode is refused before the auth checks, with no cache headers; an empty JSON body is no JSON
object; an answer carries ``Accept-Encoding: gzip``; ZITADEL's cache headers come with success
only; an error is Connect's JSON (``errors``) with the code's HTTP status, whatever the body's
type. A method of these services that the mock does not serve gets connect-go's 404.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import falcon
import falcon.asgi
from google.protobuf import json_format
from google.protobuf.message import DecodeError

from ...answers import Answer, Request, handle, refused
from ...clock import http_date
from ...codes import ZError
from ...journal import shown
from ...state import State
from ..grpc.messages import (
    METHODS,
    SETTINGS_V2,
    USER_V2,
    Method,
    encode_answer,
    message_class,
    request_args,
)
from ..rest.connection import deliver_asgi, deliver_wsgi
from ..rest.request_ids import REQUEST_IDS
from .errors import error_body, error_status

__all__ = ["MAX_MESSAGE", "SERVICES", "mount_connect"]

SERVICES = (USER_V2, SETTINGS_V2)
# connect-go sets no read limit; the mock stops at grpc-go's default receive limit, 4 MiB,
# compressed or not, so that no request costs more than that.
MAX_MESSAGE = 4 << 20
JSON = "application/json"
PROTO = "application/proto"
EMPTY_JSON = ZError(3, "unmarshal message: zero-length payload is not a valid JSON object")
NOT_FOUND_TEXT = b"404 page not found\n"
_OK_HEADERS = (
    ("Accept-Encoding", "gzip"),
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
    ("X-Robots-Tag", "none"),
)
_ERROR_HEADERS = (("Accept-Encoding", "gzip"), ("X-Robots-Tag", "none"))
# Builds the journal's Request of an HTTP request (the REST app's, so both journal alike).
MakeRequest = Callable[[Any, str, "str | None"], Request]


class _Problem(Exception):
    """A request refused before its RPC runs: the error, and why."""

    def __init__(self, error: ZError, why: str, status: int | None = None) -> None:
        super().__init__(why)
        self.error = error
        self.why = why
        self.status = status  # an HTTP status of its own (415), with an empty body


def _codec(req: Any) -> str:
    media = (req.content_type or "").partition(";")[0].strip().lower()
    if media not in (JSON, PROTO):
        why = f"Content-Type {shown(req.content_type or '')} is neither {JSON} nor {PROTO}"
        raise _Problem(ZError(3, "unsupported content type"), why, 415)
    return media


def _inflate(req: Any, data: bytes) -> bytes:
    encoding = (req.get_header("Content-Encoding") or "identity").strip().lower()
    if encoding == "identity":
        return data
    if encoding != "gzip":
        message = f'unknown compression "{encoding}": supported encodings are gzip'
        raise _Problem(ZError(12, message), f"Content-Encoding {shown(encoding)} is not gzip")
    try:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # 16 +: the gzip format
        out = inflater.decompress(data, MAX_MESSAGE + 1)
    except zlib.error as exc:
        raise _Problem(ZError(3, f"decompress: {exc}"), "the gzip body is not gzip") from None
    if len(out) > MAX_MESSAGE:
        raise _Problem(_too_large(), "the gzip body inflates past 4 MiB")
    return out


def _too_large() -> ZError:
    return ZError(8, f"message size is larger than configured max {MAX_MESSAGE}")


def _decode(method: Method, codec: str, data: bytes) -> Any:
    message = message_class(method.request)()
    if codec == JSON:
        if not data:
            raise _Problem(EMPTY_JSON, "an empty JSON body; a Connect client sends {}")
        try:
            json_format.Parse(data, message, ignore_unknown_fields=True)
        except (json_format.ParseError, UnicodeDecodeError, RecursionError, ValueError) as exc:
            text = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
            raise _Problem(
                ZError(3, f"unmarshal message: {text}"), f"the JSON body is no {method.request}"
            ) from None
        return message
    try:
        message.ParseFromString(data)
    except (DecodeError, RecursionError) as exc:
        raise _Problem(
            ZError(3, f"unmarshal message: {exc}"), f"the binary body is no {method.request}"
        ) from None
    return message


class _Connect:
    """One Connect service: its methods answer POST; other methods are 405, as connect-go."""

    def __init__(
        self, service: str, resolve: Callable[[Any], State], make_request: MakeRequest
    ) -> None:
        self.service = service
        self.resolve = resolve
        self.make_request = make_request

    def answer(self, req: Any, method_name: str, data: bytes | None) -> tuple[State, Any]:
        """The state, and what to send: (Answer, codec, Method) or a ready (status, headers,
        body) for what connect-go refuses itself."""
        state = self.resolve(req)
        method = METHODS.get(f"/{self.service}/{method_name}")
        request = self.make_request(req, method.rpc if method else "", None)
        request = request._replace(protocol="connect")
        if method is None:
            why = f"the mock serves no {shown(method_name)} of {self.service}"
            refused(state, request, ZError(5, "Not Found", status=404), why)
            return state, (404, (("Content-Type", "text/plain; charset=utf-8"),), NOT_FOUND_TEXT)
        try:
            codec = _codec(req)
            if data is None:
                raise _Problem(_too_large(), "the body is larger than 4 MiB")
            message = _decode(method, codec, _inflate(req, data))
        except _Problem as problem:
            answer = refused(state, request, problem.error, problem.why)
            if problem.status is not None:
                headers = (("Accept-Post", f"{JSON}, {PROTO}"),)
                return state, (problem.status, headers, b"")
            return state, (answer, JSON, method)
        user_id, args = request_args(method, message)
        answer = handle(state, request._replace(user_id=user_id, v2=args))
        return state, (answer, codec, method)

    def not_allowed(self, req: Any, resp: Any, **params: Any) -> None:
        state = self.resolve(req)
        request = self.make_request(req, "", None)._replace(protocol="connect")
        why = f"Connect takes POST, not {shown(req.method)}: POST {req.path}"
        refused(state, request, ZError(12, "Method Not Allowed", status=405), why)
        resp.status = 405
        resp.set_header("Allow", "POST")
        resp.data = b""


def _send(resp: Any, state: State, outcome: Any) -> None:
    if not isinstance(outcome[0], Answer):
        status, headers, body = outcome
        resp.status = status
        resp.set_headers(headers)
        resp.data = body
        return
    answer, codec, method = outcome
    now = state.now_ns()
    error = answer.error
    if error is None and answer.status == 200:
        resp.status = 200
        if codec == PROTO:
            whole = encode_answer(method, answer.intact or answer.body)
            # A malformed_body fault: the binary message, cut as REST's JSON is.
            resp.data = whole[: len(whole) // 2] if answer.intact is not None else whole
        else:
            resp.data = answer.body
        resp.set_headers((("Content-Type", codec), *_OK_HEADERS, ("Expires", http_date(now))))
    else:
        error = error or ZError(13, "An internal error occurred")
        resp.status = error_status(error)
        resp.data = error_body(error)
        resp.set_headers((("Content-Type", JSON), *_ERROR_HEADERS))
    if state.view.request_ids:
        resp.set_header("X-Request-Id", REQUEST_IDS.new(now))


def _read_wsgi(req: falcon.Request) -> bytes | None:
    data: bytes = req.bounded_stream.read(MAX_MESSAGE + 1)
    return data if len(data) <= MAX_MESSAGE else None


class _WsgiConnect(_Connect):
    def on_post(self, req: falcon.Request, resp: falcon.Response, method: str) -> None:
        state, outcome = self.answer(req, method, _read_wsgi(req))
        answer = outcome[0]
        injection = answer.injection if isinstance(answer, Answer) else None
        if injection is not None and not deliver_wsgi(req.env, injection):
            return  # the connection is dropped, not answered
        _send(resp, state, outcome)

    on_get = on_put = on_patch = on_delete = on_options = on_head = _Connect.not_allowed


class _AsgiConnect(_Connect):
    async def on_post(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, method: str
    ) -> None:
        data: bytes = await req.stream.read(MAX_MESSAGE + 1)
        state, outcome = self.answer(req, method, data if len(data) <= MAX_MESSAGE else None)
        answer = outcome[0]
        if isinstance(answer, Answer) and answer.injection is not None:
            await deliver_asgi(answer.injection)
        _send(resp, state, outcome)

    async def _not_allowed(self, req: Any, resp: Any, **params: Any) -> None:
        self.not_allowed(req, resp)

    on_get = on_put = on_patch = on_delete = on_options = on_head = _not_allowed


def mount_connect(
    app: Any, resolve: Callable[[Any], State], make_request: MakeRequest, *, asgi: bool
) -> None:
    """Add the Connect routes of the v2 services to a falcon app."""
    cls = _AsgiConnect if asgi else _WsgiConnect
    for service in SERVICES:
        app.add_route(f"/{service}/{{method}}", cls(service, resolve, make_request))
