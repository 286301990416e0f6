"""Limits under waitress: what the server itself answers before the app sees a request.

Waitress refuses a request whose body is too large (413, told from ``Content-Length`` before a
byte of the body is read, or while a chunked body comes in), whose request line and headers are
too large (431), that it cannot parse (400) or whose ``Transfer-Encoding`` it does not support
(501), and answers 500 when serving a request fails outside the app. On top of that the mock
refuses a request that carries both ``Content-Length`` and ``Transfer-Encoding`` (400, RFC 9112
section 6.1: the two framings could be read differently by a proxy, which is how requests are
smuggled) and one whose request line and headers do not arrive within ``header_timeout`` (408).
Its own answers are plain text; ``_waitress.channel`` gives its channel an error task that
writes them as every other answer of the mock: a ``google.rpc.Status`` envelope with the headers
the app puts on every answer. The connection is closed after such an answer, as waitress does,
and the rest of an oversized body is never read.

Each route has its own body limit, applied while the body comes in (so a body is read only up
to its route's limit): the ZITADEL routes and every other path ``max_body_size`` (1 MiB by
default), the control API ``control.http.MAX_BODY`` (64 MiB), whose 413 is in the control API's own
``{"error": ...}`` form.

The gRPC code of each (ZITADEL's reference says nothing about them; its gateway's table maps no
code to 408, 413 or 431, so the HTTP status is waitress's and the code says what went wrong):

======  ==========================  ===================================================
HTTP    code                        why
======  ==========================  ===================================================
400     3 INVALID_ARGUMENT          the table's own pair for a request that is wrong
408     4 DEADLINE_EXCEEDED         the request's deadline passed before it was read
413     8 RESOURCE_EXHAUSTED        what gRPC answers a message over its size limit
431     8 RESOURCE_EXHAUSTED        the same, for the request line and headers
500     13 INTERNAL                 the table's pair
501     12 UNIMPLEMENTED            the table's pair
======  ==========================  ===================================================

413 and 431 keep their statuses rather than the table's 429 for code 8: a 429 tells a client
to try again later, and the same request would be refused again.

Slow clients: waitress serves ``connection_limit`` connections (100 by default) and stops
accepting beyond, and its idle timer (``channel_timeout``) restarts on every byte, so a client
that trickles its headers holds its connection for ever, and about 100 of them starve everyone
else. Here the limit is raised (``DEFAULT_CONNECTION_LIMIT``, within the process's file
descriptor limit, raised towards its hard limit if needed, and served with ``poll``, which has
no 1024-descriptor bound), a request line and headers must arrive within ``header_timeout``
seconds of their first byte (of the connection, for its first request), and while more than
half the connection limit is in use, an idle keep-alive connection is closed after
``header_timeout`` seconds instead of ``channel_timeout``.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from .codes import ZError
from .protocols.rest.protojson import error_body

__all__ = [
    "DEFAULT_CONNECTION_LIMIT",
    "DEFAULT_HEADER_TIMEOUT",
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_MAX_HEADER_SIZE",
    "body_too_large",
    "fd_bounded_connection_limit",
    "limit_answer",
    "printable",
    "waitress_limits",
]

DEFAULT_MAX_BODY_SIZE = 1 << 20  # bytes: the largest request body accepted (the routes ignore it)
DEFAULT_MAX_HEADER_SIZE = 1 << 18  # bytes: request line and headers (waitress's own default)
# Seconds for a request line and headers to arrive: a real client sends them at once; a few
# seconds is plenty even on a loaded CI machine, and short enough that slow clients leave.
DEFAULT_HEADER_TIMEOUT = 10.0
# Connections served at once (waitress's default is 100). Each costs one descriptor and a few
# KiB; every turn of the serving loop polls them all, so the bound also bounds that work.
DEFAULT_CONNECTION_LIMIT = 1000
# Descriptors left for everything else in the process: the listening socket, the loop's
# trigger, spilled bodies, log files, and a test suite's own clients in the same process.
FD_RESERVE = 64
# Without poll (Windows), waitress uses select, which takes at most about 512 sockets there.
SELECT_CONNECTION_LIMIT = 500

# waitress's status -> the gRPC code of the envelope
CODES = {400: 3, 408: 4, 413: 8, 431: 8, 500: 13, 501: 12}
CONTROL_PREFIX = "/_mock"  # control.PREFIX, not imported: control imports falcon, this must not


def waitress_limits(
    max_body_size: int = DEFAULT_MAX_BODY_SIZE, max_header_size: int = DEFAULT_MAX_HEADER_SIZE
) -> dict[str, int]:
    """Waitress's options for these limits, in bytes: the largest body and headers accepted.

    Waitress refuses a body or headers as long as its own bound, so each bound is one more.
    """
    return {
        "max_request_body_size": max_body_size + 1,
        "max_request_header_size": max_header_size + 1,
    }


def limit_answer(status: int, detail: str, adj: Any) -> tuple[int, bytes]:
    """The gRPC code and the envelope for waitress's error ``status`` (``detail``: its text)."""
    code = CODES.get(status, 2)  # 2 UNKNOWN: no other status is known to come from waitress
    if status == 413:
        return code, body_too_large(adj.max_request_body_size - 1)
    if status == 431:
        message = (
            f"request header fields too large: the limit is {adj.max_request_header_size - 1} bytes"
        )
    elif status == 400:
        message = f"malformed request: {detail}"
    elif status == 408:
        message = f"request timeout: {detail}"
    elif status == 501:
        message = f"not implemented: {detail}"
    else:  # never the traceback that waitress may put in its text
        message = "An internal error occurred"
    return code, error_body(ZError(code, message))


def body_too_large(limit: int) -> bytes:
    """The envelope of a request body over ``limit`` bytes (RESOURCE_EXHAUSTED)."""
    message = f"request body too large: the limit is {limit} bytes"
    return error_body(ZError(CODES[413], message))


def control_too_large(limit: int) -> bytes:
    """The control API's 413 body, as ``control`` words it for a body over its limit."""
    reply = {"error": f"the body is larger than {limit} bytes"}
    return (json.dumps(reply, indent=2, ensure_ascii=False) + "\n").encode()


def is_control_path(path: str) -> bool:
    """Whether the control API's sink (``/_mock(/|$)``) serves ``path``."""
    rest = path[len(CONTROL_PREFIX) :]
    return path.startswith(CONTROL_PREFIX) and (not rest or rest[0] == "/")


# What a request may hold that a log line must not show as is: C0 controls (CR and LF would
# start a forged line, ESC a terminal sequence), DEL, C1 controls (NEL ends a line for some
# readers), the Unicode line and paragraph separators, and the backslash that escapes them.
_UNPRINTABLE = re.compile(r"[\\\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\\":
        return "\\\\"
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` from a request, safe in a log line: no character that breaks or forges a line.

    Each control character is written as a Python escape (``\\n`` as ``\\x0a``, U+2028 as
    ``\\u2028``) and a backslash as two, so the line still tells exactly what was sent.
    """
    return _UNPRINTABLE.sub(_escape, text)


def fd_bounded_connection_limit(wanted: int, use_poll: bool) -> int:
    """The connection limit to serve with: ``wanted``, within what the descriptors allow.

    Raises the process's soft descriptor limit towards the hard one when ``wanted`` does not
    fit (to twice the need, so that the rest of the process, e.g. a test suite's own clients,
    keeps room); when even the hard limit is too low, serves fewer connections.
    """
    if not use_poll:
        wanted = min(wanted, SELECT_CONNECTION_LIMIT)
    try:
        import resource
    except ImportError:  # Windows: no descriptor limit to read
        return wanted
    need = wanted + FD_RESERVE
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        target = 2 * need if hard == resource.RLIM_INFINITY else min(hard, 2 * need)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):  # e.g. macOS caps it below an "unlimited" hard limit
            logging.getLogger("zitadel_mock").warning(
                "cannot raise the open file limit from %d to %d", soft, target
            )
    if soft != resource.RLIM_INFINITY and soft < need:
        return max(soft - FD_RESERVE, soft // 2, 1)
    return wanted


class PrintableRecords(logging.Filter):
    """Escapes what a request put in a log record: waitress logs a request's path as it was
    sent ("Exception while serving /x..."), newlines and terminal sequences included."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = printable(record.getMessage()), None
        return True


def escape_waitress_log() -> None:
    """Have every record of the ``waitress`` logger escaped (once per process)."""
    log = logging.getLogger("waitress")
    if not any(isinstance(f, PrintableRecords) for f in log.filters):
        log.addFilter(PrintableRecords())
