"""A gRPC status as grpc-go writes it: grpc-status, grpc-message, grpc-status-details-bin."""

from __future__ import annotations

import base64

from ...codes import ZError
from .messages import status_details

__all__ = ["percent_encode", "status_fields"]

_PLAIN = frozenset(range(0x20, 0x7F)) - {ord("%")}


def percent_encode(message: str) -> str:
    """``grpc-message`` encoding: each byte outside 0x20-0x7E, and ``%``, as ``%XX``."""
    data = message.encode("utf-8", "surrogateescape")
    if all(byte in _PLAIN for byte in data):
        return message
    return "".join(chr(byte) if byte in _PLAIN else f"%{byte:02X}" for byte in data)


def status_fields(error: ZError | None) -> list[tuple[str, str]]:
    """The status of an answer: OK for None; the message only if not empty; details if any.

    The details are base64 without padding, as grpc-go's ``encodeBinHeader`` writes them.
    """
    if error is None:
        return [("grpc-status", "0")]
    fields = [("grpc-status", str(error.code))]
    if error.full_message:
        fields.append(("grpc-message", percent_encode(error.full_message)))
    details = status_details(error)
    if details is not None:
        encoded = base64.b64encode(details).decode("ascii").rstrip("=")
        fields.append(("grpc-status-details-bin", encoded))
    return fields
