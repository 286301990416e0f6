"""The two routes as ZITADEL answers them: plain functions over the state, no HTTP.

Order of a request: forced errors (so a test can force any answer), then ZITADEL's auth checks
in its order (header, scheme, token, organisation, membership, permission), then request
validation, then the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

from .codes import ZError
from .faults import Injection
from .journal import Call
from .model import LIST_AUTH_FACTORS, LIST_SECOND_FACTORS
from .protocols.rest.protojson import auth_factors_body, error_body, second_factors_body
from .roles import POLICY_READ, USER_READ, grants
from .state import State, View
from .versions import ORG_FILTER

__all__ = ["Answer", "Request", "handle", "routing_error"]

PERMISSION = {LIST_SECOND_FACTORS: POLICY_READ, LIST_AUTH_FACTORS: USER_READ}
MAX_USER_ID = 200
_OWNER = frozenset({"IAM_OWNER"})
# Each snapshot keeps the answers it gave, by (rpc, Authorization, org header, user id): at most
# this many, and only for keys of a sane size, every part counted (a client's huge header, of
# any of them, is worked out each time rather than kept: 1,024 keys of 100 KB would be 100 MB).
# The path adds nothing the user id does not, and a namespace name is at most 128 characters.
MEMO_SIZE = 1024
MEMO_KEY = 1024

AUTH_HEADER_MISSING = ZError(16, "auth header missing")
INVALID_AUTH_HEADER = ZError(16, "invalid auth header", "AUTH-toLo1")
TOKEN_INVALID = ZError(16, "Errors.Token.Invalid", "AUTH-7fs1e")
ORG_MISSING = ZError(7, "Organisation doesn't exist", "AUTH-Bs7Ds")
NO_MEMBERSHIP = ZError(5, "membership not found", "AUTHZ-cdgFk")
NO_PERMISSION = ZError(7, "No matching permissions found", "AUTH-5mWD2")
USER_ID_LENGTH = ZError(
    3,
    "invalid ListHumanAuthFactorsRequest.UserId: "
    "value length must be between 1 and 200 runes, inclusive",
)
NOT_FOUND = ZError(5, "Not Found")
# What a timeout fault answers once its hold has passed and the client is still there.
DEADLINE_EXCEEDED = ZError(4, "context deadline exceeded")
METHOD_NOT_ALLOWED = ZError(12, "Method Not Allowed", status=405)


class Request(NamedTuple):
    """What the routes read of an HTTP request (the body and the query string: nothing)."""

    rpc: str
    method: str
    path: str
    authorization: str | None
    org_header: str | None
    user_id: str | None = None


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    www_authenticate: str | None = None
    injection: Injection | None = None  # a delay or fault for the HTTP layer to carry out


def _error_answer(error: ZError) -> Answer:
    return Answer(
        error.http_status,
        error_body(error),
        error.www_authenticate,
    )


@dataclass(frozen=True)
class _Caller:
    user_id: str | None
    home_org: str | None
    known: bool  # a valid token (or any token, when the scenario lists none)


def _caller(view: View, token: str | None) -> _Caller:
    if token is None:
        return _Caller(None, None, False)
    entry = view.tokens.get(token)
    if entry is not None:
        user = view.users.get(entry.user_id)
        return _Caller(entry.user_id, user.org_id if user else None, not entry.expired)
    if view.open_tokens and token:
        return _Caller(None, view.first_org_id, True)
    return _Caller(None, None, False)


def _roles(view: View, caller: _Caller, org_id: str) -> frozenset[str] | None:
    """The caller's roles in ``org_id`` (instance roles included); None without membership."""
    if caller.user_id is None:  # an open-mode token: IAM_OWNER
        return _OWNER
    instance = view.instance_roles.get(caller.user_id)
    in_org = view.org_roles.get((org_id, caller.user_id))
    if instance is None and in_org is None:
        return None
    return (instance or frozenset()) | (in_org or frozenset())


def _authorize(view: View, request: Request, caller: _Caller, org_id: str | None) -> ZError | None:
    if not request.authorization:
        return AUTH_HEADER_MISSING
    if not request.authorization.startswith("Bearer "):
        return INVALID_AUTH_HEADER
    if not caller.known:
        return TOKEN_INVALID
    org = view.orgs.get(org_id) if org_id else None
    if org is None or org.id != org_id:  # the index also holds names; the header is an id
        return ORG_MISSING
    roles = _roles(view, caller, org.id)
    if roles is None:
        return NO_MEMBERSHIP
    if not grants(roles, PERMISSION[request.rpc]):
        return NO_PERMISSION
    return None


def handle(state: State, request: Request) -> Answer:
    """Answer one call of either route, and record it in the journal."""
    view = state.view
    key = (request.rpc, request.authorization, request.org_header, request.user_id)
    decided = view.answers.get(key)
    if decided is None:
        decided = _decide(view, request)
        if len(key[1] or "") + len(key[2] or "") + len(key[3] or "") <= MEMO_KEY:
            if len(view.answers) >= MEMO_SIZE:
                view.answers.clear()
            view.answers[key] = decided
    token, org_id, answer = decided
    injection = state.take_error(request.rpc, request.user_id, org_id, token)
    if injection is not None:
        answer = _injected(injection, answer)
    # A fault that drops the connection or holds the request sends no answer: status 0.
    dropped = injection is not None and injection.fault not in (None, "malformed_body")
    state.record(
        Call(
            request.rpc,
            request.method,
            request.path,
            request.user_id,
            org_id,
            token,
            0 if dropped else answer.status,
            b"" if dropped else answer.body,
            injection is not None and injection.replaces_answer,
            injection,
        )
    )
    return answer


def _decide(view: View, request: Request) -> tuple[str | None, str | None, Answer]:
    """The caller's token, the organisation in context, and the answer, from one snapshot."""
    auth = request.authorization
    token = auth[len("Bearer ") :] if auth and auth.startswith("Bearer ") else None
    caller = _caller(view, token)
    org_id = request.org_header or caller.home_org
    return token, org_id, _answer(view, request, caller, org_id)


def _injected(injection: Injection, normal: Answer) -> Answer:
    """The answer a forced rule, the latency or the rate limit makes of a request."""
    if injection.code is not None:  # a forced error, or the rate limit's
        answer = _error_answer(ZError.of(injection.code, injection.message, injection.id))
    elif injection.fault == "timeout":
        answer = _error_answer(DEADLINE_EXCEEDED)  # if the hold passes with the client there
    elif injection.fault == "malformed_body":
        answer = replace(normal, body=normal.body[: len(normal.body) // 2])
    elif injection.fault is not None:
        answer = Answer(200, b"")  # the connection is dropped instead
    else:
        answer = normal
    return replace(answer, injection=injection)


def _answer(view: View, request: Request, caller: _Caller, org_id: str | None) -> Answer:
    denied = _authorize(view, request, caller, org_id)
    if denied is not None:
        return _error_answer(denied)
    if request.rpc == LIST_SECOND_FACTORS:
        policy = view.policies.get(org_id or "") or view.instance_policy
        return Answer(200, second_factors_body(policy.policy, policy.updated_ns))
    user_id = request.user_id or ""
    if not 1 <= len(user_id) <= MAX_USER_ID:
        return _error_answer(USER_ID_LENGTH)
    if view.profile.has(ORG_FILTER):
        # From 4.12.2 only users of the organisation in context are listed (the memo's key
        # holds the token and the org header, which decide that organisation).
        user = view.users.get(user_id)
        if user is None or user.org_id != org_id:
            return Answer(200, auth_factors_body(()))
    return Answer(200, auth_factors_body(view.factors.get(user_id, ())))


def routing_error(state: State, method: str, path: str, *, known_path: bool) -> Answer:
    """A path that is no route (404), or a route called with another method than POST (405)."""
    answer = _error_answer(METHOD_NOT_ALLOWED if known_path else NOT_FOUND)
    state.record(Call(None, method, path, None, None, None, answer.status, answer.body))
    return answer
