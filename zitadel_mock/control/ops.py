"""The control API's operations: plain functions over a namespace's state, no HTTP.

Each operation reads a ``ControlRequest`` and returns a ``Reply`` (a status and a JSON-able
body), or raises ``ControlError`` with a 4xx status and a precise message. An operation that
fails changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..bigints import MAX_DIGITS, is_digit_limit, locate_json, too_long_message
from ..errors import ScenarioError
from ..faults import total_times
from ..journal import Call, did_you_mean, known_names, parse_status, resolve, select, shown
from ..model import ALL_RPCS, Factor, Scenario
from ..namespaces import NamespacesFull
from ..scenario.fields import Invalid, expect_bool, expect_list, expect_mapping, expect_str
from ..scenario.read import ERROR_RULE_KEYS, MAX_USER_ID, parse_scenario
from ..scenario.source import format_path, gc_paused
from ..state import State
from ..usage import UsageTracker
from .forms import (
    ControlError,
    ControlRequest,
    Operation,
    Reply,
    factor_json,
    rule_json,
    scenario_json,
    token_json,
    user_json,
)

__all__ = ["OPERATIONS", "install_scenario", "read_scenario", "replace_scenario"]

SCENARIO_SOURCE = "request body"


def _unprocessable(exc: Invalid | ScenarioError) -> ControlError:
    """A body that is well-formed JSON but not a valid request: 422 with the key path."""
    path = format_path(exc.path) if isinstance(exc, Invalid) else exc.path
    detail = {"path": path, "message": exc.message}
    return ControlError(422, f"{path}: {exc.message}" if path else exc.message, [detail])


def _checked(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except (Invalid, ScenarioError) as exc:
        raise _unprocessable(exc) from None


def _json(request: ControlRequest) -> Any:
    """The body as JSON; an integer too long for Python to read is a 422 at its key path."""
    try:
        return request.json()
    except ValueError as exc:  # invalid JSON is a ControlError already: this is the digit limit
        if not is_digit_limit(exc):
            raise
        found = locate_json(request.body.decode("utf-8", "replace"))
        if found is None:
            message = f"the body holds an integer of more than {MAX_DIGITS:,} digits"
            raise ControlError(422, message) from None
        line, path, digits = found
        where = format_path(path)
        message = too_long_message(digits)
        detail = {"line": line, "path": where, "message": message}
        raise ControlError(422, f"{where}: {message}" if where else message, [detail]) from None


def _object(request: ControlRequest) -> dict[str, Any]:
    value = _json(request)
    if not isinstance(value, dict):
        raise ControlError(400, "expected a JSON object in the body")
    return value


def _one(request: ControlRequest, key: str) -> str | None:
    values = request.query.get(key)
    if not values:
        return None
    if len(values) > 1:
        raise ControlError(400, f"query parameter {key!r} is given {len(values)} times")
    return values[0]


# -- the operations ----------------------------------------------------------------------------


def health(request: ControlRequest) -> Reply:
    spaces = request.namespaces
    return Reply(
        200,
        {
            "status": "ok",
            "scenario": spaces.scenario.source,
            "zitadel_version": spaces.scenario.zitadel_version,
            "namespaces": len(spaces),
            "reload_error": spaces.reload_error,
        },
    )


def reset(request: ControlRequest) -> Reply:
    state = request.state()
    state.reset()
    return Reply(200, {"namespace": request.namespace, "scenario": state.scenario.source})


def get_scenario(request: ControlRequest) -> Reply:
    return Reply(200, scenario_json(request.state().scenario))


def read_scenario(request: ControlRequest) -> Scenario:
    """Parse and check the body of PUT /scenario: the long part, which changes nothing."""
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise ControlError(400, "the body is not UTF-8 text") from None
    kind = request.content_type.lower()
    fmt = "json" if "json" in kind else "yaml" if "yaml" in kind else None
    try:
        with gc_paused(keep=True):  # answers go on meanwhile: no pass over it later
            return parse_scenario(text, source=SCENARIO_SOURCE, format=fmt)
    except ScenarioError as exc:
        detail = {"line": exc.line, "path": exc.path, "message": exc.message}
        raise ControlError(422, str(exc), [detail]) from None


def install_scenario(request: ControlRequest, scenario: Scenario) -> Reply:
    """Serve a checked scenario in the request's namespace; answer a summary (small)."""
    spaces = request.namespaces
    try:
        spaces.replace(request.namespace, scenario)
    except NamespacesFull as exc:
        raise ControlError(409, str(exc)) from None
    except ScenarioError as exc:  # e.g. a fault the ASGI app cannot do
        raise _unprocessable(exc) from None
    return Reply(200, scenario_summary(request.namespace, scenario))


def scenario_summary(namespace: str, scenario: Scenario) -> dict[str, Any]:
    return {
        "namespace": namespace,
        "source": scenario.source,
        "zitadel_version": scenario.zitadel_version,
        "orgs": len(scenario.orgs),
        "users": len(scenario.users),
        "tokens": None if scenario.tokens is None else len(scenario.tokens),
        "errors": len(scenario.errors),
    }


def replace_scenario(request: ControlRequest) -> Reply:
    """PUT /scenario in one go (the server runs the two parts apart: see control.py)."""
    return install_scenario(request, read_scenario(request))


def _calls(request: ControlRequest) -> list[Call]:
    """The namespace's calls selected by the query's filters (journal.py says which are valid)."""
    state = request.state()
    rpc, user, org, status = (_one(request, key) for key in ("rpc", "user", "org", "status"))
    if rpc is not None and rpc not in ALL_RPCS:
        raise ControlError(400, f"rpc: {shown(rpc)} is not one of {', '.join(ALL_RPCS)}")
    view = state.view
    try:
        wanted = (
            resolve("user", user, view.users) if user is not None else None,
            resolve("org", org, view.orgs) if org is not None else None,
            parse_status(status) if status is not None else None,
        )
    except ValueError as exc:
        raise ControlError(400, str(exc)) from None
    return select(state.journal.calls(), rpc, *wanted)


def journal(request: ControlRequest) -> Reply:
    calls = _calls(request)
    log = request.state().journal
    return Reply(
        200,
        {
            "calls": [call.to_dict() for call in calls],
            "count": len(calls),
            "total": len(log),
            "dropped": log.dropped,
            "max": log.maxlen,
        },
    )


def journal_count(request: ControlRequest) -> Reply:
    return Reply(200, {"count": len(_calls(request))})


def clear_journal(request: ControlRequest) -> Reply:
    log = request.state().journal
    count = len(log)
    log.clear()
    return Reply(200, {"cleared": count})


def list_errors(request: ControlRequest) -> Reply:
    rules = request.state().errors()
    return Reply(200, {"errors": [rule_json(rule, left) for rule, left in rules]})


def add_error(request: ControlRequest) -> Reply:
    body = _object(request)
    # Checked here first: add_error(**body) would take a key like "self" as its own argument.
    _checked(lambda: expect_mapping(body, (), ERROR_RULE_KEYS))
    rule = _checked(lambda: request.state().add_error(origin="POST /_mock/errors", **body))
    return Reply(201, rule_json(rule, total_times(rule)))


def clear_errors(request: ControlRequest) -> Reply:
    state = request.state()
    count = len(state.errors())
    state.clear_errors()
    return Reply(200, {"cleared": count})


def _org_id(state: State, ref: str) -> str:
    org = state.view.orgs.get(ref)
    if org is None:
        near = did_you_mean(ref, known_names("org", state.view.orgs))
        raise ControlError(404, f"no org {shown(ref)} in this namespace{near}")
    return str(org.id)


def _user_id(state: State, ref: str) -> str:
    user = state.view.users.get(ref)
    if user is None:
        near = did_you_mean(ref, known_names("user", state.view.users))
        raise ControlError(404, f"no user {shown(ref)} in this namespace{near}")
    return str(user.id)


def set_second_factors(request: ControlRequest) -> Reply:
    state = request.state()
    org_id = _org_id(state, request.params["org"])
    body = _object(request)
    spec = _checked(lambda: expect_mapping(body, (), ("second_factors",), ("second_factors",)))
    factors = spec["second_factors"]
    if factors is not None:
        _checked(lambda: expect_list(factors, ("second_factors",)))
    _checked(lambda: state.set_second_factors(org_id, factors))
    policy = state.view.policies.get(org_id)
    names = None if policy is None else [f.key for f in policy.policy.second_factors]
    return Reply(200, {"org_id": org_id, "second_factors": names})


def clear_second_factors(request: ControlRequest) -> Reply:
    state = request.state()
    org_id = _org_id(state, request.params["org"])
    state.set_second_factors(org_id, None)
    return Reply(200, {"org_id": org_id, "second_factors": None})


def add_factor(request: ControlRequest) -> Reply:
    state = request.state()
    ref = request.params["user"]
    user_id = _user_id(state, ref)
    spec = _json(request)
    factor = _checked(lambda: state.add_factor(ref, spec))
    return Reply(201, {"user_id": user_id, "factor": factor_json(factor)})


def remove_factor(request: ControlRequest) -> Reply:
    state = request.state()
    ref, which = request.params["user"], request.params["factor"]
    user_id = _user_id(state, ref)
    current = state.view.factors.get(user_id, ())
    kind = Factor.parse(which)
    if (kind is None or not kind.is_auth_factor) and not any(f.id == which for f in current):
        raise ControlError(
            404, f"{which!r} is no factor type (otp, u2f, otp_sms, otp_email) nor a factor id"
        )
    return Reply(200, {"user_id": user_id, "removed": state.remove_factor(ref, which)})


_USER_KEYS = ("username", "org", "id", "type", "auth_factors")


def add_user(request: ControlRequest) -> Reply:
    body = _object(request)

    def read() -> dict[str, Any]:
        expect_mapping(body, (), _USER_KEYS, ("username",))
        options: dict[str, Any] = {"username": expect_str(body["username"], ("username",))}
        if body.get("org") is not None:
            options["org"] = expect_str(body["org"], ("org",), allow_int=True)
        if body.get("id") is not None:
            options["id"] = expect_str(body["id"], ("id",), allow_int=True, max_len=MAX_USER_ID)
        if "type" in body:
            options["type"] = expect_str(body["type"], ("type",))
        if "auth_factors" in body:
            options["auth_factors"] = expect_list(body["auth_factors"], ("auth_factors",))
        return options

    options = _checked(read)
    user = _checked(lambda: request.state().add_user(**options))
    return Reply(201, user_json(user))


def add_token(request: ControlRequest) -> Reply:
    body = _object(request)

    def read() -> tuple[str, str, bool]:
        expect_mapping(body, (), ("token", "user", "expired"), ("token", "user"))
        expired = expect_bool(body["expired"], ("expired",)) if "expired" in body else False
        return (
            expect_str(body["token"], ("token",)),
            expect_str(body["user"], ("user",), allow_int=True),
            expired,
        )

    token, user, expired = _checked(read)
    entry = _checked(lambda: request.state().add_token(token, user, expired=expired))
    return Reply(201, token_json(entry))


def list_namespaces(request: ControlRequest) -> Reply:
    spaces = request.namespaces
    return Reply(
        200,
        {
            "namespaces": [{"name": n, "calls": len(s.journal)} for n, s in spaces.items()],
            "max": spaces.max_namespaces,
            "evicted": spaces.evicted,
        },
    )


def drop_namespace(request: ControlRequest) -> Reply:
    name = request.params["name"]
    if not request.namespaces.drop(name):
        raise ControlError(404, f"no namespace {name!r}")
    return Reply(200, {"dropped": name})


def usage(request: ControlRequest) -> Reply:
    """What no call exercised of the namespace's scenario, since the namespace serves it."""
    request.state()  # a namespace is made on first use, as by every operation
    found = UsageTracker.install(request.namespaces).usage(request.namespace)
    assert found is not None  # the namespace exists: made just above
    return Reply(200, {"namespace": request.namespace, **found.report()})


_FILTERS = ("rpc", "user", "org", "status")

OPERATIONS: tuple[Operation, ...] = (
    Operation("GET", "/health", health),
    Operation("POST", "/reset", reset),
    Operation("GET", "/scenario", get_scenario),
    Operation("PUT", "/scenario", replace_scenario),
    Operation("GET", "/journal", journal, _FILTERS),
    Operation("DELETE", "/journal", clear_journal),
    Operation("GET", "/journal/count", journal_count, _FILTERS),
    Operation("GET", "/errors", list_errors),
    Operation("POST", "/errors", add_error),
    Operation("DELETE", "/errors", clear_errors),
    Operation("PUT", "/orgs/{org}/second_factors", set_second_factors),
    Operation("DELETE", "/orgs/{org}/second_factors", clear_second_factors),
    Operation("POST", "/users", add_user),
    Operation("POST", "/users/{user}/factors", add_factor),
    Operation("DELETE", "/users/{user}/factors/{factor}", remove_factor),
    Operation("POST", "/tokens", add_token),
    Operation("GET", "/namespaces", list_namespaces),
    Operation("DELETE", "/namespaces/{name}", drop_namespace),
    Operation("GET", "/usage", usage),
)
