"""Routes, routing errors, headers, and what of a request is ignored (BEHAVIOR 1, 2, 6)."""

from __future__ import annotations

import pytest
from support import (
    ALICE,
    MAIN,
    SECOND_FACTORS,
    auth_factors,
    bearer,
    checked,
    client,
)

ROUTES = [SECOND_FACTORS, auth_factors(ALICE)]


@pytest.mark.parametrize("path", ROUTES)
def test_post_answers_200(asgi: bool, path: str) -> None:
    result = client(MAIN, asgi).simulate_post(path, headers=bearer("acme-admin"))
    assert result.status_code == 200
    checked(result)


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (None, None),
        (b"", "application/json"),
        (b"{}", "application/json"),
        (b"{not json", "application/json"),
        (b'{"query":{"limit":1},"unknown":[1,2]}', "application/json"),
        (b"\x00\xff binary", "application/octet-stream"),
        (b"a=b", "application/x-www-form-urlencoded"),
    ],
)
def test_body_and_content_type_are_ignored(
    asgi: bool, path: str, body: bytes | None, content_type: str | None
) -> None:
    c = client(MAIN, asgi)
    reference = c.simulate_post(path, headers=bearer("acme-admin"))
    headers = bearer("acme-admin")
    if content_type:
        headers["Content-Type"] = content_type
    result = c.simulate_post(path, headers=headers, body=body)
    assert result.status_code == 200
    assert result.content == reference.content


@pytest.mark.parametrize("path", ROUTES)
def test_query_string_is_ignored(asgi: bool, path: str) -> None:
    c = client(MAIN, asgi)
    reference = c.simulate_post(path, headers=bearer("acme-admin"))
    result = c.simulate_post(path, headers=bearer("acme-admin"), query_string="limit=1&asc=true")
    assert result.content == reference.content


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "*/*", "application/grpc"])
@pytest.mark.parametrize("path", [*ROUTES, "/nope"])
def test_every_answer_is_json_whatever_accept_says(asgi: bool, path: str, accept: str) -> None:
    headers = {**bearer("acme-admin"), "Accept": accept}
    result = client(MAIN, asgi).simulate_post(path, headers=headers)
    assert result.headers["content-type"] == "application/json"
    checked(result)


@pytest.mark.parametrize(
    ("method", "path", "token"),
    [
        ("POST", SECOND_FACTORS, "acme-admin"),  # 200
        ("POST", auth_factors(ALICE), "acme-admin"),  # 200
        ("POST", SECOND_FACTORS, None),  # 401
        ("POST", SECOND_FACTORS, "loner"),  # 404 membership
        ("GET", SECOND_FACTORS, "acme-admin"),  # 405
        ("POST", "/management/v1/nope", "acme-admin"),  # 404 routing
    ],
)
def test_headers_on_every_answer(asgi: bool, method: str, path: str, token: str | None) -> None:
    headers = bearer(token) if token else {}
    result = client(MAIN, asgi).simulate_request(method, path, headers=headers)
    assert result.headers["content-type"] == "application/json"
    assert result.headers["cache-control"] == "no-store"
    assert result.headers["pragma"] == "no-cache"
    assert result.headers["x-robots-tag"] == "none"
    # The scenario freezes the clock at 2025-08-28T10:46:22.123456Z.
    assert result.headers["expires"] == "Thu, 28 Aug 2025 10:46:22 GMT"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/management/v1",
        "/management/v1/policies/login/second_factors",
        "/management/v1/policies/login/second_factors/_search/",
        "/management/v1/users/x/auth_factors",
        "/management/v2/policies/login/second_factors/_search",
        "/MANAGEMENT/v1/policies/login/second_factors/_search",
        "/_mock/anything",
    ],
)
def test_unknown_path_is_404_not_found(asgi: bool, path: str) -> None:
    result = client(MAIN, asgi).simulate_post(path, headers=bearer("acme-admin"))
    assert result.status_code == 404
    assert result.content == b'{"code":5,"message":"Not Found"}'


def test_unknown_path_comes_before_any_auth_check(asgi: bool) -> None:
    result = client(MAIN, asgi).simulate_post("/nope")  # no Authorization at all
    assert result.status_code == 404
    assert result.json == {"code": 5, "message": "Not Found"}


# falcon's test client checks WSGI environs, and warns of methods outside HTTP/1.1's list.
@pytest.mark.filterwarnings("ignore:Unknown REQUEST_METHOD")
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "PROPFIND"])
@pytest.mark.parametrize("path", ROUTES)
def test_other_methods_on_a_route_are_405(asgi: bool, path: str, method: str) -> None:
    # No Authorization either: routing errors come before the auth checks.
    result = client(MAIN, asgi).simulate_request(method, path)
    assert result.status_code == 405
    assert result.headers["content-type"] == "application/json"
    assert result.headers["cache-control"] == "no-store"
    if method != "HEAD":
        assert result.content == b'{"code":12,"message":"Method Not Allowed"}'
