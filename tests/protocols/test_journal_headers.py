"""The request headers the journal keeps: the same whichever way they are read, and bounded."""

from __future__ import annotations

from pathlib import Path

import requests

from zitadel_mock import MockServer, load_scenario
from zitadel_mock.protocols.rest import headers as module
from zitadel_mock.protocols.rest.headers import PARSED_KEY, asgi_headers, wsgi_headers

QUICKSTART = Path(__file__).resolve().parents[2] / "fixtures" / "quickstart.yaml"
ENVIRON = {
    "REQUEST_METHOD": "POST",
    "PATH_INFO": "/management/v1/users/1/auth_factors/_search",
    "wsgi.input": object(),
    "HTTP_HOST": "127.0.0.1:8080",
    "HTTP_AUTHORIZATION": "Bearer acme-admin-token",
    "HTTP_X_TRACE_ID": "t-1",
    "HTTP_X_EMPTY": "",
    "CONTENT_TYPE": "application/json",
    "CONTENT_LENGTH": "2",
}
PARSED = {
    "HOST": "127.0.0.1:8080",
    "AUTHORIZATION": "Bearer acme-admin-token",
    "X_TRACE_ID": "t-1",
    "X_EMPTY": "",
    "CONTENT_TYPE": "application/json",
    "CONTENT_LENGTH": "2",
}
EXPECTED = {
    "Host": "127.0.0.1:8080",
    "Authorization": "Bearer acme-a\u2026",
    "X-Trace-Id": "t-1",
    "Content-Type": "application/json",
    "Content-Length": "2",
}


def test_the_parsed_headers_and_the_environ_give_the_same_entry() -> None:
    from_environ = wsgi_headers(ENVIRON)
    from_parsed = wsgi_headers({**ENVIRON, PARSED_KEY: PARSED})
    assert dict(from_environ) == EXPECTED
    assert sorted(from_parsed) == sorted(from_environ)
    # Remembered: the next request with the same headers gets the same entry, converted once.
    assert wsgi_headers({PARSED_KEY: dict(PARSED)}) is wsgi_headers({PARSED_KEY: dict(PARSED)})


def test_asgi_names_stay_lower_case_and_the_credential_is_cut() -> None:
    got = asgi_headers({"authorization": "Bearer acme-admin-token", "x-trace-id": "t-1"})
    assert got == (("authorization", "Bearer acme-a\u2026"), ("x-trace-id", "t-1"))


def test_remembered_sets_are_bounded_in_number_and_size() -> None:
    huge = {"AUTHORIZATION": "Bearer " + "x" * (module.MAX_REMEMBERED_SIZE + 1)}
    assert wsgi_headers({PARSED_KEY: huge}) == (("Authorization", "Bearer xxxxxx\u2026"),)
    assert tuple(huge.items()) not in module._REMEMBERED
    for number in range(module.MAX_REMEMBERED + 10):
        assert wsgi_headers({PARSED_KEY: {"X_N": str(number)}}) == (("X-N", str(number)),)
        assert len(module._REMEMBERED) <= module.MAX_REMEMBERED


def test_waitress_requests_are_journalled_with_every_header_sent() -> None:
    with MockServer(load_scenario(QUICKSTART)) as mock:
        for trace in ("t-1", "t-2"):
            requests.post(
                mock.url + "/management/v1/policies/login/second_factors/_search",
                headers={"Authorization": "Bearer acme-admin-token", "X-Trace-Id": trace},
                timeout=5,
            )
        first, second = (dict(call.headers) for call in mock.state.journal.calls())
    assert (first["X-Trace-Id"], second["X-Trace-Id"]) == ("t-1", "t-2")
    assert second["Authorization"] == "Bearer acme-a\u2026"
    assert second["User-Agent"].startswith("python-requests/")
    assert {"Host", "Accept", "Accept-Encoding", "Connection", "Content-Length"} <= set(second)
