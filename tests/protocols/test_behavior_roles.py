"""BEHAVIOR 5: which roles grant ``user.read`` and ``policy.read`` (ZITADEL's default mapping),
and where a membership counts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from falcon.testing import TestClient
from testkit import SECOND_FACTORS, auth_factors

from zitadel_mock.roles import INSTANCE_ROLES, ROLES

Make = Callable[..., TestClient]

# The two permissions' grantees, as ZITADEL's defaults.yaml maps them.
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
NO_PERMISSION = "No matching permissions found (AUTH-5mWD2)"
ROUTE_PERMISSION = {SECOND_FACTORS: POLICY_READ, auth_factors("1"): USER_READ}


def one_role(role: str) -> str:
    """A caller, home in org A, with one role: at the instance or in org A, where it belongs."""
    member = f"members: [{{user: caller, roles: [{role}]}}]"
    instance, org = (member, "") if role in INSTANCE_ROLES else ("", member + ",")
    return f"""
    version: 1
    instance: {{{instance}}}
    orgs:
      - {{name: A, id: "1", {org} users: [{{username: caller, id: "2", type: machine}}]}}
    tokens: [{{token: t, user: caller}}]
    """


def test_every_granting_role_is_a_known_role() -> None:
    assert USER_READ <= ROLES
    assert POLICY_READ <= ROLES


@pytest.mark.parametrize("path", list(ROUTE_PERMISSION), ids=["policy.read", "user.read"])
@pytest.mark.parametrize("role", sorted(ROLES))
def test_exactly_the_listed_roles_grant_the_permission(
    make_client: Make, role: str, path: str
) -> None:
    result = make_client(one_role(role)).simulate_post(path, headers={"Authorization": "Bearer t"})
    if role in ROUTE_PERMISSION[path]:
        assert result.status_code == 200
    else:
        # A member without the permission: 403, never 404 (the membership exists).
        assert (result.status_code, result.json["message"]) == (403, NO_PERMISSION)


TWO_ORGS = """
version: 1
instance:
  members:
    - {user: instance-user-manager, roles: [IAM_USER_MANAGER]}
    - {user: mixed, roles: [IAM_USER_MANAGER]}
orgs:
  - name: A
    id: "1"
    members:
      - {user: owner, roles: [ORG_OWNER]}
      - {user: mixed, roles: [ORG_SETTINGS_MANAGER]}
      - {user: several, roles: [ORG_END_USER_IMPERSONATOR, ORG_SETTINGS_MANAGER]}
    users:
      - {username: owner, type: machine}
      - {username: mixed, type: machine}
      - {username: several, type: machine}
  - name: B
    id: "2"
    users:
      - {username: instance-user-manager, type: machine}
tokens:
  - {token: owner, user: owner}
  - {token: mixed, user: mixed}
  - {token: several, user: several}
  - {token: instance-user-manager, user: instance-user-manager}
"""


def status(client: TestClient, path: str, token: str, org: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    if org is not None:
        headers["x-zitadel-orgid"] = org
    return client.simulate_post(path, headers=headers).status_code


@pytest.fixture
def client(make_client: Make) -> TestClient:
    return make_client(TWO_ORGS)


def test_instance_roles_count_in_every_org(client: TestClient) -> None:
    # IAM_USER_MANAGER grants user.read, not policy.read, wherever the caller looks.
    for org in (None, "1", "2"):
        assert status(client, auth_factors("1"), "instance-user-manager", org) == 200
        assert status(client, SECOND_FACTORS, "instance-user-manager", org) == 403


def test_org_roles_count_in_their_org_only(client: TestClient) -> None:
    assert status(client, SECOND_FACTORS, "owner", "1") == 200
    assert status(client, SECOND_FACTORS, "owner", "2") == 404


def test_instance_and_org_roles_add_up(client: TestClient) -> None:
    # In A: IAM_USER_MANAGER (user.read) and ORG_SETTINGS_MANAGER (policy.read); in B only the
    # instance role.
    assert status(client, SECOND_FACTORS, "mixed", "1") == 200
    assert status(client, auth_factors("1"), "mixed", "1") == 200
    assert status(client, SECOND_FACTORS, "mixed", "2") == 403
    assert status(client, auth_factors("1"), "mixed", "2") == 200


def test_one_granting_role_among_several_is_enough(client: TestClient) -> None:
    assert status(client, SECOND_FACTORS, "several") == 200
    assert status(client, auth_factors("1"), "several") == 403
