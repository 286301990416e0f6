"""Random requests against both apps: every answer is one ZITADEL could give, never a 500.

Methods, paths (the routes, near misses of them, percent-encodings, very long ones), headers
(Authorization and x-zitadel-orgid variants, huge and non-ASCII values), query strings, bodies
and content types are drawn at random. The scenario forces no error, so for every request:

- no exception escapes the app, and none is recorded in any namespace's ``server_errors``;
- the answer carries ZITADEL's headers (``Content-Type: application/json`` among them);
- its body is a route's success answer (HTTP 200) or a ``google.rpc.Status`` whose code
  (1 to 16) matches the HTTP status by the gateway's mapping (405 for a known path called with
  another method than POST).
"""

from __future__ import annotations

import json
import warnings
from urllib.parse import unquote

import falcon.testing
import pytest
from fuzz_strategies import (
    METHODS,
    ODD_METHODS,
    SCENARIO,
    authorization,
    bodies,
    content_types,
    namespace_header,
    org_header,
    paths,
    query_strings,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from testkit import check_answer

from zitadel_mock import create_app, parse_scenario
from zitadel_mock.codes import http_status
from zitadel_mock.namespaces import Namespaces

METHOD = st.one_of(st.sampled_from(METHODS), st.sampled_from(ODD_METHODS))


def routed(path: str) -> str:
    """The path as falcon routes it: percent-escapes decoded, leading slashes as one.

    A decoded ``?`` is escaped again: it is part of the path, not the start of a query string.
    """
    return "/" + unquote(path).lstrip("/").replace("?", "%3F")


def check_envelope(status: int, content: bytes) -> None:
    """An error answer's code matches its HTTP status (405 for a route's wrong method)."""
    answer = json.loads(content)
    code = answer["code"]
    expected = 405 if code == 12 else http_status(code)
    assert status == expected, f"HTTP {status} with code {code}: expected HTTP {expected}"


@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
def test_every_answer_is_one_zitadel_could_give(asgi: bool, examples: int) -> None:
    spaces = Namespaces(parse_scenario(SCENARIO, source="fuzz.yaml"), max_namespaces=4)
    client = falcon.testing.TestClient(create_app(spaces, asgi=asgi))

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        method=METHOD,
        path=paths(),
        query=query_strings,
        auth=authorization,
        org=org_header,
        namespace=namespace_header,
        content_type=content_types,
        body=bodies,
    )
    def one_request(
        method: str,
        path: str,
        query: str | None,
        auth: str | None,
        org: str | None,
        namespace: str | None,
        content_type: str | None,
        body: bytes | None,
    ) -> None:
        headers = {
            name: value
            for name, value in [
                ("Authorization", auth),
                ("x-zitadel-orgid", org),
                ("X-Mock-Namespace", namespace),
                ("Content-Type", content_type),
            ]
            if value is not None
        }
        with warnings.catch_warnings():
            # Falcon's test client warns of a method no HTTP server would pass on; sent anyway.
            warnings.filterwarnings("ignore", "Unknown REQUEST_METHOD")
            result = client.simulate_request(
                method, path, query_string=query, headers=headers, body=body
            )
        event(f"HTTP {result.status_code}")
        assert result.status_code != 500, result.text
        for name, state in spaces.items():
            assert state.server_errors == [], f"namespace {name}: {state.server_errors[0]}"
        check_answer(method, routed(path), result.status_code, result.headers, result.content)
        if result.status_code != 200 and method != "HEAD":
            check_envelope(result.status_code, result.content)

    one_request()
