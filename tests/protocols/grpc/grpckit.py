"""The gRPC tests' helpers: messages, frames, a grpcio stub, a raw HTTP/2 client that sees frames.

(Not in conftest: another test folder's conftest is imported under the same name.)
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any

import grpc
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import (
    ConnectionTerminated,
    DataReceived,
    ResponseReceived,
    StreamEnded,
    StreamReset,
    TrailersReceived,
)

from zitadel_mock.protocols.grpc.messages import message_class

SERVICE = "/zitadel.management.v1.ManagementService/"
AUTH_FACTORS = SERVICE + "ListHumanAuthFactors"
SECOND_FACTORS = SERVICE + "ListLoginPolicySecondFactors"


def message(name: str, **fields: Any) -> Any:
    return message_class(name)(**fields)


def auth_factors_request(user_id: str) -> bytes:
    data: bytes = message(
        "zitadel.management.v1.ListHumanAuthFactorsRequest", user_id=user_id
    ).SerializeToString()
    return data


def framed(payload: bytes, flag: int = 0) -> bytes:
    return bytes([flag]) + len(payload).to_bytes(4, "big") + payload


def stub(channel: grpc.Channel, path: str) -> Any:
    response = {
        AUTH_FACTORS: "zitadel.management.v1.ListHumanAuthFactorsResponse",
        SECOND_FACTORS: "zitadel.management.v1.ListLoginPolicySecondFactorsResponse",
    }.get(path, "zitadel.management.v1.ListHumanAuthFactorsResponse")
    return channel.unary_unary(
        path,
        request_serializer=lambda m: m if isinstance(m, bytes) else m.SerializeToString(),
        response_deserializer=message_class(response).FromString,
    )


@dataclass
class Exchange:
    """What one raw HTTP/2 request got, frame by frame."""

    headers: list[tuple[str, str]] = field(default_factory=list)
    headers_ended_stream: bool = False
    data: bytes = b""
    trailers: list[tuple[str, str]] | None = None
    ended: bool = False
    reset: int | None = None
    terminated: bool = False
    closed: bool = False  # the connection ended (EOF or reset)
    raw_tail: bytes = b""  # bytes the h2 state machine could not read (noise)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)

    def trailer(self, name: str) -> str | None:
        return next((v for k, v in self.trailers or () if k == name), None)


class RawH2:
    """A cleartext HTTP/2 client by prior knowledge, that records what each frame carried."""

    def __init__(self, url: str, *, upgrade: bool = False) -> None:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        self.sock = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
        self.h2 = H2Connection(H2Configuration(client_side=True, header_encoding="utf-8"))
        self.host = f"{host}:{port}"

    def __enter__(self) -> RawH2:
        self.h2.initiate_connection()
        self.sock.sendall(self.h2.data_to_send())
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def request(
        self,
        path: str,
        body: bytes = b"",
        headers: list[tuple[str, str]] | None = None,
        *,
        method: str = "POST",
        content_type: str = "application/grpc",
        timeout: float = 10,
    ) -> Exchange:
        stream_id = self.h2.get_next_available_stream_id()
        sent = [
            (":method", method),
            (":scheme", "http"),
            (":authority", self.host),
            (":path", path),
            ("content-type", content_type),
            ("te", "trailers"),
            *(headers or []),
        ]
        self.h2.send_headers(stream_id, sent, end_stream=not body)
        if body:
            self.h2.send_data(stream_id, body, end_stream=True)
        self.sock.sendall(self.h2.data_to_send())
        return self.read(stream_id, timeout)

    def read(self, stream_id: int, timeout: float = 10) -> Exchange:
        got = Exchange()
        self.sock.settimeout(timeout)
        while not (got.ended or got.reset is not None or got.terminated or got.closed):
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                got.closed = True
                break
            if not data:
                got.closed = True
                break
            try:
                events = self.h2.receive_data(data)
            except Exception:
                got.raw_tail = data
                got.closed = True
                break
            for event in events:
                if getattr(event, "stream_id", stream_id) != stream_id:
                    continue
                if isinstance(event, ResponseReceived):
                    got.headers = list(event.headers)  # type: ignore[arg-type]
                    got.headers_ended_stream = event.stream_ended is not None
                elif isinstance(event, DataReceived):
                    got.data += event.data
                    self.h2.acknowledge_received_data(event.flow_controlled_length, stream_id)
                elif isinstance(event, TrailersReceived):
                    got.trailers = list(event.headers)  # type: ignore[arg-type]
                elif isinstance(event, StreamEnded):
                    got.ended = True
                elif isinstance(event, StreamReset):
                    got.reset = event.error_code
                elif isinstance(event, ConnectionTerminated):
                    got.terminated = True
            try:
                self.sock.sendall(self.h2.data_to_send())
            except OSError:
                got.closed = True
        return got
