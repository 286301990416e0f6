"""gRPC-web (binary and text), as improbable-eng's grpc-web wrapper frames grpc-go's answers.

ZITADEL routes here every POST whose content type starts with ``application/grpc-web``, and
every CORS preflight that asks for ``x-grpc-web``, on any path, over HTTP/1.1 or HTTP/2. Served
as middleware of the falcon app, before its routes.

A success is HTTP 200, ZITADEL's headers, one data frame and one trailer frame
(``0x80``, a 4-byte length, ``grpc-status: 0\\r\\n``); an error is trailers-only: the status in
the HTTP headers and an empty body. Text mode base64-decodes the request and encodes each
flushed part of the answer on its own (the data frame, then the trailer frame), padded.

Faults, as for REST over the same connection: ``connection_reset``, ``empty_response`` and
``random_data_then_close`` drop the connection; ``malformed_body`` sends a data frame cut in
half and no trailer frame; ``timeout`` holds the call. ``grpc-timeout`` is honoured: an answer
still waiting when it passes is DEADLINE_EXCEEDED.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ...codes import ZError
from ...faults import Injection
from ...namespaces import Namespaces
from ..rest.connection import deliver_asgi, deliver_wsgi
from .calls import Incoming, Reply, unary
from .native import DEADLINE_EXCEEDED, frame, parse_timeout
from .status import status_fields

__all__ = ["AsgiGrpcWeb", "WsgiGrpcWeb", "is_grpc_web"]

GRPC_WEB = "application/grpc-web"
# The grpc-web wrapper's CORS request headers, as ZITADEL configures them (and the mock's own).
ALLOWED_HEADERS = frozenset(
    {
        "origin",
        "content-type",
        "accept",
        "accept-language",
        "authorization",
        "x-zitadel-orgid",
        "x-user-agent",
        "x-grpc-web",
        "u-a",
        "grpc-timeout",
        "x-mock-namespace",
    }
)
_BASE64_PART = re.compile(rb"[A-Za-z0-9+/]*={0,2}")


def is_grpc_web(method: str, content_type: str) -> bool:
    return method == "POST" and content_type.startswith(GRPC_WEB)


def _canonical(name: str) -> str:
    """Go's canonical header key: ``x-request-id`` -> ``X-Request-Id``."""
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def _decode_text(body: bytes) -> bytes | None:
    """The bytes of a text-mode body: base64 parts, each padded, one after another."""
    data = b"".join(body.split())
    out = bytearray()
    at = 0
    while at < len(data):
        match = _BASE64_PART.match(data, at)
        if match is None or match.end() == at:
            return None
        try:
            out += base64.b64decode(match.group(), validate=True)
        except (binascii.Error, ValueError):
            return None
        at = match.end()
    return bytes(out)


def _trailer_frame(fields: list[tuple[str, str]]) -> bytes:
    block = "".join(f"{name}: {value}\r\n" for name, value in fields).encode("latin-1")
    return b"\x80" + len(block).to_bytes(4, "big") + block


class _Answer:
    """What a gRPC-web request gets: decided first, then waited for, then written."""

    def __init__(
        self, spaces: Namespaces, path: str, headers: Mapping[str, str], body: bytes
    ) -> None:
        self.content_type = headers.get("content-type", GRPC_WEB)
        self.text = self.content_type.startswith(GRPC_WEB + "-text")
        self.origin = headers.get("origin")
        self.deadline = None
        timeout = headers.get("grpc-timeout")
        if timeout is not None:
            self.deadline = parse_timeout(timeout)
        arrived, started = time.time_ns(), time.perf_counter()
        payload = _decode_text(body) if self.text else body
        if payload is None:
            error = ZError(13, "grpc: error while receiving message: illegal base64 data")
            self.reply = Reply([("x-robots-tag", "none")], error=error)
        else:
            incoming = Incoming(path, headers, payload, "grpc-web", arrived, started)
            self.reply = unary(spaces, incoming)
        self.wait = self._wait()

    def _wait(self) -> Injection | None:
        """What to wait for before answering (a delay, a hold), cut short by grpc-timeout."""
        injection = self.reply.injection
        if injection is None:
            return None
        hold = (injection.hold or 0.0) if injection.fault == "timeout" else 0.0
        if self.deadline is not None and self.deadline < injection.delay + hold:
            self.reply = replace(self.reply, error=DEADLINE_EXCEEDED, cut=False)
            return Injection(delay=self.deadline)
        return injection

    def headers(self) -> list[tuple[str, str]]:
        reply = self.reply
        out = [("Content-Type", self.content_type)]
        out += [(_canonical(name), value) for name, value in reply.headers]
        if reply.error is not None:
            out += [(_canonical(name), value) for name, value in status_fields(reply.error)]
        exposed = [name for name, _ in out] + ["grpc-status", "grpc-message"]
        out.append(("Access-Control-Expose-Headers", ", ".join(exposed)))
        if self.origin:
            out += [
                ("Access-Control-Allow-Origin", self.origin),
                ("Access-Control-Allow-Credentials", "true"),
                ("Vary", "Origin"),
            ]
        return out

    def body(self) -> bytes:
        reply = self.reply
        if reply.error is not None or reply.message is None:
            return b""
        data = frame(reply.message)
        if reply.cut:
            parts = [data[: 5 + len(reply.message) // 2]]
        else:
            parts = [data, _trailer_frame(status_fields(None))]
        if self.text:
            return b"".join(base64.b64encode(part) for part in parts)
        return b"".join(parts)


def _preflight(headers: Mapping[str, str]) -> tuple[int, list[tuple[str, str]]]:
    """rs/cors's answer to a preflight: 204, with CORS headers only if all is allowed."""
    origin = headers.get("origin", "")
    method = headers.get("access-control-request-method", "").upper()
    requested = headers.get("access-control-request-headers", "")
    names = [n.strip().lower() for n in requested.split(",") if n.strip()]
    out = [("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")]
    if origin and method == "POST" and all(n in ALLOWED_HEADERS for n in names):
        out += [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Methods", method),
            ("Access-Control-Allow-Headers", requested),
            ("Access-Control-Allow-Credentials", "true"),
            ("Access-Control-Max-Age", "600"),
        ]
    return 204, out


def _is_preflight(method: str, headers: Mapping[str, str]) -> bool:
    requested = headers.get("access-control-request-headers", "")
    return method == "OPTIONS" and "x-grpc-web" in requested.lower()


def _wsgi_headers(env: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in env.items():
        if key.startswith("HTTP_"):
            out[key[5:].lower().replace("_", "-")] = value
    if "CONTENT_TYPE" in env:
        out["content-type"] = env["CONTENT_TYPE"]
    return out


class WsgiGrpcWeb:
    """Falcon (WSGI) middleware answering gRPC-web before the routes see the request."""

    def __init__(self, spaces: Namespaces) -> None:
        self.spaces = spaces

    def process_request(self, req: Any, resp: Any) -> None:
        env = req.env
        method = env["REQUEST_METHOD"]
        if method == "POST":
            if not env.get("CONTENT_TYPE", "").startswith(GRPC_WEB):
                return
        elif method != "OPTIONS" or "HTTP_ACCESS_CONTROL_REQUEST_HEADERS" not in env:
            return
        headers = _wsgi_headers(env)
        if method == "OPTIONS":
            if _is_preflight(method, headers):
                resp.status, preflight = _preflight(headers)
                resp.set_headers(preflight)
                resp.complete = True
            return
        resp.complete = True
        answer = _Answer(self.spaces, env.get("PATH_INFO", ""), headers, req.bounded_stream.read())
        if answer.wait is not None and not deliver_wsgi(env, answer.wait):
            return  # the connection is dropped, not answered
        resp.status = 200
        resp.set_headers(answer.headers())
        resp.data = answer.body()


class AsgiGrpcWeb(WsgiGrpcWeb):
    """The same for the ASGI app (no socket: the connection faults are refused there)."""

    async def process_request(self, req: Any, resp: Any) -> None:  # type: ignore[override]
        headers = {name.lower(): value for name, value in req.headers.items()}
        method = req.method
        if _is_preflight(method, headers):
            resp.status, preflight = _preflight(headers)
            resp.set_headers(preflight)
            resp.complete = True
            return
        if not is_grpc_web(method, headers.get("content-type", "")):
            return
        resp.complete = True
        answer = _Answer(self.spaces, req.path, headers, await req.stream.read())
        if answer.wait is not None:
            await deliver_asgi(answer.wait)
        resp.status = 200
        resp.set_headers(answer.headers())
        resp.data = answer.body()
