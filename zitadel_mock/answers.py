"""The two routes as ZITADEL answers them: plain functions over the state, no HTTP.

Order of a request: forced errors (so a test can force any answer), then ZITADEL's auth checks
in its order (header, scheme, token, organisation, membership, permission), then request
validation, then the answer.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass, replace
from typing import NamedTuple

from .answers_v2 import V2Args, decide
from .codes import ZError
from .faults import Injection
from .journal import Call, did_you_mean, shown
from .model import GET_LOGIN_SETTINGS, LIST_AUTH_FACTORS, LIST_SECOND_FACTORS, V2_RPCS, FactorState
from .protocols.rest.protojson import auth_factors_body, error_body, second_factors_body
from .recording import elapsed, journal_entry
from .roles import POLICY_READ, USER_READ, grants
from .state import State, View
from .versions import ORG_FILTER

__all__ = [
    "Answer",
    "Request",
    "handle",
    "refused",
    "routing_error",
]

# The interceptor's permission of each rpc; the v2 UserService RPCs need only a valid token and
# an existing org in context there (their handlers check user.read: answers_v2).
PERMISSION = {
    LIST_SECOND_FACTORS: POLICY_READ,
    LIST_AUTH_FACTORS: USER_READ,
    GET_LOGIN_SETTINGS: POLICY_READ,
}
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
    # For the journal only (they decide nothing): the headers (Authorization shortened),
    # when it arrived (time.time_ns) and perf_counter then, its protocol and namespace.
    headers: tuple[tuple[str, str], ...] = ()
    arrived_ns: int = 0
    started: float = 0.0
    protocol: str = "rest"
    namespace: str = "default"
    v2: V2Args | None = None  # a v2 request's filters or context (answers_v2)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    www_authenticate: str | None = None
    injection: Injection | None = None  # a delay or fault for the HTTP layer to carry out
    why: str = ""  # what decided it, for the journal and the log (never in the body)
    error: ZError | None = None  # the error answered, for the protocols that frame it otherwise
    # A malformed_body fault cuts ``body`` (REST's JSON); the other protocols cut their own
    # framing of the answer this was.
    intact: bytes | None = None


def _error_answer(error: ZError) -> Answer:
    return Answer(
        error.http_status,
        error_body(error),
        error.www_authenticate,
        error=error,
    )


@dataclass(frozen=True)
class _Caller:
    user_id: str | None
    home_org: str | None
    known: bool  # a valid token (or any token, when the scenario lists none)


def _caller(view: View, token: str | None) -> _Caller:
    if token is None:
        return _Caller(None, None, False)
    issued = view.issued.get(token) if view.issued else None
    if issued is not None:  # issued by the token endpoint: usable on the API with the audience
        user = view.users.get(issued.user_id)
        usable = issued.api_audience and issued.expires_ns > _now_ns(view)
        return _Caller(issued.user_id, user.org_id if user else None, usable)
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


def _user_name(view: View, user_id: str | None) -> str:
    user = view.users.get(user_id) if user_id else None
    return user.username if user is not None and user.id == user_id else repr(user_id)


def _authorize(
    view: View, request: Request, caller: _Caller, org_id: str | None, token: str | None
) -> tuple[ZError, str] | None:
    """The auth check that refuses the request, with why; None if it passes them all."""
    auth = request.authorization
    if not auth:
        return AUTH_HEADER_MISSING, "no Authorization header"
    if not auth.startswith("Bearer "):
        scheme = auth.partition(" ")[0]
        return INVALID_AUTH_HEADER, f"Authorization scheme {shown(scheme)} is not 'Bearer'"
    if not caller.known:
        return TOKEN_INVALID, _token_why(view, token or "")
    org = view.orgs.get(org_id) if org_id else None
    if org is None or org.id != org_id:  # the index also holds names; the header is an id
        if request.org_header:
            hint = " (that is its name; send its id)" if org is not None else ""
            why = f"x-zitadel-orgid {shown(request.org_header)} names no organisation{hint}"
        else:
            why = f"the token's user {_user_name(view, caller.user_id)} has no organisation"
        return ORG_MISSING, why
    needed = PERMISSION.get(request.rpc)
    if needed is None:
        return None
    roles = _roles(view, caller, org.id)
    if roles is None:
        return NO_MEMBERSHIP, f"{_user_name(view, caller.user_id)} has no membership in {org.name}"
    if not grants(roles, needed):
        held = ", ".join(sorted(roles))
        return NO_PERMISSION, (
            f"{_user_name(view, caller.user_id)} holds {held} in {org.name}; "
            f"{request.rpc} needs {needed}"
        )
    return None


def _now_ns(view: View) -> int:
    return view.clock_ns if view.clock_ns is not None else time.time_ns()


def _token_why(view: View, token: str) -> str:
    """Why a bearer token is refused: expired, unknown (with the nearest ones), or empty."""
    if not token:
        return "the bearer token is empty"
    issued = view.issued.get(token) if view.issued else None
    if issued is not None:
        whose = f"the access token of {_user_name(view, issued.user_id)}"
        if not issued.api_audience:
            return (
                f"{whose} was issued without the scope "
                "urn:zitadel:iam:org:project:id:zitadel:aud, so its audience is not ZITADEL's API"
            )
        return f"{whose} has expired"
    entry = view.tokens.get(token)
    if entry is not None:
        return f"token {shown(token)} of {_user_name(view, entry.user_id)} has expired"
    return f"token {shown(token)} is not in the scenario{_token_hint(view, token)}"


# difflib compares two tokens in some 20 to 40 microseconds: a refused token is compared with
# the scenario's tokens nearest to it in sorted order (those that share its beginning), at most
# this many, so that a refusal costs about a millisecond whatever the scenario's size. The
# sorted list is made once per snapshot, on the first refusal of an unknown token.
MAX_TOKEN_HINTS = 32


def _token_hint(view: View, token: str) -> str:
    ordered: list[str] | None = view.derived.get("sorted tokens")
    if ordered is None:  # two threads may both sort: the same list, either kept
        ordered = sorted({t.token for t in view.tokens.values()})
        view.derived["sorted tokens"] = ordered
    at = bisect.bisect_left(ordered, token)
    half = MAX_TOKEN_HINTS // 2
    return did_you_mean(token, ordered[max(0, at - half) : at + half])


def handle(state: State, request: Request) -> Answer:
    """Answer one call of either route, and record it in the journal."""
    view = state.view
    v2 = request.v2
    key = (request.rpc, request.authorization, request.org_header, request.user_id, v2)
    decided = view.answers.get(key)
    if decided is None:
        decided = _decide(view, request, state.scenario.instance_id)
        # An issued token expires by the clock, not by a change: its answers are not kept.
        issued = view.issued and decided[0] in view.issued
        size = len(key[1] or "") + len(key[2] or "") + len(key[3] or "")
        if not issued and size + (v2.size if v2 is not None else 0) <= MEMO_KEY:
            if len(view.answers) >= MEMO_SIZE:
                view.answers.clear()
            view.answers[key] = decided
    token, org_id, answer = decided
    why = answer.why  # the normal answer's
    injection = state.take_error(request.rpc, request.user_id, org_id, token)
    if injection is not None:
        answer = _injected(injection, answer)
    state.record(
        journal_entry(
            request.rpc,
            request,
            request.user_id,
            org_id,
            token,
            answer.status,
            answer.body,
            injection,
            why,
        )
    )
    return answer


def _decide(
    view: View, request: Request, instance_id: str
) -> tuple[str | None, str | None, Answer]:
    """The caller's token, the organisation in context, and the answer, from one snapshot."""
    auth = request.authorization
    token = auth[len("Bearer ") :] if auth and auth.startswith("Bearer ") else None
    caller = _caller(view, token)
    org_id = request.org_header or caller.home_org
    if request.rpc in V2_RPCS:
        return token, org_id, _answer_v2(view, request, caller, org_id, token, instance_id)
    return token, org_id, _answer(view, request, caller, org_id, token)


def _answer_v2(
    view: View,
    request: Request,
    caller: _Caller,
    org_id: str | None,
    token: str | None,
    instance_id: str,
) -> Answer:
    denied = _authorize(view, request, caller, org_id, token)
    if denied is not None:
        return replace(_error_answer(denied[0]), why=denied[1])
    decided = decide(
        view,
        request.rpc,
        request.user_id,
        request.v2 or V2Args(),
        caller.user_id,
        org_id or "",
        lambda org: _roles(view, caller, org),
        instance_id,
    )
    if decided.error is not None:
        return replace(_error_answer(decided.error), why=decided.why)
    return Answer(200, decided.body or b"{}", why=decided.why)


def _injected(injection: Injection, normal: Answer) -> Answer:
    """The answer a forced rule, the latency or the rate limit makes of a request."""
    if injection.code is not None:  # a forced error, or the rate limit's
        answer = _error_answer(ZError.of(injection.code, injection.message, injection.id))
    elif injection.fault == "timeout":
        answer = _error_answer(DEADLINE_EXCEEDED)  # if the hold passes with the client there
    elif injection.fault == "malformed_body":
        answer = replace(normal, body=normal.body[: len(normal.body) // 2], intact=normal.body)
    elif injection.fault is not None:
        answer = Answer(200, b"")  # the connection is dropped instead
    else:
        answer = normal
    return replace(answer, injection=injection)


def _answer(
    view: View, request: Request, caller: _Caller, org_id: str | None, token: str | None
) -> Answer:
    denied = _authorize(view, request, caller, org_id, token)
    if denied is not None:
        return replace(_error_answer(denied[0]), why=denied[1])
    org = view.orgs.get(org_id or "")
    if request.rpc == LIST_SECOND_FACTORS:
        custom = view.policies.get(org_id or "")
        policy = custom or view.instance_policy
        whose = f"{org.name}'s login policy" if custom else "the instance's default login policy"
        count = len(policy.policy.second_factors)
        why = f"answered: {count} second factor{'s' * (count != 1)} of {whose}"
        return Answer(200, second_factors_body(policy.policy, policy.updated_ns), why=why)
    user_id = request.user_id or ""
    if not 1 <= len(user_id) <= MAX_USER_ID:
        why = f"the user id has {len(user_id)} characters; ZITADEL takes 1 to {MAX_USER_ID}"
        return replace(_error_answer(USER_ID_LENGTH), why=why)
    user = view.users.get(user_id)
    if user is not None and user.id != user_id:
        user = None  # the index also holds usernames; the path holds an id
    if user is None:
        return Answer(
            200,
            auth_factors_body(view.factors.get(user_id, ())),
            why=f"answered: no auth factors: user {shown(user_id)} is not in the scenario",
        )
    if view.profile.has(ORG_FILTER) and user.org_id != org_id:
        # From 4.12.2 only users of the organisation in context are listed (the memo's key
        # holds the token and the org header, which decide that organisation).
        where = org.name if org is not None else repr(org_id)
        why = f"answered: no auth factors: {user.username} is not in {where}, the org in context"
        return Answer(200, auth_factors_body(()), why=why)
    factors = view.factors.get(user_id, ())
    ready = sum(1 for f in factors if f.state is FactorState.READY)
    why = f"answered: {ready} ready auth factor{'s' * (ready != 1)} of {user.username}"
    return Answer(200, auth_factors_body(factors), why=why)


def routing_error(state: State, request: Request, *, known_path: bool, why: str = "") -> Answer:
    """A path that is no route (404), or a route called with another method than POST (405).

    ``why`` names the nearest route (the protocol adapter knows its routes).
    """
    return refused(state, request, METHOD_NOT_ALLOWED if known_path else NOT_FOUND, why)


def refused(state: State, request: Request, error: ZError, why: str) -> Answer:
    """An error answered before any RPC runs (no route, an unknown gRPC method, a message that
    does not decode), recorded in the journal with why."""
    answer = replace(_error_answer(error), why=why)
    state.record(
        Call(
            request.rpc or None,
            request.method,
            request.path,
            request.user_id,
            None,
            None,
            answer.status,
            answer.body,
            why=why,
            time_ns=request.arrived_ns,
            duration=elapsed(request.started),
            headers=request.headers,
            protocol=request.protocol,
            namespace=request.namespace,
        )
    )
    return answer
