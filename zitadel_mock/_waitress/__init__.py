"""Every use of waitress beyond its public API, in one place: check these on each new release.

Waitress has no public API for what the mock needs (its own error answers in ZITADEL's form,
per-route body limits, deadlines for slow clients, faults on the socket, answering on the
serving thread, a shutdown that does not hang), so the mock subclasses and replaces parts of
it. Nothing outside this package imports waitress or touches its objects' attributes; the rest
of the mock passes it a WSGI app and options.

Checked on waitress 3.0.0, 3.0.1 and 3.0.2 (``CHECKED_VERSIONS``; pyproject pins
``waitress>=3.0,<3.1``, and ``tests/server/test_waitress_version.py`` fails on any other
installed version). What is used, and how:

- ``HTTPChannel`` (``channel``): ``error_task_class``, ``parser_class`` and ``task_class``
  (class attributes it reads per request), ``received`` (extended: it notes when a request's
  head began), ``request`` (the request being received), ``requests`` and ``requests_lock``
  (the queue of received requests), ``will_close``, ``close_when_flushed``,
  ``total_outbufs_len``, ``last_activity``, ``writable`` (overridden with a pool),
  ``socket`` and ``server.add_task``;
- ``HTTPRequestParser`` (``channel``): ``parse_header`` (extended: framing checks, the route's
  body limit), ``adj`` (read for the body limit after the head is parsed), ``headers``,
  ``chunked``, ``version``, ``path``, ``headers_finished``, ``completed``, ``error``;
- the WSGI task (``channel``): ``get_environment`` (extended: a ``Wire`` to the connection),
  ``write``, ``finish``, ``close_on_finish``, and ``channel.write_soon``; ``execute``
  (replaced by 3.0.2's, its header checks remembered: ``execute``, with ``hop_by_hop`` and
  ``ReadOnlyFileBasedBuffer``) and ``build_response_header`` (replaced by 3.0's, made from a
  template: ``head``, with ``waitress.utilities.build_http_date``), each compared with
  waitress's own by a test on the installed release;
- ``waitress.utilities.Error`` (``code``, ``reason``, ``body``) for the 408;
- the server (``loop``): ``create_server``'s private ``_dispatcher`` argument and the
  dispatcher protocol (``add_task``, ``set_thread_count``, ``shutdown``; tasks' ``service``
  and ``cancel``), ``ThreadedTaskDispatcher.start_new_thread``, ``channel_class``,
  ``maintenance(now)`` (run by the loop every ``cleanup_interval`` seconds),
  ``active_channels``, ``pull_trigger`` and ``trigger``, ``adj``, ``_map`` and
  ``wasyncore.poll``/``poll2`` (the loop run by hand).
"""

from __future__ import annotations

__all__ = ["CHECKED_VERSIONS", "version_problem"]

CHECKED_VERSIONS = ("3.0.0", "3.0.1", "3.0.2")


def version_problem(version: str) -> str | None:
    """Why waitress ``version`` is not known to work with the mock, or None if it was checked."""
    if version in CHECKED_VERSIONS:
        return None
    return (
        f"waitress {version} is installed, but zitadel_mock._waitress relies on waitress "
        f"internals checked only on {', '.join(CHECKED_VERSIONS)}: check every use listed in "
        "its docstring against this release, then add it to CHECKED_VERSIONS"
    )
