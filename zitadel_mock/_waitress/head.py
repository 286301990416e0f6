"""The response head waitress writes, made from a template per list of header names.

Waitress's ``Task.build_response_header`` re-spells every header name of every answer
(``content-type`` -> ``Content-Type``: a split, a ``capitalize`` per part, a join), sorts the
headers with a Python key function and formats each line, and formats the ``Date`` anew. Each
ZITADEL answer carries ten headers: that work was the largest single cost of a request, more
than all the mock's own bookkeeping. Here the common case, an HTTP/1.1 answer with a body and
a ``Content-Length`` whose connection stays open, is made from a template worked out once per
list of header names: the names spelled and sorted in it, the values put in place with one
``%``. The ``Date`` is formatted once a second. Every other case is waitress 3.0's method, line
for line, except that a name's spelling is looked up once worked out and the sort key is
``itemgetter``. The same bytes come out, and the task is left in the same state
(``tests/server/test_waitress_head.py`` compares both over every branch).
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any, NamedTuple

from waitress.utilities import build_http_date

__all__ = ["MAX_TEMPLATES", "build_response_header", "spelled"]

# Header names as the application gave them -> as waitress writes them. Bounded: an
# application chooses its names (the mock's are a fixed few); past the bound, names are
# spelled each time, as waitress does. Two threads may both write one name: the same value.
_SPELLED: dict[str, str] = {}
MAX_SPELLED = 1000
_FIRST = itemgetter(0)
_SECOND = itemgetter(1)


class _Template(NamedTuple):
    """The head of an answer with these header names (see ``_template``)."""

    text: str  # the status line and the header lines, a ``%s`` for each value
    order: Callable[[list[str]], tuple[str, ...]]  # the values, sorted as the lines are
    names: tuple[str, ...]  # the names as written, ``Server`` and ``Date`` last
    length: int  # the position of the Content-Length that counts (waitress's last one)


# Header name lists -> their template, or None where the common case cannot apply. Bounded as
# the spellings are.
_TEMPLATES: dict[tuple[str, ...], _Template | None] = {}
MAX_TEMPLATES = 256
_MAX_NAMES = 64  # headers in a list remembered; a longer one is built line by line
_date: tuple[float, str] = (-1.0, "")  # the last second formatted, replaced whole


def spelled(name: str) -> str:
    """``name`` as waitress writes it: each dash-separated part capitalised."""
    if name.__class__ is not str:  # no name of a checked answer; waitress fails on it so
        return "-".join([part.capitalize() for part in name.split("-")])
    found = _SPELLED.get(name)
    if found is None:
        found = "-".join([part.capitalize() for part in name.split("-")])
        if len(_SPELLED) < MAX_SPELLED:
            _SPELLED[name] = found
    return found


def _template(names: tuple[str, ...]) -> _Template | None:
    """The template of the common case for ``names`` (None if they hold Date or Server, which
    waitress would not add, or no Content-Length), remembered while there is room."""
    written = [spelled(name) for name in names]
    template = None
    if "Content-Length" in written and "Date" not in written and "Server" not in written:
        written += ("Server", "Date")  # as waitress adds them, after the application's
        order = sorted(range(len(written)), key=written.__getitem__)  # stable, as waitress's
        lines = "".join(f"{written[index].replace('%', '%%')}: %s\r\n" for index in order)
        template = _Template(
            f"HTTP/1.1 %s\r\n{lines}\r\n",
            itemgetter(*order),
            tuple(written),
            max(i for i, name in enumerate(written[: len(names)]) if name == "Content-Length"),
        )
    if len(_TEMPLATES) < MAX_TEMPLATES and len(names) <= _MAX_NAMES:
        _TEMPLATES[names] = template
    return template


def _http_date(when: float) -> str:
    """``build_http_date(when)``, formatted once a second."""
    global _date
    second = when // 1  # as gmtime takes it: the floor
    last = _date  # read once: another thread may replace it (with an equally valid pair)
    if last[0] != second:
        last = _date = (second, build_http_date(int(second)))
    return last[1]


def build_response_header(task: Any) -> bytes:
    """Waitress 3.0's ``Task.build_response_header`` for ``task`` (see the module)."""
    headers = task.response_headers
    names = tuple(map(_FIRST, headers))
    try:
        template = _TEMPLATES[names]
    except KeyError:  # a list of names not seen yet
        template = _template(names)
    except TypeError:  # a name that cannot be hashed: waitress's method fails as it will
        return _line_by_line(task)
    if (
        template is not None
        and task.version == "1.1"
        and task.has_body
        and task.channel.server.adj.ident
        and task.request.headers.get("CONNECTION", "").lower() != "close"
    ):
        values = list(map(_SECOND, headers))
        if values[template.length]:  # an empty Content-Length is none to waitress
            values += (task.channel.server.adj.ident, _http_date(task.start_time))
            task.response_headers = list(zip(template.names, values, strict=True))
            return (template.text % (task.status, *template.order(values))).encode("latin-1")
    return _line_by_line(task)


def _line_by_line(task: Any) -> bytes:
    """Waitress 3.0's ``Task.build_response_header`` for ``task``, names spelled once each."""
    version = task.version
    # Figure out whether the connection should be closed.
    connection = task.request.headers.get("CONNECTION", "").lower()
    response_headers = []
    content_length_header = None
    date_header = None
    server_header = None
    for name, value in task.response_headers:
        headername = spelled(name)
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
        task.response_headers.append(("Date", _http_date(task.start_time)))

    # A stable sort: headers of one name keep their order (RFC 9110 5.3).
    lines = [f"HTTP/{task.version} {task.status}"]
    lines += [f"{name}: {value}" for name, value in sorted(task.response_headers, key=_FIRST)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
