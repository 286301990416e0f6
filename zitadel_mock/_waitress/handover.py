"""Waitress's channel, handing HTTP/2 connections over to the h2c server (``protocols.h2c``).

A connection whose first bytes are HTTP/2's preface (prior knowledge), or whose request asks
``Upgrade: h2c`` (with ``Connection: Upgrade, HTTP2-Settings``, as x/net's h2c handler wants),
leaves waitress: its socket is duplicated and served by the h2c server, and waitress, which no
longer reads it, closes its own descriptor (a close, not a shutdown: the connection lives on).
"""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import quote

from ..protocols.http2 import PREFACE, H2cServer, Upgrade

__all__ = ["handover_channel", "is_h2c_upgrade"]

# Headers of the HTTP/1.1 request that do not carry over to its HTTP/2 stream.
_DROPPED = frozenset(
    {
        "connection",
        "upgrade",
        "http2-settings",
        "keep-alive",
        "transfer-encoding",
        "te",
        "content-length",
        "proxy-connection",
    }
)


def _tokens(value: str) -> set[str]:
    return {token.strip().lower() for token in value.split(",")}


def is_h2c_upgrade(headers: dict[str, str]) -> bool:
    """Whether waitress's parsed headers ask to upgrade to h2c (x/net's ``isH2CUpgrade``)."""
    upgrade = headers.get("UPGRADE")
    return (
        upgrade is not None  # most requests: nothing more to look at
        and "h2c" in _tokens(upgrade)
        and "http2-settings" in _tokens(headers.get("CONNECTION", ""))
        and "HTTP2_SETTINGS" in headers
    )


def handover_channel(base: type[Any], h2c: H2cServer) -> type[Any]:
    """A subclass of waitress's channel class ``base`` that hands HTTP/2 over to ``h2c``."""

    base_received, base_service = base.received, base.service  # called directly: no super()

    class HandOverChannel(base):  # type: ignore[misc]
        requests: list[Any]
        handed_over = False
        # True until the first bytes tell HTTP/2's preface from HTTP/1.1, and again once handed
        # over: while it is false, received() is waitress's, behind one test.
        watching = True
        start = b""  # the bytes of a preface begun

        # Once handed over, ``will_close`` is set: waitress reads the socket no more (its
        # ``readable`` is false) and closes its descriptor on the next round.

        def received(self, data: bytes) -> bool:
            if self.watching:
                return self._watch(data)
            return base_received(self, data)  # type: ignore[no-any-return]

        def _watch(self, data: bytes) -> bool:
            if self.handed_over:
                return True
            if not data:
                return bool(base_received(self, data))
            head = self.start + data
            if len(head) < len(PREFACE) and PREFACE.startswith(head):
                self.start = head  # the rest of the preface is on its way
                return True
            self.watching, self.start = False, b""
            if head.startswith(PREFACE):
                self.hand_over(head, None)
                return True
            return bool(base_received(self, head))

        def service(self) -> None:
            requests = self.requests
            # Most requests: no Upgrade header, nothing more to look at.
            if requests and "UPGRADE" in requests[0].headers:
                request = requests[0]
                if not request.error and is_h2c_upgrade(request.headers):
                    self._upgrade(request)
                    return
            base_service(self)

        def _upgrade(self, request: Any) -> None:
            with self.requests_lock:
                self.requests = []  # nothing may follow an upgrade request but HTTP/2
            stream = request.get_body_stream()
            body = stream.read() if stream is not None else b""
            path = quote(request.path.encode("latin-1"), safe="/:@!$&'()*+,;=-._~")
            headers = [
                (key.lower().replace("_", "-"), value)
                for key, value in request.headers.items()
                if key.lower().replace("_", "-") not in _DROPPED
            ]
            upgrade = Upgrade(
                settings=request.headers["HTTP2_SETTINGS"],
                method=request.command,
                path=f"{path}?{request.query}" if request.query else path,
                headers=headers,
                body=body,
            )
            request.close()
            self.hand_over(b"", upgrade)

        def hand_over(self, received: bytes, upgrade: Upgrade | None) -> None:
            self.handed_over = self.watching = True
            self.will_close = True  # waitress closes its descriptor on its next round
            # One connection limit for both, counted as waitress counts it (its map holds the
            # listener and the trigger too); channels handed over may linger a poll round.
            others = sum(not getattr(c, "handed_over", False) for c in self.server._map.values())
            if len(h2c.connections) + others + 1 > h2c.max_connections:
                return
            try:
                sock = self.socket.dup()
            except OSError:
                return
            h2c.adopt(sock, received, upgrade)
            with contextlib.suppress(Exception):
                self.server.pull_trigger()

    return HandOverChannel
