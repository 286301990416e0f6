"""Cleartext HTTP/2 (h2c) on the HTTP/1.1 server's port, as ZITADEL's one listener has it.

The HTTP/1.1 server (waitress) hands over each connection that opens with HTTP/2's preface
(prior knowledge) or asks ``Upgrade: h2c``; from then on it is served here, by the ``h2``
library's protocol state machine on one asyncio loop thread for every such connection.

A stream that is native gRPC (HTTP/2, POST, ``application/grpc[+proto|+json]``: ZITADEL's
``RouteGRPC``) is answered on the loop itself (``grpc.native``: the answer is decided in
microseconds; waits are timers). Every other stream (REST, gRPC-web, the control API, an
unknown path) goes to the same WSGI app as HTTP/1.1, on a worker thread.

Bounds: at most ``max_connections`` connections; 100 concurrent streams a connection; header
lists of at most 64 KiB (hpack's limit); a request body within its route's limit (4 MiB for a
gRPC message, the server's body limit otherwise); at most 32 MiB of request bodies buffered a
connection (more: GOAWAY ``ENHANCE_YOUR_CALM``); a connection with no open stream is closed
after ``idle_timeout`` seconds; reading stops while a client does not read what is written.
"""

from __future__ import annotations

from .connection import Connection
from .server import H2cServer
from .streams import PREFACE, Stream, Upgrade

__all__ = ["PREFACE", "Connection", "H2cServer", "Stream", "Upgrade"]
