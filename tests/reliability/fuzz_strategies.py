"""Hypothesis strategies for requests the mock may get: near-miss paths, odd headers, junk bodies.

Shared by the in-process fuzz (falcon's test client over both apps) and the socket fuzz.
"""

from __future__ import annotations

from hypothesis import strategies as st

SECOND_FACTORS = "/management/v1/policies/login/second_factors/_search"
AUTH_FACTORS = "/management/v1/users/{}/auth_factors/_search"
ROUTES = (SECOND_FACTORS, AUTH_FACTORS)

# A scenario with a token that passes every check, one that is known but expired, users with
# and without factors, and a second org, so that random requests reach every kind of answer.
SCENARIO = """
version: 1
clock: "2025-08-28T10:46:22Z"
orgs:
  - name: ACME
    id: "100"
    login_policy: {second_factors: [otp, u2f]}
    members: [{user: admin, roles: [ORG_OWNER]}, {user: reader, roles: [ORG_SETTINGS_MANAGER]}]
    users:
      - {username: alice, id: "1", auth_factors: [otp, {type: u2f, name: "Key é", id: "11"}]}
      - {username: bob, id: "2"}
      - {username: admin, id: "3", type: machine}
      - {username: reader, id: "4", type: machine}
  - name: Other
    id: "200"
tokens:
  - {token: admin, user: admin}
  - {token: reader, user: reader}
  - {token: old, user: admin, expired: true}
"""
USER_IDS = ("1", "2", "3", "4", "11", "100", "999")
TOKENS = ("admin", "reader", "old", "unknown", "")
ORG_IDS = ("100", "200", "ACME", "300", " 100", "100 ")

METHODS = (
    "POST",
    "POST",
    "POST",
    "POST",
    "POST",
    "GET",
    "PUT",
    "DELETE",
    "PATCH",
    "HEAD",
    "OPTIONS",
    "TRACE",
)
ODD_METHODS = ("post", "PROPFIND", "X", "CONNECT", "M-SEARCH")

# Header values as they arrive over HTTP: bytes read as latin-1 (what WSGI and ASGI carry).
LATIN1 = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")
ASCII = st.characters(min_codepoint=0x21, max_codepoint=0x7E)


def _huge(alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A long value: one random chunk repeated (cheap to draw, still up to ~100 KB)."""
    return st.builds(
        lambda chunk, times: chunk * times,
        st.text(alphabet, min_size=1, max_size=20),
        st.integers(100, 5000),
    )


def header_value(alphabet: st.SearchStrategy[str] = LATIN1) -> st.SearchStrategy[str]:
    return st.one_of(st.text(alphabet, max_size=60), _huge(alphabet))


def percent_encode(text: str, which: list[bool]) -> str:
    """Percent-encode the characters of ``text`` flagged in ``which`` (as UTF-8 bytes)."""
    out = []
    for i, char in enumerate(text):
        # "?" and "#" always: raw, they would end the path (and the test client refuses them).
        if (i < len(which) and which[i]) or char in "?#":
            out.append("".join(f"%{byte:02X}" for byte in char.encode()))
        else:
            out.append(char)
    return "".join(out)


@st.composite
def user_ids(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["known", "known", "known", "text", "encoded", "long"]))
    if kind == "known":
        return draw(st.sampled_from(USER_IDS))
    if kind == "text":
        return draw(
            st.text(st.characters(exclude_characters="/?#\x00", codec="utf-8"), max_size=40)
        )
    if kind == "encoded":
        raw = draw(st.text(max_size=20))
        return percent_encode(raw, draw(st.lists(st.booleans(), max_size=20)))
    return (
        "9" * draw(st.integers(195, 205))
        if draw(st.booleans())
        else "1" * draw(st.integers(1000, 9000))
    )


def _rooted(path: str) -> str:
    return path if path.startswith("/") else "/" + path


@st.composite
def near_miss(draw: st.DrawFn) -> str:
    """A route with one small edit: a character dropped, added or changed, case, slashes."""
    return _rooted(draw(_edited_route()))


@st.composite
def _edited_route(draw: st.DrawFn) -> str:
    route = draw(st.sampled_from(ROUTES)).format(draw(st.sampled_from(USER_IDS)))
    edit = draw(
        st.sampled_from(["drop", "add", "change", "case", "slash", "suffix", "prefix", "encode"])
    )
    at = draw(st.integers(0, len(route) - 1))
    if edit == "drop":
        return route[:at] + route[at + 1 :]
    if edit == "add":
        return route[:at] + draw(st.sampled_from("/_.%:a0é")) + route[at:]
    if edit == "change":
        return route[:at] + draw(st.sampled_from("/_.%:A0-")) + route[at + 1 :]
    if edit == "case":
        return route[:at] + route[at:].upper()
    if edit == "slash":
        return route.replace("/", "//", 1) if draw(st.booleans()) else route + "/"
    if edit == "suffix":
        return route + draw(st.sampled_from([":search", "/x", ".json", "%00", "%2F", "/.."]))
    if edit == "prefix":
        return draw(st.sampled_from(["/api", "/management/v2", "/..", "/_mock", "/%2e"])) + route
    return percent_encode(route, draw(st.lists(st.booleans(), max_size=len(route))))


@st.composite
def paths(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(["second", "second", "auth", "auth", "auth", "near", "junk", "long"])
    )
    if kind == "second":
        return SECOND_FACTORS
    if kind == "auth":
        return AUTH_FACTORS.format(draw(user_ids()))
    if kind == "near":
        return draw(near_miss())
    if kind == "long":
        return "/" + "a/" * draw(st.integers(500, 5000))
    # No "?" or "#": the test client takes the query string apart from the path.
    junk = st.characters(exclude_characters="?#\x00", codec="utf-8")
    return "/" + draw(st.text(junk, max_size=80))


@st.composite
def _authorization(draw: st.DrawFn) -> str | None:
    kind = draw(st.sampled_from(["token", "token", "token", "none", "odd", "junk", "bare junk"]))
    if kind == "token":  # half of the requests carry a token the scenario knows
        return "Bearer " + draw(st.sampled_from(TOKENS))
    if kind == "none":
        return None
    if kind == "odd":
        return draw(
            st.sampled_from(
                [
                    "",
                    "Bearer",
                    "Bearer ",
                    "bearer admin",
                    "BEARER admin",
                    "Bearer  admin",
                    "Bearer admin ",
                    " Bearer admin",
                    "Basic YTpi",
                    "Bearer\tadmin",
                    "Bearer é",
                ]
            )
        )
    if kind == "junk":
        return "Bearer " + draw(header_value())
    return draw(header_value())


authorization = _authorization()
org_header = st.one_of(st.none(), st.sampled_from(ORG_IDS), header_value())
namespace_header = st.one_of(
    st.none(), st.just(""), st.sampled_from(["default", "ns-1", "a b", "é", "x" * 129])
)
content_types = st.sampled_from(
    [
        None,
        "application/json",
        "application/json; charset=latin-1",
        "text/plain",
        "application/grpc",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "x/y",
        "",
    ]
)
bodies = st.one_of(
    st.none(),
    st.sampled_from([b"", b"{}", b"[]", b"null", b'{"query":{"limit":1}}', b"{", b"\xff\xfe"]),
    st.binary(max_size=2000),
    st.text(max_size=300).map(str.encode),
    st.integers(10_000, 200_000).map(lambda n: b"x" * n),
)
query_strings = st.one_of(
    st.none(),
    st.sampled_from(["a=1", "user_id=1", "%zz", "=&=&", "limit=-1"]),
    st.text(ASCII, max_size=50).map(lambda q: q.lstrip("?")),
)
