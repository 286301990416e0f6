"""ZITADEL's default role-to-permission mapping, for the two permissions the routes need."""

from __future__ import annotations

__all__ = ["INSTANCE_ROLES", "ORG_ROLES", "POLICY_READ", "ROLES", "USER_READ", "grants"]

USER_READ = "user.read"
POLICY_READ = "policy.read"

# From ZITADEL's defaults.yaml (InternalAuthZ.RolePermissionMappings), restricted to the two
# permissions that the mocked routes check.
_GRANTS: dict[str, frozenset[str]] = {
    USER_READ: frozenset(
        {
            "IAM_OWNER",
            "IAM_OWNER_VIEWER",
            "IAM_ORG_MANAGER",
            "IAM_USER_MANAGER",
            "IAM_LOGIN_CLIENT",
            "ORG_OWNER",
            "ORG_USER_MANAGER",
            "ORG_OWNER_VIEWER",
            "ORG_USER_PERMISSION_EDITOR",
            "ORG_PROJECT_PERMISSION_EDITOR",
            "PROJECT_OWNER",
            "PROJECT_OWNER_VIEWER",
            "PROJECT_GRANT_OWNER",
            "PROJECT_GRANT_OWNER_VIEWER",
        }
    ),
    POLICY_READ: frozenset(
        {
            "IAM_OWNER",
            "IAM_OWNER_VIEWER",
            "IAM_ORG_MANAGER",
            "IAM_LOGIN_CLIENT",
            "ORG_OWNER",
            "ORG_USER_MANAGER",
            "ORG_OWNER_VIEWER",
            "ORG_SETTINGS_MANAGER",
            "ORG_USER_PERMISSION_EDITOR",
            "ORG_PROJECT_PERMISSION_EDITOR",
            "ORG_PROJECT_CREATOR",
            "PROJECT_OWNER",
            "PROJECT_OWNER_VIEWER",
            "SELF_MANAGEMENT_GLOBAL",
            "ORG_USER_SELF_MANAGER",
            "PROJECT_OWNER_GLOBAL",
            "PROJECT_OWNER_VIEWER_GLOBAL",
            "PROJECT_GRANT_OWNER",
            "PROJECT_GRANT_OWNER_VIEWER",
        }
    ),
}

# Roles that ZITADEL knows at each level, whether or not they grant either permission.
INSTANCE_ROLES: frozenset[str] = frozenset(
    {
        "IAM_OWNER",
        "IAM_OWNER_VIEWER",
        "IAM_ORG_MANAGER",
        "IAM_USER_MANAGER",
        "IAM_LOGIN_CLIENT",
        "IAM_END_USER_IMPERSONATOR",
        "IAM_ADMIN_IMPERSONATOR",
    }
)
ORG_ROLES: frozenset[str] = frozenset(
    {
        "ORG_OWNER",
        "ORG_USER_MANAGER",
        "ORG_OWNER_VIEWER",
        "ORG_SETTINGS_MANAGER",
        "ORG_USER_PERMISSION_EDITOR",
        "ORG_PROJECT_PERMISSION_EDITOR",
        "ORG_PROJECT_CREATOR",
        "ORG_END_USER_IMPERSONATOR",
        "ORG_ADMIN_IMPERSONATOR",
        "ORG_USER_SELF_MANAGER",
        "SELF_MANAGEMENT_GLOBAL",
        "PROJECT_OWNER_GLOBAL",
        "PROJECT_OWNER_VIEWER_GLOBAL",
        "PROJECT_OWNER",
        "PROJECT_OWNER_VIEWER",
        "PROJECT_GRANT_OWNER",
        "PROJECT_GRANT_OWNER_VIEWER",
    }
)
ROLES: frozenset[str] = INSTANCE_ROLES | ORG_ROLES


def grants(roles: frozenset[str], permission: str) -> bool:
    """Tell whether any of ``roles`` grants ``permission``."""
    return not roles.isdisjoint(_GRANTS[permission])
