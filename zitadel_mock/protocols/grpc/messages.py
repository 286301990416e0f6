"""The protobuf messages of the RPCs served, built from the project's own ``.proto`` files.

``proto/*.proto`` are written from ZITADEL's field tables (same packages, message names and
field numbers; only what the served RPCs use). ``proto/zitadel.binpb`` is the descriptor set
``protoc`` builds from them (``scripts/build_protos.py``; a test checks that it is current). The
classes come from a pool of their own, so that an application that loads ZITADEL's real
generated code into the same process sees no clash.

An answer is decided once, as the JSON ZITADEL's gateway writes (``answers``); its binary form
is that JSON parsed into the response message, kept per answer body.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf.message import DecodeError, Message

from ...answers_v2 import V2Args
from ...codes import ZError
from ...model import LIST_AUTH_FACTORS, LIST_SECOND_FACTORS, V2_RPCS

__all__ = [
    "ERROR_DETAIL_TYPE_URL",
    "MANAGEMENT",
    "METHODS",
    "SERVICES",
    "DecodeError",
    "Method",
    "decode_request",
    "encode_answer",
    "message_class",
    "request_args",
    "status_details",
]

ERROR_DETAIL_TYPE_URL = "type.googleapis.com/zitadel.v1.ErrorDetail"
MANAGEMENT = "zitadel.management.v1.ManagementService"
USER_V2 = "zitadel.user.v2.UserService"
SETTINGS_V2 = "zitadel.settings.v2.SettingsService"


def _pool() -> descriptor_pool.DescriptorPool:
    data = resources.files(__package__).joinpath("proto").joinpath("zitadel.binpb").read_bytes()
    pool = descriptor_pool.DescriptorPool()
    for file in descriptor_pb2.FileDescriptorSet.FromString(data).file:
        pool.Add(file)
    return pool


_POOL = _pool()


@functools.cache
def message_class(full_name: str) -> Any:
    """The message class of ``full_name`` (e.g. ``zitadel.v1.ErrorDetail``)."""
    return message_factory.GetMessageClass(_POOL.FindMessageTypeByName(full_name))


@dataclass(frozen=True)
class Method:
    """One RPC: its path, the mock's name for it, and its request and response messages."""

    service: str
    name: str
    rpc: str
    request: str
    response: str

    @property
    def path(self) -> str:
        return f"/{self.service}/{self.name}"


def _methods() -> dict[str, Method]:
    # Each rpc's method name is the mock's name for it (v1 and v2 share no method name).
    rpcs = {LIST_AUTH_FACTORS, LIST_SECOND_FACTORS, *V2_RPCS}
    table = {}
    for name in (MANAGEMENT, USER_V2, SETTINGS_V2):
        for method in _POOL.FindServiceByName(name).methods:
            if method.name not in rpcs:
                raise LookupError(f"{name}/{method.name} is no rpc of the mock")
            entry = Method(
                name,
                method.name,
                method.name,
                method.input_type.full_name,
                method.output_type.full_name,
            )
            table[entry.path] = entry
    return table


METHODS: dict[str, Method] = _methods()
SERVICES: frozenset[str] = frozenset(m.service for m in METHODS.values())


def decode_request(method: Method, payload: bytes) -> Any:
    """The request message; raises DecodeError for bytes that are no such message."""
    message = message_class(method.request)()
    message.ParseFromString(payload)
    return message


def request_args(method: Method, message: Any) -> tuple[str | None, V2Args | None]:
    """The user id and, for a v2 RPC, the V2Args of a decoded request message."""
    if method.service == MANAGEMENT:
        return (message.user_id if method.rpc == LIST_AUTH_FACTORS else None), None
    if method.service == SETTINGS_V2:
        ctx = message.ctx
        which = ctx.WhichOneof("resource_owner") if message.HasField("ctx") else None
        if which == "org_id":
            return None, V2Args(ctx_org_id=ctx.org_id)
        if which == "instance":
            return None, V2Args(ctx_instance=ctx.instance)
        return None, V2Args()
    if method.rpc == "ListAuthenticationFactors":
        args = V2Args(tuple(message.auth_factors), tuple(message.states))
        return message.user_id, args
    return message.user_id, V2Args()


# Answers are memoised per scenario snapshot (``answers``): their bodies repeat, so their
# binary forms are kept too, for at most this many distinct bodies.
@functools.lru_cache(maxsize=1024)
def encode_answer(method: Method, body: bytes) -> bytes:
    """The binary response message of an answer given as ZITADEL's JSON."""
    message: Message = message_class(method.response)()
    json_format.Parse(body, message)
    return message.SerializeToString(deterministic=True)


def status_details(error: ZError) -> bytes | None:
    """``grpc-status-details-bin`` (unencoded): a ``google.rpc.Status`` with one ErrorDetail.

    None for an error without a ZITADEL id: grpc-go then sends no details at all.
    """
    if error.id is None:
        return None
    detail = message_class("zitadel.v1.ErrorDetail")(id=error.id, message=error.message)
    status = message_class("google.rpc.Status")(code=error.code, message=error.full_message)
    any_ = status.details.add()
    any_.type_url = ERROR_DETAIL_TYPE_URL
    any_.value = detail.SerializeToString()
    return status.SerializeToString()  # type: ignore[no-any-return]
