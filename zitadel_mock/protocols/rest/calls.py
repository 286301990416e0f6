"""A REST call as ``answers`` reads it (``Request``), from falcon's request or a WSGI environ."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from ...answers import Request
from ...namespaces import DEFAULT_NAMESPACE, NAMESPACE_HEADER, NamespaceError, Namespaces
from .headers import asgi_headers, wsgi_headers

__all__ = [
    "NAMESPACE_KEY",
    "ORG_HEADER",
    "Header",
    "asgi_header",
    "namespace_name",
    "rest_request",
    "wsgi_header",
    "wsgi_request",
]

ORG_HEADER = "x-zitadel-orgid"
Header = Callable[[Any, str], "str | None"]  # reads one request header by name
# Under WSGI a header is read straight from the environ: falcon's get_header normalises the
# name on every call, which costs more than all the headers' lookups together.
ENVIRON_KEYS = {
    name: "HTTP_" + name.upper().replace("-", "_")
    for name in ("Authorization", ORG_HEADER, NAMESPACE_HEADER)
}
AUTHORIZATION_KEY, ORG_KEY, NAMESPACE_KEY = ENVIRON_KEYS.values()
_new_request = tuple.__new__


def wsgi_header(req: Any, name: str) -> str | None:
    return req.env.get(ENVIRON_KEYS[name])  # type: ignore[no-any-return]


def asgi_header(req: Any, name: str) -> str | None:
    return req.get_header(name)  # type: ignore[no-any-return]


def namespace_name(value: str | None) -> str:
    """The namespace's name, for the journal: an invalid one is answered in the default's."""
    if not value:  # most requests
        return DEFAULT_NAMESPACE
    try:
        return Namespaces.name(value)
    except NamespaceError:
        return DEFAULT_NAMESPACE


def wsgi_request(
    env: Mapping[str, Any], method: str, path: str, rpc: str, user_id: str | None
) -> Request:
    """The call of a WSGI environ (``method`` and ``path`` as falcon reads them)."""
    started = time.perf_counter()
    arrived = time.time_ns()
    namespace = env.get(NAMESPACE_KEY)
    # Every field, in order: the tuple made directly, as namedtuple's own _make does (a call
    # of Request with 11 arguments costs twice as much, once per request).
    return _new_request(
        Request,
        (
            rpc,
            method,
            path,
            env.get(AUTHORIZATION_KEY),
            env.get(ORG_KEY) or None,
            user_id,
            wsgi_headers(env),
            arrived,
            started,
            "rest",
            namespace_name(namespace) if namespace else DEFAULT_NAMESPACE,
            None,  # v2: none on the v1 routes
        ),
    )


def rest_request(req: Any, header: Header, rpc: str, user_id: str | None) -> Request:
    """The call of a falcon request, WSGI (``header`` is ``wsgi_header``) or ASGI."""
    if header is wsgi_header:
        return wsgi_request(req.env, req.method, req.path, rpc, user_id)
    started = time.perf_counter()
    arrived = time.time_ns()
    return Request(
        rpc,
        req.method,
        req.path,
        header(req, "Authorization"),
        header(req, ORG_HEADER) or None,
        user_id,
        asgi_headers(req.headers),
        arrived,
        started,
        "rest",
        namespace_name(header(req, NAMESPACE_HEADER)),
    )
