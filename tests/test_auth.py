"""Who may call: the seven checks in ZITADEL's order, and the role mapping (BEHAVIOR 5)."""

from __future__ import annotations

import pytest
from support import (
    ACME,
    ALICE,
    GLOBEX,
    MAIN,
    SECOND_FACTORS,
    auth_factors,
    bearer,
    checked,
    client,
)

from zitadel_mock.roles import INSTANCE_ROLES, ORG_ROLES

DETAIL = "type.googleapis.com/zitadel.v1.ErrorDetail"


def zerror(code: int, message: str, id: str) -> dict[str, object]:
    return {
        "code": code,
        "message": f"{message} ({id})",
        "details": [{"@type": DETAIL, "id": id, "message": message}],
    }


MISSING = {"code": 16, "message": "auth header missing"}
BAD_HEADER = zerror(16, "invalid auth header", "AUTH-toLo1")
BAD_TOKEN = zerror(16, "Errors.Token.Invalid", "AUTH-7fs1e")
NO_ORG = zerror(7, "Organisation doesn't exist", "AUTH-Bs7Ds")
NO_MEMBERSHIP = zerror(5, "membership not found", "AUTHZ-cdgFk")
NO_PERMISSION = zerror(7, "No matching permissions found", "AUTH-5mWD2")
TOO_LONG = {
    "code": 3,
    "message": "invalid ListHumanAuthFactorsRequest.UserId: "
    "value length must be between 1 and 200 runes, inclusive",
}
ROUTES = [SECOND_FACTORS, auth_factors(ALICE)]


def call(asgi: bool, path: str, headers: dict[str, str], text: str = MAIN) -> tuple[int, object]:
    result = client(text, asgi).simulate_post(path, headers=headers)
    body = checked(result)
    if result.status_code == 401:
        assert result.headers["www-authenticate"] == body["message"]
    else:
        assert "www-authenticate" not in result.headers
    return result.status_code, body


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize(
    ("headers", "status", "body"),
    [
        ({}, 401, MISSING),
        ({"Authorization": ""}, 401, MISSING),
        ({"Authorization": "bearer acme-admin"}, 401, BAD_HEADER),
        ({"Authorization": "BEARER acme-admin"}, 401, BAD_HEADER),
        ({"Authorization": "Bearer"}, 401, BAD_HEADER),
        ({"Authorization": "Basic YTpi"}, 401, BAD_HEADER),
        ({"Authorization": "Bearer  acme-admin"}, 401, BAD_TOKEN),
        ({"Authorization": "Bearer unknown"}, 401, BAD_TOKEN),
        ({"Authorization": "Bearer expired"}, 401, BAD_TOKEN),
        # HTTP trims the value's trailing white space, as Go's server does: "Bearer".
        ({"Authorization": "Bearer "}, 401, BAD_HEADER),
        ({**bearer("acme-admin"), "x-zitadel-orgid": "404"}, 403, NO_ORG),
        ({**bearer("acme-admin"), "x-zitadel-orgid": "ACME"}, 403, NO_ORG),  # a name is no id
        ({**bearer("acme-admin"), "x-zitadel-orgid": "not an id at all é"}, 403, NO_ORG),
        ({**bearer("acme-admin"), "x-zitadel-orgid": GLOBEX}, 404, NO_MEMBERSHIP),
        (bearer("loner"), 404, NO_MEMBERSHIP),
    ],
)
def test_each_check_and_its_exact_answer(
    asgi: bool, path: str, headers: dict[str, str], status: int, body: object
) -> None:
    assert call(asgi, path, headers) == (status, body)


def test_permission_check(asgi: bool) -> None:
    # ORG_SETTINGS_MANAGER grants policy.read but not user.read.
    assert call(asgi, SECOND_FACTORS, bearer("acme-settings"))[0] == 200
    assert call(asgi, auth_factors(ALICE), bearer("acme-settings")) == (403, NO_PERMISSION)


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        # An invalid token AND an unknown org: the token is checked first.
        ({**bearer("unknown"), "x-zitadel-orgid": "404"}, BAD_TOKEN),
        # A bad scheme AND an unknown org.
        ({"Authorization": "Token x", "x-zitadel-orgid": "404"}, BAD_HEADER),
        # An unknown org AND no membership anywhere.
        ({**bearer("loner"), "x-zitadel-orgid": "404"}, NO_ORG),
    ],
)
def test_checks_run_in_order(asgi: bool, headers: dict[str, str], body: object) -> None:
    assert call(asgi, SECOND_FACTORS, headers)[1] == body


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        # An over-long user id AND each auth failure: the auth failure answers.
        ({}, MISSING),
        ({"Authorization": "x"}, BAD_HEADER),
        (bearer("unknown"), BAD_TOKEN),
        ({**bearer("acme-admin"), "x-zitadel-orgid": "404"}, NO_ORG),
        (bearer("loner"), NO_MEMBERSHIP),
        (bearer("acme-settings"), NO_PERMISSION),
        (bearer("acme-admin"), TOO_LONG),
    ],
)
def test_validation_comes_last(asgi: bool, headers: dict[str, str], body: object) -> None:
    assert call(asgi, auth_factors("x" * 201), headers)[1] == body


@pytest.mark.parametrize("user_id", ["x" * 201, "é" * 201, "🔑" * 201])
def test_user_id_over_200_runes_is_invalid(asgi: bool, user_id: str) -> None:
    assert call(asgi, auth_factors(user_id), bearer("acme-admin")) == (400, TOO_LONG)


def test_empty_user_id_is_invalid(asgi: bool) -> None:
    path = "/management/v1/users//auth_factors/_search"
    assert call(asgi, path, bearer("acme-admin")) == (400, TOO_LONG)


def test_second_factors_has_no_validation_step(asgi: bool) -> None:
    assert call(asgi, SECOND_FACTORS, bearer("acme-admin"))[0] == 200


def test_instance_roles_count_in_every_org(asgi: bool) -> None:
    for org in (ACME, GLOBEX):
        headers = {**bearer("iam-viewer"), "x-zitadel-orgid": org}
        assert call(asgi, SECOND_FACTORS, headers)[0] == 200
        assert call(asgi, auth_factors(ALICE), headers)[0] == 200


def test_without_tokens_any_bearer_acts_as_iam_owner_of_the_first_org(asgi: bool) -> None:
    text = """
    version: 1
    orgs:
      - {name: First, id: "1", login_policy: {second_factors: [otp_sms]}}
      - {name: Second, id: "2", login_policy: {second_factors: [u2f]}}
    """
    status, body = call(asgi, SECOND_FACTORS, bearer("anything at all"), text)
    assert (status, body["result"]) == (200, ["SECOND_FACTOR_TYPE_OTP_SMS"])  # type: ignore[index]
    status, body = call(asgi, SECOND_FACTORS, {**bearer("x"), "x-zitadel-orgid": "2"}, text)
    assert body["result"] == ["SECOND_FACTOR_TYPE_U2F"]  # type: ignore[index]
    assert call(asgi, SECOND_FACTORS, {"Authorization": "Token x"}, text)[1] == BAD_HEADER
    assert call(asgi, SECOND_FACTORS, {"Authorization": "Bearer  "}, text)[1] == BAD_HEADER


USER_READ = {
    "IAM_OWNER", "IAM_OWNER_VIEWER", "IAM_ORG_MANAGER", "IAM_USER_MANAGER", "IAM_LOGIN_CLIENT",
    "ORG_OWNER", "ORG_USER_MANAGER", "ORG_OWNER_VIEWER", "ORG_USER_PERMISSION_EDITOR",
    "ORG_PROJECT_PERMISSION_EDITOR", "PROJECT_OWNER", "PROJECT_OWNER_VIEWER",
    "PROJECT_GRANT_OWNER", "PROJECT_GRANT_OWNER_VIEWER",
}  # fmt: skip
POLICY_READ = {
    "IAM_OWNER", "IAM_OWNER_VIEWER", "IAM_ORG_MANAGER", "IAM_LOGIN_CLIENT", "ORG_OWNER",
    "ORG_USER_MANAGER", "ORG_OWNER_VIEWER", "ORG_SETTINGS_MANAGER", "ORG_USER_PERMISSION_EDITOR",
    "ORG_PROJECT_PERMISSION_EDITOR", "ORG_PROJECT_CREATOR", "PROJECT_OWNER",
    "PROJECT_OWNER_VIEWER", "SELF_MANAGEMENT_GLOBAL", "ORG_USER_SELF_MANAGER",
    "PROJECT_OWNER_GLOBAL", "PROJECT_OWNER_VIEWER_GLOBAL", "PROJECT_GRANT_OWNER",
    "PROJECT_GRANT_OWNER_VIEWER",
}  # fmt: skip


def role_scenario(role: str) -> str:
    members = f"members: [{{user: caller, roles: [{role}]}}]"
    instance = members if role in INSTANCE_ROLES else ""
    org = members if role in ORG_ROLES else ""
    return f"""
    version: 1
    instance: {{{instance}}}
    orgs:
      - {{name: A, id: "1", {org}{"," if org else ""} users: [{{username: caller, type: machine}}]}}
    tokens: [{{token: t, user: caller}}]
    """


@pytest.mark.parametrize("role", sorted(INSTANCE_ROLES | ORG_ROLES))
def test_role_to_permission_mapping(asgi: bool, role: str) -> None:
    text = role_scenario(role)
    user_status = call(asgi, auth_factors("1"), bearer("t"), text)
    policy_status = call(asgi, SECOND_FACTORS, bearer("t"), text)
    assert user_status == ((200, {}) if role in USER_READ else (403, NO_PERMISSION))
    assert policy_status[0] == (200 if role in POLICY_READ else 403)
