"""The response head waitress writes, with each header name's spelling worked out once.

Waitress's ``Task.build_response_header`` re-spells every header name of every answer
(``content-type`` -> ``Content-Type``: a split, a ``capitalize`` per part, a join) and sorts the
headers with a Python key function. Each ZITADEL answer carries nine headers: that spelling
was the largest single cost of a request, more than all the mock's own bookkeeping. This
module's ``build_response_header`` is waitress 3.0's, line for line, except that a name's
spelling is looked up once worked out and the sort key is ``itemgetter``; the same bytes come
out (``tests/server/test_waitress_head.py`` compares both over every branch).
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

__all__ = ["build_response_header", "spelled"]

# Header names as the application gave them -> as waitress writes them. Bounded: an
# application chooses its names (the mock's are a fixed few); past the bound, names are
# spelled each time, as waitress does. Two threads may both write one name: the same value.
_SPELLED: dict[str, str] = {}
MAX_SPELLED = 1000
_FIRST = itemgetter(0)


def spelled(name: str) -> str:
    """``name`` as waitress writes it: each dash-separated part capitalised."""
    found = _SPELLED.get(name)
    if found is None:
        found = "-".join([part.capitalize() for part in name.split("-")])
        if len(_SPELLED) < MAX_SPELLED:
            _SPELLED[name] = found
    return found


def build_response_header(task: Any) -> bytes:
    """Waitress 3.0's ``Task.build_response_header`` for ``task``, names spelled once each."""
    from waitress.utilities import build_http_date

    version = task.version
    # Figure out whether the connection should be closed.
    connection = task.request.headers.get("CONNECTION", "").lower()
    response_headers = []
    content_length_header = None
    date_header = None
    server_header = None
    names = _SPELLED

    for name, value in task.response_headers:
        headername = names.get(name) or spelled(name)
        if headername == "Content-Length":
            if task.has_body:
                content_length_header = value
            else:
                continue  # pragma: no cover (waitress's own branch, kept as it is)
        if headername == "Date":
            date_header = value
        if headername == "Server":
            server_header = value
        response_headers.append((headername, value))

    task.response_headers = response_headers

    if content_length_header is None and task.content_length is not None and task.has_body:
        content_length_header = str(task.content_length)
        task.response_headers.append(("Content-Length", content_length_header))

    if version == "1.0":
        if connection == "keep-alive":
            if not content_length_header:
                task.set_close_on_finish()
            else:
                task.response_headers.append(("Connection", "Keep-Alive"))
        else:
            task.set_close_on_finish()
    elif version == "1.1":
        if connection == "close":
            task.set_close_on_finish()
        if not content_length_header:
            # RFC 7230: no Transfer-Encoding or Content-Length for 1xx, 204 or 304.
            if task.has_body:
                task.response_headers.append(("Transfer-Encoding", "chunked"))
                task.chunked_response = True
            if not task.close_on_finish:
                task.set_close_on_finish()
    else:
        raise AssertionError("neither HTTP/1.0 or HTTP/1.1")

    ident = task.channel.server.adj.ident
    if not server_header:
        if ident:
            task.response_headers.append(("Server", ident))
    else:
        task.response_headers.append(("Via", ident or "waitress"))
    if not date_header:
        task.response_headers.append(("Date", build_http_date(task.start_time)))

    # A stable sort: headers of one name keep their order (RFC 9110 5.3).
    lines = [f"HTTP/{task.version} {task.status}"]
    lines += [f"{name}: {value}" for name, value in sorted(task.response_headers, key=_FIRST)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
