"""Control API calls handed to the observers (the access log); the journal keeps ZITADEL's only."""

from __future__ import annotations

import json
import time
from typing import Any

from ...control.http import PREFIX
from ...journal import Call
from ...namespaces import NAMESPACE_HEADER, Namespaces
from .calls import Header, namespace_name

__all__ = ["AsgiControlLog", "WsgiControlLog"]


class ControlLog:
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
            namespace=namespace_name(self.header(req, NAMESPACE_HEADER)),
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


class WsgiControlLog(ControlLog):
    process_request = ControlLog.start
    process_response = ControlLog.finish


class AsgiControlLog(ControlLog):
    async def process_request(self, req: Any, resp: Any) -> None:
        self.start(req, resp)

    async def process_response(self, req: Any, resp: Any, resource: Any, succeeded: bool) -> None:
        self.finish(req, resp)
