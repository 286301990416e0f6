"""One unary gRPC call, whatever carries it (native gRPC or gRPC-web): from the request's path,
metadata and body to ZITADEL's answer, as grpc-go's server decides it.

The order is grpc-go's: the method is looked up, the message unframed and decoded (failures
there come before any interceptor: no cache headers, no auth check), then ZITADEL's
interceptors and handler (``answers.handle``: auth checks, validation, the answer). The
transports frame the ``Reply`` and carry out its injection (a delay, a hold, a fault).
"""

from __future__ import annotations

import difflib
import gzip
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...answers import Request, handle, refused
from ...clock import http_date
from ...codes import ZError
from ...faults import SOCKET_FAULTS, Injection
from ...journal import shortened_authorization, shown
from ...namespaces import NAMESPACE_HEADER, NamespaceError, Namespaces
from ...state import State
from ..rest.request_ids import REQUEST_IDS
from .messages import (
    MANAGEMENT,
    METHODS,
    SERVICES,
    DecodeError,
    Method,
    decode_request,
    encode_answer,
    request_args,
)

__all__ = ["MAX_RECEIVE", "Incoming", "Reply", "unary", "zitadel_metadata"]

MAX_RECEIVE = 4 * 1024 * 1024  # grpc-go's default receive limit; ZITADEL sets none
ROBOTS = ("x-robots-tag", "none")  # router-wide: on every answer, failures before auth too
_NAMESPACE = NAMESPACE_HEADER.lower()


@dataclass(frozen=True)
class Incoming:
    """A gRPC request as a transport received it; metadata keys in lower case, first values."""

    path: str
    metadata: Mapping[str, str]
    body: bytes
    protocol: str  # "grpc" or "grpc-web", for the journal
    arrived_ns: int = field(default_factory=time.time_ns)
    started: float = field(default_factory=time.perf_counter)


@dataclass(frozen=True)
class Reply:
    """What to send: headers, then the message (success) or the error's status.

    ``headers`` are ZITADEL's (cache, request id, robots); ``cut``: a malformed_body fault, the
    message is to be sent truncated.
    """

    headers: list[tuple[str, str]]
    message: bytes | None = None
    error: ZError | None = None
    injection: Injection | None = None
    cut: bool = False


def zitadel_metadata(
    state: State, *, connect: bool = False, ok: bool = True
) -> list[tuple[str, str]]:
    """The headers ZITADEL's NoCache (and, from 4.13.0, RequestDetails) interceptors set.

    On grpc-go (v1), NoCache adds each header twice, the second time prefixed
    ``grpc-metadata-`` for the gateway, success or error; on connect-go (v2) once, on success.
    """
    now = state.now_ns()
    expires = http_date(now)
    headers = []
    if ok or not connect:
        headers += [("cache-control", "no-store"), ("expires", expires), ("pragma", "no-cache")]
    if not connect:
        headers += [
            ("grpc-metadata-cache-control", "no-store"),
            ("grpc-metadata-expires", expires),
            ("grpc-metadata-pragma", "no-cache"),
        ]
    if state.view.request_ids:
        headers.append(("x-request-id", REQUEST_IDS.new(now)))
    headers.append(ROBOTS)
    return headers


def _journal_headers(metadata: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name, shortened_authorization(value) if name == "authorization" else value)
        for name, value in metadata.items()
        if not name.startswith(":")
    )


class _Refused(Exception):
    """A call grpc-go refuses before any interceptor runs: its error, and why."""

    def __init__(self, error: ZError, why: str) -> None:
        super().__init__(why)
        self.error = error
        self.why = why


def _method(path: str) -> Method:
    """The method a path names; refused as grpc-go refuses it, with the nearest method."""
    method = METHODS.get(path)
    if method is not None:
        return method
    name = path[1:] if path.startswith("/") else path
    service, slash, rpc = name.rpartition("/")
    if not slash:
        error = ZError(12, f"malformed method name: {path!r}".replace("'", '"'))
    elif service in SERVICES:
        error = ZError(12, f"unknown method {rpc} for service {service}")
    else:
        error = ZError(12, f"unknown service {service}")
    nearest = difflib.get_close_matches(path[:300], list(METHODS), n=1, cutoff=0.0)
    raise _Refused(error, f"no such gRPC method {shown(path)}; did you mean {nearest[0]}?")


def _unframe(body: bytes, encoding: str | None) -> bytes:
    """The message of a length-prefixed gRPC frame; refused as grpc-go refuses a bad one."""
    if encoding not in (None, "", "identity", "gzip"):
        error = ZError(12, f'grpc: Decompressor is not installed for grpc-encoding "{encoding}"')
        raise _Refused(error, f"the request is compressed with {shown(encoding)}")
    if len(body) < 5:
        text = "EOF" if not body else "unexpected EOF"
        raise _Refused(ZError(2, text), "the request has no complete gRPC message frame")
    flag, length = body[0], int.from_bytes(body[1:5], "big")
    if length > MAX_RECEIVE:
        error = ZError(8, f"grpc: received message larger than max ({length} vs. {MAX_RECEIVE})")
        raise _Refused(error, f"the request message has {length} bytes, over the 4 MiB limit")
    payload = body[5 : 5 + length]
    if len(payload) < length:
        why = f"the frame announces {length} bytes and carries {len(payload)}"
        raise _Refused(ZError(2, "unexpected EOF"), why)
    if flag == 0:
        return payload
    if flag != 1:
        error = ZError(13, f"grpc: received unexpected payload format {flag}")
        raise _Refused(error, f"the frame's flag byte is {flag}")
    if encoding in (None, "", "identity"):
        error = ZError(13, "grpc: compressed flag set with identity or empty encoding")
        raise _Refused(error, "the frame is flagged compressed, with no grpc-encoding")
    try:
        inflater = zlib.decompressobj(wbits=31)  # gzip, bounded like the receive limit
        message = inflater.decompress(payload, MAX_RECEIVE + 1)
    except (zlib.error, gzip.BadGzipFile) as exc:
        error = ZError(13, f"grpc: failed to decompress the received message: {exc}")
        raise _Refused(error, "the gzip message does not decompress") from None
    if len(message) > MAX_RECEIVE:
        text = f"grpc: received message after decompression larger than max ({MAX_RECEIVE})"
        raise _Refused(ZError(8, text), "the message decompresses to more than 4 MiB")
    return message


def _decode(method: Method, payload: bytes) -> Any:
    try:
        return decode_request(method, payload)
    except DecodeError:
        error = ZError(
            13, "grpc: error unmarshalling request: proto: cannot parse invalid wire-format data"
        )
        raise _Refused(error, f"the {method.name} request is no valid protobuf message") from None


def unary(spaces: Namespaces, call: Incoming) -> Reply:
    """Answer one unary call, recording it in its namespace's journal."""
    metadata = call.metadata
    try:
        state = spaces.get(metadata.get(_NAMESPACE))
    except NamespaceError as exc:
        return Reply([ROBOTS], error=ZError(3, str(exc)))
    known = METHODS.get(call.path)
    request = Request(
        rpc=known.rpc if known is not None else "",
        method="POST",
        path=call.path,
        authorization=metadata.get("authorization"),
        org_header=metadata.get("x-zitadel-orgid") or None,
        headers=_journal_headers(metadata),
        arrived_ns=call.arrived_ns,
        started=call.started,
        protocol=call.protocol,
        namespace=Namespaces.name(metadata.get(_NAMESPACE)),
    )
    try:
        method = _method(call.path)
        message = _decode(method, _unframe(call.body, metadata.get("grpc-encoding")))
    except _Refused as refusal:
        refused(state, request, refusal.error, refusal.why)
        return Reply([ROBOTS], error=refusal.error)
    user_id, args = request_args(method, message)
    answer = handle(state, request._replace(user_id=user_id, v2=args))
    connect = method.service != MANAGEMENT  # the v2 services run on connect-go
    headers = zitadel_metadata(state, connect=connect, ok=answer.error is None)
    injection = answer.injection
    if injection is not None and injection.fault in SOCKET_FAULTS:
        return Reply(headers, injection=injection)  # nothing is sent
    if answer.error is not None:
        return Reply(headers, error=answer.error, injection=answer.injection)
    body = encode_answer(method, answer.intact if answer.intact is not None else answer.body)
    return Reply(headers, body, injection=answer.injection, cut=answer.intact is not None)
