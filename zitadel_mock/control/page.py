"""The live page at ``GET /_mock/``: what the mock serves and what it answered, in a browser.

One self-contained HTML document (inline CSS and JavaScript: no CDN, no build step, works
offline) that polls ``GET /_mock/page.json`` every second. That JSON is read-only and bounded:
at most ``MAX_LISTED`` orgs, users and tokens, and the last ``MAX_ROWS`` calls of the journal
that match the filters, so a page left open on a busy mock costs little. The page writes every
value it shows with ``textContent``, never as HTML: a path or token sent by anyone who can
reach the mock is shown as text, never run.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ..faults import total_times
from ..journal import Call, parse_status, resolve, select, shown
from ..model import ALL_RPCS, ErrorRule
from ..state import View
from .forms import ControlError, ControlRequest, Reply, factor_json, rule_json, token_json
from .page_html import PAGE_HTML

__all__ = [
    "MAX_LISTED",
    "MAX_ROWS",
    "PAGE_FILTERS",
    "PAGE_HTML",
    "authorization_token",
    "basic_password",
    "page_json",
    "serve_page",
    "wants_page",
]

MAX_LISTED = 500  # orgs, users and tokens each: a scenario of 100,000 users stays a small page
MAX_ROWS = 200  # journal rows sent per poll, the newest
PAGE_FILTERS = ("rpc", "user", "org", "status")


def wants_page(accept: str | None) -> bool:
    """Whether a request for ``/_mock/`` asks for the page (a browser) rather than the JSON.

    Browsers send ``Accept: text/html,...`` when they navigate; curl, requests and the
    OpenAPI tools send ``*/*`` or ``application/json`` and keep getting the OpenAPI document.
    """
    return accept is not None and "text/html" in accept.lower()


def _first(values: Any) -> list[Any]:
    """The first ``MAX_LISTED`` distinct items of a view's index (it holds each by id and name).

    Only the items shown are read and turned into JSON.
    """
    shown: dict[int, Any] = {}
    for value in values:
        shown.setdefault(id(value), value)
        if len(shown) == MAX_LISTED:
            break
    return list(shown.values())


def _count(values: Any) -> int:
    return len({id(value) for value in values})


# How many orgs, users and tokens each namespace's current view has. Counting means reading
# every item (0.2 s for 100,000 users); a view never changes, so each is counted once. Each
# namespace keeps only its current view here, and at most _MAX_COUNTED namespaces are kept.
_MAX_COUNTED = 64
_counted: OrderedDict[tuple[int, str], tuple[View, tuple[int, int, int]]] = OrderedDict()
_counted_lock = threading.Lock()


def _totals(request: ControlRequest, view: View) -> tuple[int, int, int]:
    key = (id(request.namespaces), request.namespace)
    with _counted_lock:
        known = _counted.get(key)
    if known is not None and known[0] is view:
        return known[1]
    totals = (_count(view.orgs.values()), _count(view.users.values()), _count(view.tokens.values()))
    with _counted_lock:
        _counted[key] = (view, totals)
        _counted.move_to_end(key)
        while len(_counted) > _MAX_COUNTED:
            _counted.popitem(last=False)
    return totals


def _limited(values: Any, total: int, form: Any) -> dict[str, Any]:
    return {"items": [form(value) for value in _first(values)], "total": total}


def _fired(index: int, rule: ErrorRule, remaining: int | None, calls: list[Call]) -> int:
    """How often rule ``index`` (counted from 0, as ``why`` names it) fired.

    A rule with an end fired its total less what remains; one without an end is counted in
    the journal, by the rule each forced answer records.
    """
    total = total_times(rule)
    if total is not None and remaining is not None:
        return total - remaining
    return sum(1 for call in calls if call.injected is not None and call.injected.rule == index)


def _one(request: ControlRequest, key: str) -> str | None:
    values = [value for value in request.query.get(key, []) if value != ""]
    if len(values) > 1:
        raise ControlError(400, f"query parameter {key!r} is given {len(values)} times")
    return values[0] if values else None


def page_json(request: ControlRequest) -> Reply:
    """Everything the page shows, for the request's namespace, in one bounded answer."""
    state = request.state()
    view = state.view
    rpc, user, org, status = (_one(request, key) for key in PAGE_FILTERS)
    if rpc is not None and rpc not in ALL_RPCS:
        raise ControlError(400, f"rpc: {shown(rpc)} is not one of {', '.join(ALL_RPCS)}")
    try:
        wanted = (
            resolve("user", user, view.users) if user is not None else None,
            resolve("org", org, view.orgs) if org is not None else None,
            parse_status(status) if status is not None else None,
        )
    except ValueError as exc:
        raise ControlError(400, str(exc)) from None
    calls = state.journal.calls()
    chosen = select(calls, rpc, *wanted)

    orgs, users, tokens = _totals(request, view)

    def user_form(u: Any) -> dict[str, Any]:
        factors = [factor_json(f) for f in view.factors.get(u.id, ())]
        return {
            "id": u.id,
            "username": u.username,
            "org_id": u.org_id,
            "type": u.type.value,
            "auth_factors": factors,
        }

    rules = []
    for index, rule, remaining in state.numbered_errors():
        rules.append(
            {
                "index": index,
                "origin": rule.origin,
                "fired": _fired(index, rule, remaining, calls),
                **rule_json(rule, remaining),
            }
        )
    spaces = request.namespaces
    return Reply(
        200,
        {
            "namespace": request.namespace,
            "namespaces": [{"name": n, "calls": len(s.journal)} for n, s in spaces.items()],
            "scenario": {
                "source": state.scenario.source,
                "zitadel_version": state.scenario.zitadel_version,
                "orgs": _limited(view.orgs.values(), orgs, lambda o: {"id": o.id, "name": o.name}),
                "users": _limited(view.users.values(), users, user_form),
                # None: the scenario lists no tokens, so any bearer token acts as IAM_OWNER.
                "tokens": None
                if view.open_tokens
                else _limited(view.tokens.values(), tokens, token_json),
            },
            "rules": rules,
            "rpcs": list(ALL_RPCS),
            "journal": {
                "calls": [call.to_dict() for call in chosen[-MAX_ROWS:]],
                "count": len(chosen),
                "total": len(calls),
                "dropped": state.journal.dropped,
            },
        },
    )


def authorization_token(header: str) -> str | None:
    """The control token an ``Authorization`` header carries: Bearer's, or Basic's password."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        return basic_password(value.strip())
    return None


def basic_password(value: str) -> str | None:
    """The password of a Basic credential (any user name), as latin-1 text like a header's.

    A browser cannot add a header to a page it navigates to: the live page asks for the token
    with Basic's prompt (the token as the password), and the browser then sends it on the
    page's own requests too.
    """
    try:
        decoded = base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        return None
    _, colon, password = decoded.partition(b":")
    return password.decode("latin-1") if colon else None


# The page runs only its own inline script and talks only to this server; no frame may hold it.
_PAGE_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)
_PAGE_REALM = 'Basic realm="zitadel-mock control API (the token as the password)", charset="UTF-8"'


def serve_page(req: Any, resp: Any, prefix: str, refused: Callable[[Any], object]) -> bool:
    """Answer ``GET {prefix}/`` from a browser with the page; False if it is no such request.

    ``refused`` is the control API's token check: the page is closed where the API is.
    """
    if req.method != "GET" or req.path not in (prefix, prefix + "/"):
        return False
    if not wants_page(req.get_header("Accept")):
        return False
    resp.set_header("Cache-Control", "no-store")
    if refused(req) is not None:
        resp.status = 401
        resp.content_type = "text/plain; charset=utf-8"
        resp.data = b"the control API needs its token: give it as the password\n"
        resp.set_header("WWW-Authenticate", _PAGE_REALM)
        return True
    resp.status = 200
    resp.content_type = "text/html; charset=utf-8"
    resp.data = PAGE_HTML.encode()
    resp.set_header("Content-Security-Policy", _PAGE_POLICY)
    resp.set_header("X-Content-Type-Options", "nosniff")
    resp.set_header("Referrer-Policy", "no-referrer")
    return True
