"""Connect's error answer: a JSON body with the code's name, as connect-go writes it.

``{"code":"unauthenticated","message":"...","details":[{"type":"zitadel.v1.ErrorDetail",
"value":"<unpadded base64>","debug":{"id":"...","message":"..."}}]}``; ``message`` and
``details`` are left out when empty. The HTTP status is the code's (the gateway's mapping).
"""

from __future__ import annotations

import base64
from typing import Any

from ...codes import ZError, http_status
from ..grpc.messages import message_class
from ..rest.protojson import dumps

__all__ = ["CONNECT_CODES", "error_body", "error_status"]

CONNECT_CODES: dict[int, str] = {
    1: "canceled",
    2: "unknown",
    3: "invalid_argument",
    4: "deadline_exceeded",
    5: "not_found",
    6: "already_exists",
    7: "permission_denied",
    8: "resource_exhausted",
    9: "failed_precondition",
    10: "aborted",
    11: "out_of_range",
    12: "unimplemented",
    13: "internal",
    14: "unavailable",
    15: "data_loss",
    16: "unauthenticated",
}
ERROR_DETAIL = "zitadel.v1.ErrorDetail"


def error_status(error: ZError) -> int:
    """The HTTP status of a Connect error (connect-go's table, the gateway's numbers)."""
    return http_status(error.code)


def error_body(error: ZError) -> bytes:
    """The Connect error JSON; a ZITADEL id adds one ``ErrorDetail``."""
    body: dict[str, Any] = {"code": CONNECT_CODES[error.code]}
    if error.full_message:
        body["message"] = error.full_message
    if error.id:
        debug = {"id": error.id}
        if error.message:
            debug["message"] = error.message
        detail = message_class(ERROR_DETAIL)(**debug).SerializeToString()
        value = base64.b64encode(detail).decode().rstrip("=")
        body["details"] = [{"type": ERROR_DETAIL, "value": value, "debug": debug}]
    return dumps(body)
