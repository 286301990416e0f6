"""Waitress's WSGI task run, with each list of response header names checked once.

Waitress's ``WSGITask.execute`` hands the application a ``start_response`` that checks every
header of every answer in Python: two type checks, four searches for CR and LF, a ``lower()``,
a comparison and a set lookup each. A ZITADEL answer carries eight headers, so this was a
large part of a request's cost (BENCHMARKS.md, "Waitress's header work"). This module's
``execute`` is waitress 3.0.2's, line for line (two nested tests joined, one repeated test
dropped), except in ``start_response``: the names of a header list are checked once and
remembered, and the values of each answer are checked together (one join, two searches).
Whatever is not a plain list of pairs of strings free of CR and LF, with names checked before,
takes waitress's own loop, so that every error is waitress's, raised at the same header with
the same state (``tests/server/test_waitress_execute.py`` runs both on the same calls and
compares answers, errors and state).

Waitress 3.0.0 and 3.0.1 tested ``__class__ is str`` where 3.0.2 calls ``isinstance``; this
is 3.0.2's, so a subclass of ``str`` is taken on every release.
"""

from __future__ import annotations

from typing import Any

from waitress.buffers import ReadOnlyFileBasedBuffer
from waitress.task import hop_by_hop

__all__ = ["MAX_CHECKED", "execute"]

# Header name lists already checked -> the positions of their Content-Length headers. An
# application chooses its names (the mock's answers use a fixed few lists); past the bound,
# lists are checked each time, as waitress does. Two threads may both write one list: the
# same value.
_CHECKED: dict[tuple[str, ...], tuple[int, ...]] = {}
MAX_CHECKED = 256
_MAX_NAMES = 64  # headers in a list remembered; a longer one is checked each time


def _checked_names(names: tuple[Any, ...]) -> tuple[int, ...] | None:
    """The Content-Length positions of ``names``, or None if waitress would refuse a name."""
    lengths = []
    for index, name in enumerate(names):
        if not isinstance(name, str) or "\n" in name or "\r" in name:
            return None
        lowered = name.lower()
        if lowered == "content-length":
            lengths.append(index)
        elif lowered in hop_by_hop:
            return None
    found = tuple(lengths)
    if len(_CHECKED) < MAX_CHECKED and len(names) <= _MAX_NAMES:
        _CHECKED[names] = found
    return found


def _fast_checked(task: Any, headers: Any) -> bool:
    """Check ``headers`` as waitress would, if they are a list of plain, valid pairs.

    False when anything would make waitress's loop raise (or a list it did not remember):
    that loop then runs, and raises as waitress does.
    """
    if headers.__class__ is not list:
        return False  # a generator, say: waitress reads it twice, which only it may do
    try:
        names = tuple([name for name, _ in headers])
        values = [value for _, value in headers]
        joined = "".join(values)  # TypeError: a value is no string
        lengths = _CHECKED.get(names)  # TypeError: a name cannot be hashed, so is no string
    except Exception:  # not pairs, not strings, or worse: waitress's loop says which
        return False
    if "\n" in joined or "\r" in joined:
        return False
    if lengths is None:
        lengths = _checked_names(names)
        if lengths is None:
            return False
    for index in lengths:
        task.content_length = int(values[index])
    return True


def execute(self: Any) -> None:
    """Waitress 3.0.2's ``WSGITask.execute`` for the task ``self``, names checked once each."""
    environ = self.get_environment()

    def start_response(status: Any, headers: Any, exc_info: Any = None) -> Any:
        if self.complete and not exc_info:
            raise AssertionError("start_response called a second time without providing exc_info.")
        if exc_info:
            try:
                if self.wrote_header:
                    # higher levels will catch and handle raised exception:
                    # 1. "service" method in task.py
                    # 2. "service" method in channel.py
                    # 3. "handler_thread" method in task.py
                    raise exc_info[1]
                else:
                    # As per WSGI spec existing headers must be cleared
                    self.response_headers = []
            finally:
                exc_info = None

        self.complete = True

        if not isinstance(status, str):
            raise AssertionError("status %s is not a string" % status)  # noqa: UP031 (a tuple too)
        if "\n" in status or "\r" in status:
            raise ValueError("carriage return/line feed character present in status")

        self.status = status

        # Prepare the headers for output (waitress's loop, unless checked already)
        if not _fast_checked(self, headers):
            for k, v in headers:
                if not isinstance(k, str):
                    raise AssertionError(f"Header name {k!r} is not a string in {(k, v)!r}")
                if not isinstance(v, str):
                    raise AssertionError(f"Header value {v!r} is not a string in {(k, v)!r}")

                if "\n" in v or "\r" in v:
                    raise ValueError("carriage return/line feed character present in header value")
                if "\n" in k or "\r" in k:
                    raise ValueError("carriage return/line feed character present in header name")

                kl = k.lower()
                if kl == "content-length":
                    self.content_length = int(v)
                elif kl in hop_by_hop:
                    raise AssertionError(
                        f'{k} is a "hop-by-hop" header; it cannot be used by '
                        "a WSGI application (see PEP 3333)"
                    )

        self.response_headers.extend(headers)

        # Return a method used to write the response data.
        return self.write

    # Call the application to handle the request and write a response
    app_iter = self.channel.server.application(environ, start_response)

    can_close_app_iter = True
    try:
        if isinstance(app_iter, ReadOnlyFileBasedBuffer):
            cl = self.content_length
            size = app_iter.prepare(cl)
            if size:
                if cl != size:
                    if cl is not None:
                        self.remove_content_length_header()
                    self.content_length = size
                self.write(b"")  # generate headers
                # if the write_soon below succeeds then the channel will
                # take over closing the underlying file via the channel's
                # _flush_some or handle_close so we intentionally avoid
                # calling close in the finally block
                self.channel.write_soon(app_iter)
                can_close_app_iter = False
                return

        first_chunk_len = None
        for chunk in app_iter:
            if first_chunk_len is None:
                first_chunk_len = len(chunk)
                # Set a Content-Length header if one is not supplied.
                # start_response may not have been called until first
                # iteration as per PEP, so we must reinterrogate
                # self.content_length here
                if self.content_length is None:
                    app_iter_len = None
                    if hasattr(app_iter, "__len__"):
                        app_iter_len = len(app_iter)
                    if app_iter_len == 1:
                        self.content_length = first_chunk_len
            # transmit headers only after first iteration of the iterable
            # that returns a non-empty bytestring (PEP 3333)
            if chunk:
                self.write(chunk)

        cl = self.content_length
        if cl is not None and self.content_bytes_written != cl and self.request.command != "HEAD":
            # close the connection so the client isn't sitting around
            # waiting for more data when there are too few bytes
            # to service content-length
            self.set_close_on_finish()
            self.logger.warning(
                "application returned too few bytes (%s) "
                "for specified Content-Length (%s) via app_iter",
                self.content_bytes_written,
                cl,
            )
    finally:
        if can_close_app_iter and hasattr(app_iter, "close"):
            app_iter.close()
